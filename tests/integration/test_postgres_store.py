"""What only the PostgreSQL store can show: commit order, database-level guards, the chain
under tampering, and wake-ups."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from datetime import UTC, datetime

import asyncpg
import msgspec
import pytest

from events.chain import verify
from events.postgres.connection import connect, create_pool
from events.postgres.reads import NOTIFY_CHANNEL
from events.postgres.store import PostgresEventStore
from events.store import ConcurrencyConflict
from tests.builders import fact, facts, run_cli


def _in_own_thread(make_coro):
    """Run a coroutine on a separate thread with its own loop (and its own connections), so
    that a blocking clock inside the append holds only that writer."""
    return asyncio.to_thread(lambda: asyncio.run(make_coro()))


async def _until_a_session_waits_for_a_lock(dsn: str) -> None:
    """Until a session of this database waits for a lock (the head lock the held-open append
    holds): a poll of pg_stat_activity with a deadline, not a pause that guesses."""
    waiting = """
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
    """
    conn = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(30):
            while not await conn.fetchval(waiting):
                await asyncio.sleep(0.01)
    finally:
        await conn.close()


async def test_a_tailing_reader_sees_every_position_once_and_in_order(dsn, pg_store):
    threads, appends_per_writer = 6, 40

    async def slow_writer(seed: int) -> int:
        rnd = random.Random(seed)

        def clock_that_dawdles() -> datetime:
            # Called while the append holds the head lock and has its positions: a random
            # pause here is a transaction with a small position that is slow to commit.
            time.sleep(rnd.random() * 0.003)
            return datetime.now(UTC)

        written = 0
        async with create_pool(dsn, min_size=1, max_size=1) as pool:
            store = PostgresEventStore(pool, clock=clock_that_dawdles)
            for i in range(appends_per_writer):
                size = rnd.randint(1, 3)
                await store.append(f"w{seed}-{i % 5}", facts(size), expected_version=None)
                written += size
        return written

    async def fast_writer(seed: int) -> int:
        for i in range(appends_per_writer):
            await pg_store.append(f"f{seed}-{i % 3}", facts(1), expected_version=None)
        return appends_per_writer

    seen: list[int] = []
    done = asyncio.Event()

    async def tail() -> None:
        after = 0
        while True:
            finished = done.is_set()
            batch = await pg_store.read_all(after=after, limit=17)
            seen.extend(e.position for e in batch)
            after = batch[-1].position if batch else after
            if finished and not batch:
                return

    reader = asyncio.create_task(tail())
    written = await asyncio.gather(
        *(_in_own_thread(lambda s=s: slow_writer(s)) for s in range(threads)),
        *(fast_writer(s) for s in range(4)),
    )
    done.set()
    await reader

    total = sum(written)
    assert total == (await pg_store.head()).position
    assert seen == list(range(1, total + 1))


async def test_an_append_cannot_take_a_position_until_the_one_before_commits(dsn, pg_store):
    holding, release = threading.Event(), threading.Event()

    async def slow_append() -> int:
        def clock_held_open() -> datetime:
            holding.set()
            release.wait(timeout=30)
            return datetime.now(UTC)

        async with create_pool(dsn, min_size=1, max_size=1) as pool:
            store = PostgresEventStore(pool, clock=clock_held_open)
            return (await store.append("slow", facts(1), expected_version=0)).first_position

    slow = asyncio.ensure_future(_in_own_thread(slow_append))
    await asyncio.to_thread(holding.wait, 30)
    fast = asyncio.create_task(pg_store.append("fast", facts(1), expected_version=0))
    await _until_a_session_waits_for_a_lock(dsn)

    assert not fast.done(), "the second append must wait for the head lock"
    assert await pg_store.read_all() == []

    release.set()
    assert await slow == 1
    assert (await fast).first_position == 2
    assert [e.stream_id for e in await pg_store.read_all()] == ["slow", "fast"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'rewritten'",
        "DELETE FROM events WHERE position = 1",
        "TRUNCATE events",
    ],
)
async def test_the_database_refuses_to_change_or_remove_events(pool, pg_store, statement):
    await pg_store.append("s", facts(2), expected_version=0)

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute(statement)

    assert len(await pg_store.read_all()) == 2


async def test_the_head_row_only_moves_forward(pool, pg_store):
    await pg_store.append("s", facts(2), expected_version=0)

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="forward"):
        await pool.execute("UPDATE event_head SET position = 1")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="forward"):
        await pool.execute("DELETE FROM event_head")


async def _as_superuser_without_guards(pool, statement: str, *args) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(statement, *args)


async def test_verify_names_the_row_altered_behind_the_guard(pool, pg_store):
    await pg_store.append("s", facts(5), expected_version=0)
    assert (await verify(pg_store)).ok

    await _as_superuser_without_guards(
        pool, "UPDATE events SET data = $1 WHERE position = 3", b'{"type":"thing_happened","n":999}'
    )

    report = await verify(pg_store)
    assert not report.ok
    assert report.first_bad_position == 3
    assert report.events_checked == 3


async def test_verify_sees_through_a_rewritten_hash_to_the_next_event(pool, pg_store):
    await pg_store.append("s", facts(5), expected_version=0)

    await _as_superuser_without_guards(
        pool, "UPDATE events SET hash = $1 WHERE position = 2", bytes(range(32))
    )

    assert (await verify(pg_store)).first_bad_position == 2


async def test_verify_names_a_deleted_position(pool, pg_store):
    await pg_store.append("s", facts(4), expected_version=0)

    await _as_superuser_without_guards(pool, "DELETE FROM events WHERE position = 2")

    report = await verify(pg_store)
    assert (report.ok, report.first_bad_position) == (False, 2)
    assert "missing" in report.problem


async def test_the_verify_command_exits_1_and_names_the_first_bad_position(dsn, pool, pg_store):
    await pg_store.append("s", facts(6), expected_version=0)
    status, out, err = await run_cli(dsn, "verify")
    assert status == 0, err
    assert msgspec.json.decode(out)["ok"] is True

    await _as_superuser_without_guards(pool, "UPDATE events SET type = 'forged' WHERE position = 4")

    status, out, err = await run_cli(dsn, "verify")
    assert status == 1
    assert msgspec.json.decode(out)["first_bad_position"] == 4
    assert "position 4" in err


async def test_a_commit_notifies_listeners_with_the_new_head(dsn, pg_store):
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await connect(dsn)
    try:
        await listener.add_listener(NOTIFY_CHANNEL, lambda *args: heard.put_nowait(args[-1]))
        await pg_store.append("s", facts(3), expected_version=0)
        assert await asyncio.wait_for(heard.get(), timeout=10) == "3"
    finally:
        await listener.close()


async def test_a_rolled_back_append_notifies_no_one(dsn, pg_store):
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await connect(dsn)
    try:
        await listener.add_listener(NOTIFY_CHANNEL, lambda *args: heard.put_nowait(args[-1]))
        await pg_store.append("s", facts(1), expected_version=0)
        assert await asyncio.wait_for(heard.get(), timeout=10) == "1"
        with pytest.raises(ConcurrencyConflict):
            await pg_store.append("s", facts(1), expected_version=0)
        await pg_store.append("t", [fact()], expected_version=0)
        assert await asyncio.wait_for(heard.get(), timeout=10) == "2"
    finally:
        await listener.close()
