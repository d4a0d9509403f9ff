"""SPEC 8 fail-over: kill -9 of the primary PostgreSQL of a Patroni cluster while 16 clients
post, each retrying its external_id until acknowledged.  The same API process goes on
writing once the synchronous standby is promoted; every acknowledged completion is in the log
exactly once; no 5xx but 503; positions dense; the chain verifies; the old primary is back
as the synchronous standby (pg_rewind).  Three rounds."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest

from ledger.infra.database import create_database
from tests.faults.harness import (
    Server,
    Tally,
    completion_counts,
    environ_with,
    figures,
    post_until_acknowledged,
    posting,
    seed,
)
from ledger.infra.cluster import PatroniCluster

pytestmark = pytest.mark.cluster

WRITERS, MANAGERS, ROUNDS = 16, 16, 3


@pytest.fixture(scope="module")
def patroni() -> Iterator[PatroniCluster]:
    cluster = PatroniCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


async def ceu_ledger(dsn: str, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ledger.cli", *args, env=environ_with(DATABASE_URL=dsn),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


@pytest.fixture
async def failover_server(patroni: PatroniCluster, tmp_path) -> AsyncIterator[Server]:
    await create_database(patroni.dsn(), "ledger")
    dsn = patroni.dsn("ledger")
    code, out = await ceu_ledger(dsn, "migrate")
    assert code == 0, out
    server = Server(dsn, tmp_path / "server.log")
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def wait_until(predicate, seconds: float) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() - started < seconds, "timed out"
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def test_kill_9_of_the_primary_under_load_loses_nothing_acknowledged(
    patroni: PatroniCluster, failover_server: Server
) -> None:
    server = failover_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        token = await seed(http, MANAGERS)
    tally = Tally()
    acknowledged: set[str] = set()
    stop = False

    async def writer(n: int) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            i = 0
            while not stop:
                body = posting(f"fo-{n}-{i}", n % MANAGERS)
                await post_until_acknowledged(http, token, body, tally)
                acknowledged.add(body["external_id"])
                i += 1

    rounds: list[tuple[float, float, float]] = []
    writers = [asyncio.create_task(writer(n)) for n in range(WRITERS)]
    try:
        for _ in range(ROUNDS):
            await asyncio.sleep(2)
            primary = patroni.primary()
            assert primary is not None
            pid = primary.postmaster_pid()
            assert pid is not None
            before = len(acknowledged)
            killed = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            # Writes succeed again: more acknowledgements than at the kill, after it.
            while len(acknowledged) <= before + WRITERS:
                await asyncio.sleep(0.05)
            writes_back = time.monotonic() - killed
            old = primary
            promoted = await wait_until(lambda old=old: patroni.primary() not in (None, old), 60)
            rejoined = await wait_until(patroni.healthy, 120)
            rounds.append((round(writes_back, 2), round(promoted, 2), round(rejoined, 2)))
            assert primary.role() == "replica", "the old primary is back as a standby"
        await asyncio.sleep(1)
    finally:
        stop = True
        await asyncio.gather(*writers, return_exceptions=True)

    dsn = patroni.dsn("ledger")
    counts = await completion_counts(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        count, head = await conn.fetchrow("SELECT count(*), max(position) FROM events")
    finally:
        await conn.close()
    code, out = await ceu_ledger(dsn, "verify")
    figures(
        "failover",
        rounds="; ".join(
            f"writes back {w} s, promoted {p} s, rejoined {r} s" for w, p, r in rounds
        ),
        acknowledged=len(acknowledged),
        found=sum(1 for e in acknowledged if counts[e] >= 1),
        duplicates=sum(1 for n in counts.values() if n > 1),
        status_503=tally.statuses[503],
        other_5xx=tally.server_errors,
        no_answer=tally.transport_errors,
    )
    assert all(counts[e] == 1 for e in acknowledged), "acknowledged = found, once each"
    assert all(n == 1 for n in counts.values())
    assert tally.server_errors == 0
    assert tally.bad_503 == 0
    assert count == head, "positions dense"
    assert code == 0, out
