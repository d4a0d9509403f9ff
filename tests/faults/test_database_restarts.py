"""PostgreSQL stopped and started under load: 503s (never 500) while it is down, then the
same server process recovers by itself, and the projections reach the head again."""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from collections import Counter

import asyncpg
import httpx

from projections.registry import all_projections
from tests.faults.cluster import Cluster
from tests.faults.harness import (
    ADMIN_TOKEN,
    Server,
    Tally,
    completion_counts,
    figures,
    post_until_acknowledged,
    posting,
    seed,
    wait_for,
)

ROUNDS = 6
DOWN_SECONDS = 3.0
WRITERS = READERS = 4
RECOVERY_BOUND = 5.0  # SPEC section 6
CATCH_UP_BOUND = 10.0


async def _projections_at_head(dsn: str, head: int) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT position FROM projection_checkpoints")
    finally:
        await conn.close()
    return len(rows) == len(all_projections()) and all(row[0] >= head for row in rows)


async def _head(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT position FROM event_head")
    finally:
        await conn.close()


class _Load:
    """Writers and readers against the server while PostgreSQL restarts, and what they saw."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.tally = Tally()
        self.unexpected: list[tuple[int, str]] = []
        self.acknowledged: dict[str, dict] = {}
        self.done = asyncio.Event()

    def start(self) -> list[asyncio.Task[None]]:
        load = [asyncio.create_task(self.writer(w)) for w in range(WRITERS)]
        return load + [asyncio.create_task(self.reader(r)) for r in range(READERS)]

    async def writer(self, w: int) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            for i in itertools.count():
                if self.done.is_set():
                    return
                external_id = f"w{w}-{i}"
                body = posting(external_id, manager=w)
                self.acknowledged[external_id] = await post_until_acknowledged(
                    client, self.token, body, self.tally
                )

    async def reader(self, r: int) -> None:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            while not self.done.is_set():
                try:
                    response = await client.get(f"/v1/managers/m-{r}/status", headers=admin)
                except httpx.TransportError:
                    self.tally.transport_errors += 1
                else:
                    self.tally.saw(response)
                    if response.status_code not in (200, 503):
                        self.unexpected.append((response.status_code, response.text))
                await asyncio.sleep(0.02)

    async def recovered(self, external_id: str) -> bool:
        """A write and /health both succeed (each a round trip through the pool)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            try:
                health = await client.get("/health")
                write = await client.post(
                    "/v1/completions",
                    json=posting(external_id, manager=0),
                    headers={"Authorization": f"Bearer {self.token}"},
                )
            except httpx.TransportError:
                return False
        self.tally.saw(health)
        self.tally.saw(write)
        if write.status_code in (200, 201):
            self.acknowledged[external_id] = write.json()
        return health.status_code == 200 and write.status_code in (200, 201)


Round = tuple[str, int, float, float]  # stop mode, 503s answered, recovery s, catch-up s


async def _restart_rounds(
    cluster: Cluster, load: _Load, ledger_dsn: str
) -> tuple[list[Round], list[httpx.Response]]:
    """ROUNDS stops and starts of PostgreSQL under `load`: each round's figures, and the
    /health answered while it was down."""
    rounds: list[Round] = []
    health_while_down: list[httpx.Response] = []
    async with asyncio.timeout(ROUNDS * 30):
        await asyncio.sleep(1)
        for n in range(ROUNDS):
            mode = "fast" if n % 2 == 0 else "immediate"
            before = load.tally.statuses[503]
            await asyncio.to_thread(cluster.stop, mode)
            async with httpx.AsyncClient(base_url=load.url, timeout=10) as client:
                health_while_down.append(await client.get("/health"))
            await asyncio.sleep(DOWN_SECONDS)
            await asyncio.to_thread(cluster.start)
            recovery = await wait_for(lambda n=n: load.recovered(f"probe-{n}"), 30)
            head = await _head(ledger_dsn)
            started = time.monotonic()
            await wait_for(lambda head=head: _projections_at_head(ledger_dsn, head), 60)
            catch_up = recovery + time.monotonic() - started
            rounds.append((mode, load.tally.statuses[503] - before, recovery, catch_up))
            await asyncio.sleep(1)  # some load with the database up
    return rounds, health_while_down


def _report(
    rounds: list[Round], load: _Load, counts: Counter[str], server: Server, shutdown: float
) -> None:
    tally = load.tally
    for n, (mode, answered_503, recovery, catch_up) in enumerate(rounds, 1):
        figures(
            f"postgres restart round {n} (-m {mode}, {DOWN_SECONDS:.0f} s down)",
            http_503=answered_503,
            seconds_to_recover=f"{recovery:.2f}",
            seconds_to_projections_at_head=f"{catch_up:.2f}",
        )
    figures(
        "postgres restarts, totals",
        acknowledged=len(load.acknowledged),
        found=len(counts),
        duplicates=sum(n - 1 for n in counts.values()),
        http_2xx=sum(n for s, n in tally.statuses.items() if 200 <= s < 300),
        http_503=tally.statuses[503],
        http_5xx_not_503=tally.server_errors,
        http_503_not_problem_json_or_no_retry_after=tally.bad_503,
        tracebacks_in_log=server.log_lines("Traceback"),
        db_warnings_in_log=server.log_lines("database unavailable"),
        projector_warnings_in_log=server.log_lines("stopped:"),
        seconds_to_stop_with_postgres_down=f"{shutdown:.2f}",
    )


def _assert_the_outages_show_after_recovery(health: dict, metrics: str) -> None:
    """The runners' outages show after they recovered: the last error, and when."""
    for name in ("ceu", "stream_summaries"):
        projection = health["projections"][name]
        assert projection["consecutive_failures"] == 0
        assert projection["last_error"]
        assert projection["last_error_at"]
        assert f'ceu_ledger_projection_consecutive_failures{{projection="{name}"}} 0.0' in metrics
        assert f'ceu_ledger_projection_last_error_timestamp_seconds{{projection="{name}"}}' in (
            metrics
        )


async def test_postgres_restarted_under_load_gives_503s_then_the_server_recovers_by_itself(
    cluster: Cluster, server: Server, ledger_dsn: str
):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        token = await seed(client, managers=WRITERS)
    load = _Load(server.url, token)
    tasks = load.start()
    try:
        rounds, health_while_down = await _restart_rounds(cluster, load, ledger_dsn)
    finally:
        load.done.set()
        await asyncio.gather(*tasks)

    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        health = (await client.get("/health")).json()
        metrics = (await client.get("/metrics")).text

    # Last, a stop while PostgreSQL is down must not hang ("Waiting for application shutdown").
    await asyncio.to_thread(cluster.stop, "immediate")
    started = time.monotonic()
    exit_code = await server.stop()
    shutdown = time.monotonic() - started
    await asyncio.to_thread(cluster.start)

    counts = await completion_counts(ledger_dsn)
    _report(rounds, load, counts, server, shutdown)
    tally = load.tally
    assert tally.server_errors == 0, "never a 500 while PostgreSQL restarts"
    assert [r.status_code for r in health_while_down] == [503] * ROUNDS
    for response in health_while_down:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["retry-after"] == "1"
    _assert_the_outages_show_after_recovery(health, metrics)
    assert tally.bad_503 == 0
    assert load.unexpected == []
    assert all(answered > 0 for _, answered, _, _ in rounds), "the outage was seen as 503s"
    assert all(recovery <= RECOVERY_BOUND for _, _, recovery, _ in rounds)
    assert all(catch_up <= CATCH_UP_BOUND for _, _, _, catch_up in rounds)
    assert set(counts) >= set(load.acknowledged)
    assert set(counts.values()) == {1}
    assert server.log_lines("Traceback") == 0
    # uvicorn re-raises SIGTERM once its graceful shutdown (the lifespan included) is over.
    assert exit_code in (0, -signal.SIGTERM)
