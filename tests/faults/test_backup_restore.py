"""SPEC 8 backups: `ceu-ledger backup` while clients post, then `ceu-ledger restore` to a time
and to a position; each restored ledger verifies and holds exactly the events committed up to
its target (the same rows, hashes included), nothing after."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from ledger.infra import pgtools
from tests.faults.cluster import Cluster
from tests.faults.harness import (
    Server,
    Tally,
    environ_with,
    figures,
    post_until_acknowledged,
    posting,
    seed,
)

pytestmark = pytest.mark.cluster

MANAGERS, WRITERS = 20, 6


async def ceu_ledger(*args: str, dsn: str | None = None) -> tuple[int, str, str]:
    env = environ_with(DATABASE_URL=dsn) if dsn else environ_with()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ledger.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory PostgreSQL's user may write in (pytest's own are private to root)."""
    path = pgtools.own(Path(tempfile.mkdtemp(prefix="ceubk-")))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Load:
    """WRITERS clients posting completions until stopped; each retries its external_id."""

    def __init__(self, server: Server, token: str) -> None:
        self.server, self.token = server, token
        self.tally = Tally()
        self.acknowledged = 0
        self._go = asyncio.Event()
        self._stop = False
        self._idle = 0

    async def _writer(self, n: int) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=10) as client:
            i = 0
            while not self._stop:
                if not self._go.is_set():
                    self._idle += 1
                    await self._go.wait()
                    self._idle -= 1
                    continue
                body = posting(f"bk-{n}-{i}", (n * 7 + i) % MANAGERS)
                await post_until_acknowledged(client, self.token, body, self.tally)
                self.acknowledged += 1
                i += 1

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Load]:
        self._go.set()
        tasks = [asyncio.create_task(self._writer(n)) for n in range(WRITERS)]
        try:
            yield self
        finally:
            self._stop = True
            self._go.set()
            await asyncio.gather(*tasks)

    async def pause(self) -> None:
        """Stop posting, and wait until every writer's last post is acknowledged."""
        self._go.clear()
        while self._idle < WRITERS:
            await asyncio.sleep(0.01)

    def resume(self) -> None:
        self._go.set()


async def events(dsn: str) -> list[tuple[int, bytes]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT position, hash FROM events ORDER BY position")
    finally:
        await conn.close()
    return [(r[0], bytes(r[1])) for r in rows]


async def last_of_a_transaction_after(dsn: str, after: int) -> int:
    """A position after `after` that its transaction wrote last (PostgreSQL can stop
    there exactly)."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(
            "SELECT e.position FROM events e JOIN events n ON n.position = e.position + 1"
            " WHERE e.position > $1 AND e.xmin <> n.xmin ORDER BY e.position OFFSET 5 LIMIT 1",
            after,
        )
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def started(data: Path) -> AsyncIterator[str]:
    """The restored data directory under PostgreSQL; the ledger database's DSN."""
    cluster = Cluster(data)
    cluster.start()
    try:
        yield cluster.dsn("fault_restore")
    finally:
        cluster.remove()


async def restored_events(data: Path) -> tuple[list[tuple[int, bytes]], int, str]:
    async with started(data) as dsn:
        code, out, err = await ceu_ledger("verify", dsn=dsn)
        return await events(dsn), code, out + err


@pytest.fixture
async def restore_dsn(cluster: Cluster) -> str:
    """A database named as the restored one will be looked up by (`started`)."""
    conn = await asyncpg.connect(cluster.dsn())
    try:
        await conn.execute("DROP DATABASE IF EXISTS fault_restore WITH (FORCE)")
        await conn.execute("CREATE DATABASE fault_restore")
    finally:
        await conn.close()
    dsn = cluster.dsn("fault_restore")
    code, _, err = await ceu_ledger("migrate", dsn=dsn)
    assert code == 0, err
    return dsn


@pytest.mark.no_projectors
async def test_a_backup_under_load_restores_to_a_time_and_to_a_position_exactly(
    restore_dsn: str, scratch: Path, tmp_path: Path
) -> None:
    server = Server(restore_dsn, tmp_path / "server.log", projectors=False)
    await server.start()
    backup_dir = scratch / "backup"
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            token = await seed(client, MANAGERS)
        load = Load(server, token)
        async with load.running():
            await asyncio.sleep(1)
            started_at = time.monotonic()
            code, out, err = await ceu_ledger("backup", str(backup_dir), dsn=restore_dsn)
            full_took = time.monotonic() - started_at
            assert code == 0, err
            acked_during_full = load.acknowledged
            await asyncio.sleep(1)
            await load.pause()
            at_mark = await events(restore_dsn)
            mark = datetime.now(UTC)
            await asyncio.sleep(0.3)
            load.resume()
            await asyncio.sleep(1)
            started_at = time.monotonic()
            code, out, err = await ceu_ledger("backup", str(backup_dir), dsn=restore_dsn)
            incremental_took = time.monotonic() - started_at
            assert code == 0, err
            assert "(incremental)" in out
            await asyncio.sleep(1)
        code, out, err = await ceu_ledger("backup", str(backup_dir), dsn=restore_dsn)
        assert code == 0, err
        everything = await events(restore_dsn)
        position = await last_of_a_transaction_after(restore_dsn, at_mark[-1][0])
        assert position is not None

        to_time = scratch / "to-time"
        started_at = time.monotonic()
        code, out, err = await ceu_ledger(
            "restore", str(backup_dir), "--to", mark.isoformat(), "--data-dir", str(to_time)
        )
        time_took = time.monotonic() - started_at
        assert code == 0, err
        restored, verified, said = await restored_events(to_time)
        assert verified == 0, said
        assert restored == at_mark

        to_position = scratch / "to-position"
        started_at = time.monotonic()
        code, out, err = await ceu_ledger(
            "restore", str(backup_dir), "--position", str(position), "--data-dir",
            str(to_position),
        )  # fmt: skip
        position_took = time.monotonic() - started_at
        assert code == 0, err
        assert f"up to ledger position {position} " in out
        restored, verified, said = await restored_events(to_position)
        assert verified == 0, said
        assert restored == everything[:position]
        assert load.tally.server_errors == 0
    finally:
        await server.close()
    figures(
        "backup_restore",
        events=len(everything),
        acked_while_full_backup=acked_during_full,
        full_backup_s=round(full_took, 2),
        incremental_backup_s=round(incremental_took, 2),
        restore_to_time_s=round(time_took, 2),
        mark_head=at_mark[-1][0],
        restore_to_position_s=round(position_took, 2),
        position=position,
    )


async def test_restore_refuses_what_it_cannot_do_with_exit_2(scratch: Path) -> None:
    code, _, err = await ceu_ledger(
        "restore", str(scratch), "--position", "3", "--data-dir", str(scratch / "new")
    )
    assert code == 2
    assert "not a backup directory" in err
    code, _, err = await ceu_ledger("restore", str(scratch), "--data-dir", str(scratch / "n"))
    assert code == 2
    assert "exactly one of --to TIME and --position N" in err
