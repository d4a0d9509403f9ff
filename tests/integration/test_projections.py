"""The projection engine against the real PostgreSQL: exactly-once batches, one active
runner, wake-up by NOTIFY, and rebuilds that survive being killed."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from asyncio.subprocess import PIPE

import asyncpg
import pytest

from events.postgres.connection import connect
from events.timeouts import SHUTDOWN_TIMEOUT
from ledger.cli import SYSTEM
from ledger.commands import Ledger, catalogue
from ledger.infra.projectors import running_projectors
from projections.engine import _LOCK_CLASS, CheckpointMoved, ProjectionRunner, read_checkpoint
from projections.streams import StreamSummaries
from tests.builders import facts

SUMMARY = "SELECT * FROM stream_summaries ORDER BY stream_id"


async def _fill(store, streams: int, events_per_stream: int, batch: int = 5) -> int:
    for round_ in range(0, events_per_stream, batch):
        for s in range(streams):
            await store.append(f"manager-{s}", facts(batch), expected_version=round_)
    return streams * events_per_stream


async def _rows(pool) -> list[tuple]:
    return [tuple(r) for r in await pool.fetch(SUMMARY)]


async def _checkpoint(pool, name: str = "stream_summaries"):
    async with pool.acquire() as conn:
        return await read_checkpoint(conn, name)


@pytest.fixture
async def conn(dsn):
    conn = await connect(dsn)
    yield conn
    await conn.close()


async def test_catching_up_projects_every_event_and_records_the_checkpoint(
    dsn, pool, pg_store, conn
):
    await pg_store.append("manager-1", facts(3, "a"), expected_version=0)
    await pg_store.append("manager-2", facts(1, "b"), expected_version=0)
    await pg_store.append("manager-1", facts(1, "c"), expected_version=3)
    runner = ProjectionRunner(dsn, StreamSummaries(), batch_size=2)

    assert await runner.catch_up(conn) == 5

    rows = {r["stream_id"]: r for r in await pool.fetch(SUMMARY)}
    assert {
        k: (r["version"], r["event_count"], r["first_position"], r["last_position"], r["last_type"])
        for k, r in rows.items()
    } == {
        "manager-1": (4, 4, 1, 5, "c"),
        "manager-2": (1, 1, 4, 4, "b"),
    }
    assert (await _checkpoint(pool)).position == 5


async def test_a_rebuild_equals_the_incrementally_built_model(dsn, pool, pg_store, conn):
    runner = ProjectionRunner(dsn, StreamSummaries(), batch_size=7)
    for _ in range(4):  # incrementally: a little, project, a little more, project...
        await pg_store.append("manager-x", facts(4), expected_version=None)
        await pg_store.append("manager-y", facts(3), expected_version=None)
        await runner.catch_up(conn)
    incremental = await _rows(pool)

    progress: list[tuple[int, int]] = []
    await ProjectionRunner(dsn, StreamSummaries(), batch_size=5).rebuild(
        progress=lambda done, total: progress.append((done, total))
    )

    assert await _rows(pool) == incremental
    assert progress[-1] == (28, 28)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert (await _checkpoint(pool)).rebuild_started_at is None


class CrashingProjection(StreamSummaries):
    """Writes its rows for the batch, then dies before the engine can commit."""

    def __init__(self, crash_on_batch: int) -> None:
        self.batches = 0
        self.crash_on_batch = crash_on_batch

    async def apply(self, conn, events) -> None:
        self.batches += 1
        await super().apply(conn, events)
        if self.batches == self.crash_on_batch:
            raise RuntimeError("killed mid-batch")


async def test_a_rebuild_killed_mid_batch_resumes_from_its_checkpoint(dsn, pool, pg_store, conn):
    await _fill(pg_store, streams=4, events_per_stream=25)
    await ProjectionRunner(dsn, StreamSummaries(), batch_size=10).catch_up(conn)
    clean = await _rows(pool)

    with pytest.raises(RuntimeError, match="killed"):
        await ProjectionRunner(dsn, CrashingProjection(crash_on_batch=4), batch_size=10).rebuild()

    cut = await _checkpoint(pool)
    assert cut.position == 30, "three batches committed, the fourth rolled back"
    assert cut.rebuild_started_at is not None
    assert sum(r[2] for r in await _rows(pool)) == 30, "no row of the failed batch remains"

    progress: list[int] = []
    await ProjectionRunner(dsn, StreamSummaries(), batch_size=10).rebuild(
        progress=lambda done, total: progress.append(done)
    )

    assert progress[0] == 40, "resumed after the checkpoint, not from zero"
    assert await _rows(pool) == clean


async def test_a_rebuild_process_killed_with_sigkill_resumes_and_ends_equal(
    dsn, pool, pg_store, conn
):
    # The CLI records the default programs on start; record them first so it adds nothing.
    await catalogue.ensure_default_programs(Ledger(pg_store), SYSTEM)
    total = 2 + await _fill(pg_store, streams=20, events_per_stream=250, batch=50)
    await ProjectionRunner(dsn, StreamSummaries()).catch_up(conn)
    clean = await _rows(pool)

    env = {**os.environ, "DATABASE_URL": dsn}
    command = ["rebuild", "stream_summaries", "--batch-size", "5"]
    process = await _cli(env, *command)
    try:
        while True:  # wait until it is well into the rebuild, then kill it without warning
            cut = await _checkpoint(pool)
            if cut.rebuild_started_at is not None and cut.position >= total // 10:
                break
            assert process.returncode is None, "the rebuild ended before it could be killed"
            await asyncio.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        await process.wait()

    cut = await _checkpoint(pool)
    assert 0 < cut.position < total
    assert cut.rebuild_started_at is not None

    resumed = await _cli(env, *command)
    out, err = await resumed.communicate()
    assert resumed.returncode == 0, err
    assert f"rebuilt up to position {total}".encode() in out
    assert await _rows(pool) == clean

    restarted = await _cli(env, *command, "--restart")
    await restarted.communicate()
    assert restarted.returncode == 0
    assert await _rows(pool) == clean


async def _cli(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ledger.cli", *args, env=env, stdout=PIPE, stderr=PIPE
    )


async def test_two_runners_racing_never_apply_a_batch_twice(dsn, pool, pg_store):
    await _fill(pg_store, streams=5, events_per_stream=40)
    runners = [ProjectionRunner(dsn, StreamSummaries(), batch_size=3) for _ in range(2)]
    conns = [await connect(dsn) for _ in runners]
    moved = 0
    try:

        async def race(runner, conn) -> None:
            nonlocal moved
            while True:
                try:
                    if not await runner.step(conn):
                        return
                except CheckpointMoved:
                    moved += 1

        await asyncio.gather(*(race(r, c) for r, c in zip(runners, conns, strict=True)))
    finally:
        for c in conns:
            await c.close()

    assert sum(r[2] for r in await _rows(pool)) == 200
    assert (await _checkpoint(pool)).position == 200
    assert moved > 0, "the runners did race for the checkpoint"


async def test_only_one_runner_holds_the_projection_at_a_time(dsn):
    first, second = (ProjectionRunner(dsn, StreamSummaries()) for _ in range(2))
    a, b = await connect(dsn), await connect(dsn)
    try:
        assert await first.try_lock(a)
        assert not await second.try_lock(b)
        await a.close()  # the active runner's process dies
        assert await second.try_lock(b)
    finally:
        await b.close()


async def test_a_running_projector_is_woken_by_notify_and_a_standby_takes_over(dsn, pool, pg_store):
    # A poll interval far longer than the test: only NOTIFY can wake the runner in time.
    stop_active, stop_standby = asyncio.Event(), asyncio.Event()
    active = ProjectionRunner(dsn, StreamSummaries(), poll_interval=600)
    standby = ProjectionRunner(dsn, StreamSummaries(), poll_interval=0.05)
    tasks = [asyncio.create_task(active.run(stop_active))]
    await _until_locked(pool, active)  # the standby starts only once the active one holds it
    tasks.append(asyncio.create_task(standby.run(stop_standby)))

    try:
        await pg_store.append("manager-1", facts(3), expected_version=0)
        await _until(pool, 3)
        assert active.position == 3
        assert standby.position == 0

        stop_active.set()
        await tasks[0]
        await pg_store.append("manager-1", facts(2), expected_version=3)
        await _until(pool, 5)
        assert standby.position == 5
    finally:
        stop_active.set()
        stop_standby.set()
        await asyncio.gather(*tasks)


async def _until_locked(pool, runner: ProjectionRunner, seconds: float = 20) -> None:
    """Until some session holds `runner`'s advisory lock (`try_lock`'s two keys) in this
    database: a poll of pg_locks with a deadline, not a guess of how long connecting takes."""
    held = """
        SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 2
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid::int8 = $1 AND objid::int8 = hashtext($2)::int8 & 4294967295
    """
    async with asyncio.timeout(seconds):
        while not await pool.fetchval(held, _LOCK_CLASS, runner.projection.name):
            await asyncio.sleep(0.01)


async def _until(pool, position: int, seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        while (await _checkpoint(pool)).position < position:
            await asyncio.sleep(0.01)


# -- faults: a runner never dies and never hangs ----------------------------------------------


class FlakyProjection(StreamSummaries):
    """Fails its first `failures` batches with an error from outside asyncpg's usual classes
    (seen from COMMIT while PostgreSQL restarts), then works."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    async def apply(self, conn, events) -> None:
        if self.failures:
            self.failures -= 1
            raise asyncpg.InternalClientError("unexpected protocol state")
        await super().apply(conn, events)


class HangingProjection(StreamSummaries):
    """Its first `hangs` batches wait on the database far longer than any test lasts."""

    def __init__(self, hangs: int) -> None:
        self.hangs = hangs

    async def apply(self, conn, events) -> None:
        if self.hangs:
            self.hangs -= 1
            await conn.execute("SELECT pg_sleep(600)")
        await super().apply(conn, events)


def _engine_log(caplog, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "projections.engine" and r.levelno == level
    ]


async def test_a_runner_survives_any_error_logs_the_outage_once_and_its_recovery_once(
    dsn, pool, pg_store, caplog
):
    caplog.set_level(logging.INFO, logger="projections.engine")
    await pg_store.append("manager-1", facts(3), expected_version=0)
    runner = ProjectionRunner(dsn, FlakyProjection(failures=3), poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await _until(pool, 3)
    finally:
        stop.set()
        await task

    assert runner.failures == 0, "working again"
    assert runner.last_error == "InternalClientError: unexpected protocol state"
    assert runner.last_error_at is not None
    assert len(_engine_log(caplog, logging.WARNING)) == 1
    [recovered] = _engine_log(caplog, logging.INFO)
    assert "recovered after 3 failed attempts" in recovered


async def test_a_statement_that_hangs_times_out_and_the_runner_starts_over(dsn, pool, pg_store):
    await pg_store.append("manager-1", facts(2), expected_version=0)
    runner = ProjectionRunner(
        dsn, HangingProjection(hangs=1), poll_interval=0.05, command_timeout=0.5
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await _until(pool, 2)
    finally:
        stop.set()
        await task

    assert runner.last_error is not None
    assert runner.last_error.startswith("TimeoutError")


async def test_a_runner_that_cannot_reach_the_database_retries_and_logs_it_once(caplog):
    caplog.set_level(logging.INFO, logger="projections.engine")
    runner = ProjectionRunner(
        "postgresql://postgres@/ledger?host=/nonexistent-socket-dir", StreamSummaries()
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    async with asyncio.timeout(20):
        while runner.failures < 3:
            await asyncio.sleep(0.05)
    stop.set()
    await task

    assert runner.last_error is not None
    assert runner.last_error.startswith("FileNotFoundError")
    assert len(_engine_log(caplog, logging.WARNING)) == 1
    assert _engine_log(caplog, logging.INFO) == []


async def test_stopping_the_projectors_is_bounded_even_while_a_statement_hangs(dsn, pool, pg_store):
    await pg_store.append("manager-1", facts(1), expected_version=0)
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'"
    async with asyncio.timeout(SHUTDOWN_TIMEOUT + 10):  # far below the 600 s it would wait
        async with running_projectors(
            dsn, poll_interval=0.05, projections=[HangingProjection(hangs=1)]
        ):
            while not await pool.fetchval(waiting):
                await asyncio.sleep(0.05)
    assert (await _checkpoint(pool)).position == 0, "the hung batch was rolled back"
