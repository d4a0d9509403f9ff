"""SPEC 8 read replicas: reads through a replica that applies each commit 200 ms late
(`recovery_min_apply_delay`) never miss the caller's own write when it says `Min-Position`;
without it the same reads do miss it, so the test can tell."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.faults.cluster import Cluster
from tests.faults.harness import Server, Tally, figures, posting, seed

pytestmark = pytest.mark.cluster

PAIRS, CLIENTS, MANAGERS = 1000, 20, 20


@pytest.fixture
def delayed_replica(cluster: Cluster, ledger_dsn: str) -> Iterator[Cluster]:
    replica = cluster.replica()
    replica.start("-c recovery_min_apply_delay=200ms", "-c hot_standby_feedback=on")
    try:
        yield replica
    finally:
        replica.remove()
        shutil.rmtree(replica.data.parent, ignore_errors=True)


async def write_then_read(
    server: Server, token: str, pairs: int, *, min_position: bool, prefix: str
) -> tuple[int, Tally, float]:
    """`pairs` posts, each followed by a GET of the completion it created; how many GETs
    did not find it (404: the replica had not replayed it)."""
    tally = Tally()
    stale = 0
    waits: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}

    async def client(n: int) -> None:
        nonlocal stale
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            for i in range(n, pairs, CLIENTS):
                body = posting(f"{prefix}-{i}", i % MANAGERS)
                posted = await http.post("/v1/completions", json=body, headers=headers)
                tally.saw(posted)
                assert posted.status_code == 201, posted.text
                position = posted.headers["ledger-position"]
                assert int(position) == posted.json()["position"]
                read_headers = {**headers, "Min-Position": position} if min_position else headers
                started = time.monotonic()
                read = await http.get(
                    f"/v1/completions/{posted.json()['id']}", headers=read_headers
                )
                waits.append(time.monotonic() - started)
                tally.saw(read)
                assert read.status_code in (200, 404), read.text
                stale += read.status_code == 404

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return stale, tally, sorted(waits)[len(waits) // 2]


@pytest.mark.no_projectors
async def test_a_read_with_min_position_through_a_delayed_replica_never_misses_its_write(
    ledger_dsn: str, delayed_replica: Cluster, tmp_path
) -> None:
    replica_dsn = delayed_replica.dsn(urlsplit(ledger_dsn).path.lstrip("/"))
    server = Server(ledger_dsn, tmp_path / "server.log", projectors=False, replicas=(replica_dsn,))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            token = await seed(http, MANAGERS)
        stale, tally, median_wait = await write_then_read(
            server, token, PAIRS, min_position=True, prefix="ryw"
        )
        without, _, median_without = await write_then_read(
            server, token, 200, min_position=False, prefix="stale"
        )
    finally:
        await server.close()
    figures(
        "replica_reads",
        pairs=PAIRS,
        stale_with_min_position=stale,
        median_read_s=round(median_wait, 3),
        stale_without_of_200=without,
        median_read_without_s=round(median_without, 3),
    )
    assert stale == 0
    assert tally.server_errors == 0
    assert without > 0, "without Min-Position the delayed replica must be seen behind"
