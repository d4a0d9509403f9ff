"""The chain verified off the request path (projections/verification.py), on the real
PostgreSQL: the checkpoint advances batch by batch from where it stopped, a reader hashes only
the tail past it, and a row changed behind it (as the superuser, past the append-only
triggers) trips 0016's tripwire, which sends the projection back for a full re-walk that names
the changed position."""

from __future__ import annotations

import asyncpg
import pytest

from events.chain import verify
from events.postgres.connection import connect
from projections.engine import ProjectionRunner, read_checkpoint
from projections.verification import (
    ChainVerification,
    checkpoint_report,
    read_chain_checkpoint,
)
from tests.builders import facts


@pytest.fixture
async def conn(dsn):
    conn = await connect(dsn)
    yield conn
    await conn.close()


async def _tamper(dsn, statement: str, *args) -> None:
    """As the superuser, with the append-only triggers off (replica mode)."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(statement, *args)
    finally:
        await conn.close()


async def test_the_checkpoint_advances_from_where_it_stopped(dsn, pg_store, conn):
    await pg_store.append("s", facts(7), expected_version=0)
    runner = ProjectionRunner(dsn, ChainVerification(), batch_size=3)

    assert await runner.catch_up(conn) == 7
    first = await read_chain_checkpoint(conn)
    assert (first.position, first.events_checked, first.first_bad_position) == (7, 7, None)
    assert first.head_hash == (await pg_store.head()).hash
    assert first.checked_at is not None

    await pg_store.append("s", facts(4), expected_version=7)
    assert await runner.catch_up(conn) == 11
    second = await read_chain_checkpoint(conn)
    assert (second.position, second.events_checked) == (11, 11)
    assert second.checked_at is not None
    assert second.checked_at >= first.checked_at
    assert second.head_hash == (await pg_store.head()).hash


async def test_a_reader_hashes_only_the_tail_past_the_checkpoint(dsn, pg_store, conn):
    await pg_store.append("s", facts(5), expected_version=0)
    await ProjectionRunner(dsn, ChainVerification()).catch_up(conn)
    await pg_store.append("s", facts(3), expected_version=5)

    report = await checkpoint_report(conn, tail_limit=1_000)
    assert report.ok
    assert report.first_bad_position is None
    assert (report.checkpoint_position, report.checked_through, report.head_position) == (5, 8, 8)
    assert report.events_checked == 8
    assert report.head_hash == (await pg_store.head()).hash.hex()

    short = await checkpoint_report(conn, tail_limit=1)
    assert short.ok
    assert (short.checked_through, short.head_position) == (6, 8)

    full = await verify(pg_store)
    assert (full.ok, full.events_checked, full.head_hash) == (True, 8, report.head_hash)


async def test_a_row_changed_behind_the_checkpoint_trips_a_full_recheck(dsn, pg_store, conn):
    await pg_store.append("s", facts(9), expected_version=0)
    runner = ProjectionRunner(dsn, ChainVerification(), batch_size=4)
    await runner.catch_up(conn)
    assert (await read_chain_checkpoint(conn)).position == 9

    await _tamper(dsn, "UPDATE events SET data = '{\"x\": 1}'::json WHERE position = $1", 3)

    # The tripwire fired (in replica mode too): the projection is sent back to 0 for a re-walk.
    tripped = await read_chain_checkpoint(conn)
    assert tripped.recheck_requested_at is not None
    assert tripped.recheck_reason == "UPDATE"
    engine = await read_checkpoint(conn, "chain_verification")
    assert engine.position == 0
    assert engine.rebuild_started_at is not None
    # A reader with the store walks the whole log meanwhile; one without says it is pending.
    now = await checkpoint_report(conn, tail_limit=1_000, store=pg_store)
    assert (now.ok, now.first_bad_position) == (False, 3)
    pending = await checkpoint_report(conn, tail_limit=1_000)
    assert pending.recheck_requested_at is not None

    await runner.catch_up(conn)
    found = await read_chain_checkpoint(conn)
    assert (found.first_bad_position, found.position) == (3, 2)
    assert found.problem == "stored bytes do not match the event's hash"
    assert found.recheck_requested_at is None
    report = await checkpoint_report(conn, tail_limit=1_000)
    assert (report.ok, report.first_bad_position, report.checked_through) == (False, 3, 2)
    assert report == await checkpoint_report(conn, tail_limit=0)
    # Appends after the break do not hide it.
    await pg_store.append("s", facts(2), expected_version=9)
    await runner.catch_up(conn)
    assert (await checkpoint_report(conn, tail_limit=10)).first_bad_position == 3


async def test_a_deleted_row_trips_the_recheck_and_is_named_missing(dsn, pg_store, conn):
    await pg_store.append("s", facts(6), expected_version=0)
    runner = ProjectionRunner(dsn, ChainVerification())
    await runner.catch_up(conn)

    await _tamper(dsn, "DELETE FROM events WHERE position = 4")

    assert (await read_chain_checkpoint(conn)).recheck_reason == "DELETE"
    await runner.catch_up(conn)
    report = await checkpoint_report(conn, tail_limit=100)
    assert (report.ok, report.first_bad_position) == (False, 4)
    assert report.problem == "position 4 is missing"


async def test_the_service_cannot_change_events_so_the_tripwire_is_the_superusers(
    dsn, pg_store, conn
):
    """The owner and the service are refused before the tripwire would fire (0001's BEFORE
    triggers); the transaction rolls back, so nothing is marked."""
    await pg_store.append("s", facts(2), expected_version=0)
    await ProjectionRunner(dsn, ChainVerification()).catch_up(conn)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("UPDATE events SET type = 'x' WHERE position = 1")
    assert (await read_chain_checkpoint(conn)).recheck_requested_at is None
    assert (await read_checkpoint(conn, "chain_verification")).position == 2
