"""SPEC 8 fail-over: kill -9 of the primary PostgreSQL of a Patroni cluster while 16 clients
post, each retrying its external_id until acknowledged.  The same API process goes on
writing once the synchronous standby is promoted; every acknowledged completion is in the log
exactly once; no 5xx but 503; positions dense; the chain verifies; the old primary is back
as the synchronous standby (pg_rewind).  Three rounds."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from ledger.infra import pgtools
from ledger.infra.cluster import PASSWORD, Node, PatroniCluster
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

pytestmark = pytest.mark.cluster

WRITERS, MANAGERS, ROUNDS = 16, 16, 3
_databases = itertools.count(1)


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
    """The service on a database of the test's own on the cluster (seeded by the test)."""
    database = f"ledger_{next(_databases)}"
    await create_database(patroni.dsn(), database)
    dsn = patroni.dsn(database)
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


class Writers:
    """WRITERS clients posting completions, each retrying its external_id until acknowledged
    (a provider's integration), until `stop`; what was acknowledged, and every answer."""

    def __init__(self, server: Server, token: str) -> None:
        self.server, self.token = server, token
        self.tally = Tally()
        self.acknowledged: set[str] = set()
        self._stop = False
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, prefix: str) -> None:
        self._tasks = [asyncio.create_task(self._write(prefix, n)) for n in range(WRITERS)]

    async def acknowledged_more_than(self, count: int) -> None:
        while len(self.acknowledged) <= count:
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self._stop = True
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _write(self, prefix: str, n: int) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=30) as http:
            i = 0
            while not self._stop:
                body = posting(f"{prefix}-{n}-{i}", n % MANAGERS)
                await post_until_acknowledged(http, self.token, body, self.tally)
                self.acknowledged.add(body["external_id"])
                i += 1


async def the_log_holds_exactly(dsn: str, writers: Writers) -> dict[str, int]:
    """Every acknowledged completion once, nothing twice, positions dense, `verify` passes;
    the figures."""
    counts = await completion_counts(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        count, head = await conn.fetchrow("SELECT count(*), max(position) FROM events")
    finally:
        await conn.close()
    code, out = await ceu_ledger(dsn, "verify")
    acknowledged, tally = writers.acknowledged, writers.tally
    found = {
        "acknowledged": len(acknowledged),
        "found": sum(1 for e in acknowledged if counts[e] >= 1),
        "duplicates": sum(1 for n in counts.values() if n > 1),
        "status_503": tally.statuses[503],
        "other_5xx": tally.server_errors,
        "no_answer": tally.transport_errors,
    }
    assert all(counts[e] == 1 for e in acknowledged), "acknowledged = found, once each"
    assert all(n == 1 for n in counts.values())
    assert tally.server_errors == 0
    assert tally.bad_503 == 0
    assert count == head, "positions dense"
    assert code == 0, out
    return found


async def test_kill_9_of_the_primary_under_load_loses_nothing_acknowledged(
    patroni: PatroniCluster, failover_server: Server
) -> None:
    server = failover_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        writers = Writers(server, await seed(http, MANAGERS))
    rounds: list[tuple[float, float, float]] = []
    writers.start("fo")
    try:
        for _ in range(ROUNDS):
            await writers.acknowledged_more_than(len(writers.acknowledged) + 20 * WRITERS)
            primary = patroni.primary()
            assert primary is not None
            pid = primary.postmaster_pid()
            assert pid is not None
            before = len(writers.acknowledged)
            killed = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            # Writes succeed again: more acknowledgements than at the kill, after it.
            await writers.acknowledged_more_than(before + WRITERS)
            writes_back = time.monotonic() - killed
            old = primary
            promoted = await wait_until(lambda old=old: patroni.primary() not in (None, old), 60)
            rejoined = await wait_until(patroni.healthy, 120)
            rounds.append((round(writes_back, 2), round(promoted, 2), round(rejoined, 2)))
            assert primary.role() == "replica", "the old primary is back as a standby"
        await writers.acknowledged_more_than(len(writers.acknowledged) + WRITERS)
    finally:
        await writers.stop()

    found = await the_log_holds_exactly(server.dsn, writers)
    figures(
        "failover",
        rounds="; ".join(
            f"writes back {w} s, promoted {p} s, rejoined {r} s" for w, p, r in rounds
        ),
        **found,
    )


async def test_a_primary_cut_off_from_etcd_acknowledges_nothing_and_loses_nothing(
    patroni: PatroniCluster, failover_server: Server
) -> None:
    """The primary's Patroni is frozen (SIGSTOP): it stops renewing the leader key, and its
    PostgreSQL goes on running, still a primary, with the service's connections open (what a
    network partition between the primary and etcd looks like from etcd's side).  The key
    expires and the synchronous standby is promoted: two PostgreSQL servers now say they are
    primaries.  The old one must not acknowledge a write: a write sent to it directly waits
    for the synchronous standby it no longer has.  Patroni thawed demotes it (pg_rewind), the
    waiting write fails unacknowledged, and the service writes on the new primary."""
    server = failover_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        writers = Writers(server, await seed(http, MANAGERS))
    old = patroni.primary()
    assert old is not None
    assert old.process is not None
    await fence_probe_table(patroni)
    writers.start("part")
    try:
        await writers.acknowledged_more_than(20 * WRITERS)
        cut = time.monotonic()
        os.kill(old.process.pid, signal.SIGSTOP)
        try:
            promoted = await wait_until(lambda: patroni.primary() not in (None, old), 60)
            assert not await in_recovery(old), "the old primary still says it is one"
            probe = await connect_to(old)
            write = asyncio.create_task(probe.execute("INSERT INTO fence_probe VALUES (1)"))
            waited_on = await wait_for_sync_rep(old, probe.get_server_pid())
            assert not write.done(), "the cut-off primary acknowledged a write"
            at_heal = len(writers.acknowledged)
        finally:
            healed = time.monotonic()
            os.kill(old.process.pid, signal.SIGCONT)
        with pytest.raises(Exception) as refused:  # noqa: PT011 (how it ends varies)
            await write
        await probe.close()
        await writers.acknowledged_more_than(at_heal + WRITERS)
        writes_back = time.monotonic() - healed
        rejoined = await wait_until(patroni.healthy, 120)
        assert old.role() == "replica", "the old primary is back as a standby"
        await writers.acknowledged_more_than(len(writers.acknowledged) + WRITERS)
    finally:
        await writers.stop()

    assert await fence_probe_rows(patroni) == 0, "the old primary's own write is not kept"
    found = await the_log_holds_exactly(server.dsn, writers)
    figures(
        "partition",
        promoted_after_cut=round(promoted, 2),
        two_primaries_for=round(healed - cut - promoted, 2),
        old_primary_write=f"waited on {waited_on}, then {type(refused.value).__name__}",
        writes_back_after_heal=round(writes_back, 2),
        rejoined=round(rejoined, 2),
        **found,
    )


async def fence_probe_table(patroni: PatroniCluster) -> None:
    conn = await asyncpg.connect(patroni.dsn())
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS fence_probe (n int)")
    finally:
        await conn.close()


async def fence_probe_rows(patroni: PatroniCluster) -> int:
    conn = await asyncpg.connect(patroni.dsn())
    try:
        return int(await conn.fetchval("SELECT count(*) FROM fence_probe"))
    finally:
        await conn.close()


async def connect_to(node: Node, database: str = "postgres") -> asyncpg.Connection:
    """A connection to this node's PostgreSQL itself, whatever its role."""
    return await asyncpg.connect(
        host="127.0.0.1", port=node.pg_port, user="postgres", password=PASSWORD,
        database=database,
    )  # fmt: skip


async def in_recovery(node: Node) -> bool:
    conn = await connect_to(node)
    try:
        return bool(await conn.fetchval("SELECT pg_is_in_recovery()"))
    finally:
        await conn.close()


async def wait_for_sync_rep(node: Node, pid: int) -> str:
    """Until backend `pid` of `node` waits for the synchronous standby (its wait event)."""
    conn = await connect_to(node)
    try:
        while True:
            event = await conn.fetchval(
                "SELECT wait_event FROM pg_stat_activity WHERE pid = $1", pid
            )
            if event == "SyncRep":
                return str(event)
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def test_backups_through_the_cluster_s_address_and_a_new_backup_directory_after_a_failover(
    patroni: PatroniCluster, failover_server: Server
) -> None:
    """`ceu-ledger backup DIR` with the cluster's DATABASE_URL backs up whichever node is the
    primary, and restores.  After a fail-over the archive cannot go on in the same directory
    (the slot stays on the old primary; the WAL of the new timeline is the new primary's), so
    the operator starts a new directory (docs/operations.md): that one restores the ledger as
    the new primary has it."""
    server = failover_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        writers = Writers(server, await seed(http, MANAGERS))
    writers.start("bk")
    try:
        await writers.acknowledged_more_than(5 * WRITERS)
        before = await backed_up_and_restored(server.dsn, writers)
        old = patroni.primary()
        assert old is not None
        pid = old.postmaster_pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await wait_until(lambda: patroni.primary() not in (None, old), 60)
        await writers.acknowledged_more_than(len(writers.acknowledged) + 5 * WRITERS)
        after = await backed_up_and_restored(server.dsn, writers)
    finally:
        await writers.stop()
    await wait_until(patroni.healthy, 120)
    figures("cluster_backup", restored_before_failover=before, restored_after_failover=after)
    assert after > before


async def backed_up_and_restored(dsn: str, writers: Writers) -> int:
    """`backup` into a new directory, more writes, `backup` again (the archive goes on),
    then `restore --position` the archive's last position into a new data directory; that
    position."""
    backups = pgtools.own(Path(tempfile.mkdtemp(prefix="ceubk-")))
    restored = pgtools.own(Path(tempfile.mkdtemp(prefix="ceurs-")))
    try:
        for _ in range(2):
            code, out = await ceu_ledger(dsn, "backup", str(backups))
            assert code == 0, out
            await writers.acknowledged_more_than(len(writers.acknowledged) + WRITERS)
        head = json.loads((backups / "archive.json").read_text())["head"]
        code, out = await ceu_ledger(
            dsn, "restore", str(backups), "--position", str(head),
            "--data-dir", str(restored / "data"),
        )  # fmt: skip
        assert code == 0, out
        assert f"up to ledger position {head} " in out
        return int(head)
    finally:
        shutil.rmtree(backups, ignore_errors=True)
        shutil.rmtree(restored, ignore_errors=True)


async def head_of(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT position FROM event_head"))
    finally:
        await conn.close()
