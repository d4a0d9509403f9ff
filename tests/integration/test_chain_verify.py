"""The verify of a PostgreSQL log by ranges (events.chain_postgres): on a real database, with
ranges of three positions, so that a log of ten events is four ranges (0, 3], (3, 6], (6, 9],
(9, 10].  Every report must be the one the one-process `events.chain.verify` gives, whatever
the damage and wherever it falls: in the first range, in a middle one, on a range's first
link, at a range's end, past the last event, or in the head row.  Each case runs on worker
processes (two) and in the calling process (one worker)."""

from __future__ import annotations

import pytest

from events.chain import ChainVerifier, verify
from events.chain_postgres import ChainWorkerFailed, _join_in_processes, verify_database
from tests.builders import facts
from tests.conftest import with_database

RANGE = 3
EVENTS = 10

workers = pytest.mark.parametrize("workers", [2, 1], ids=["processes", "in-process"])


@pytest.fixture
async def log(pg_store):
    await pg_store.append("s", facts(EVENTS), expected_version=0)
    return pg_store


async def _tamper(pool, statement: str, *args) -> None:
    """As the superuser, with the append-only triggers off: what `verify` exists to catch."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(statement, *args)


async def _verify_both(dsn, store, workers):
    """The ranged report, after checking it is exactly the one-process verify's."""
    report = await verify_database(dsn, range_size=RANGE, workers=workers)
    assert report == await verify(store)
    return report


@workers
async def test_a_clean_chain_of_several_ranges_passes(dsn, log, workers):
    report = await _verify_both(dsn, log, workers)

    assert (report.ok, report.events_checked, report.head_position) == (True, EVENTS, EVENTS)
    assert report.head_hash == (await log.head()).hash.hex()


@workers
async def test_an_empty_log_passes(dsn, pg_store, workers):
    report = await _verify_both(dsn, pg_store, workers)

    assert (report.ok, report.events_checked, report.head_position) == (True, 0, 0)


@workers
async def test_a_break_in_the_first_range_is_named(dsn, pool, log, workers):
    await _tamper(pool, "UPDATE events SET data = $1 WHERE position = 2", b'{"n":1}')
    # A later break too: the lowest one is reported.
    await _tamper(pool, "UPDATE events SET data = $1 WHERE position = 8", b'{"n":1}')

    report = await _verify_both(dsn, log, workers)

    assert (report.ok, report.first_bad_position, report.events_checked) == (False, 2, 2)
    assert report.problem == "stored bytes do not match the event's hash"


@workers
async def test_a_break_in_a_middle_range_is_named(dsn, pool, log, workers):
    await _tamper(pool, "UPDATE events SET stream_id = 'forged' WHERE position = 5")

    report = await _verify_both(dsn, log, workers)

    assert (report.ok, report.first_bad_position, report.events_checked) == (False, 5, 5)


@workers
async def test_a_wrong_prev_hash_on_the_first_event_of_a_range_is_named(dsn, pool, log, workers):
    await _tamper(pool, "UPDATE events SET prev_hash = $1 WHERE position = 4", bytes(32))

    report = await _verify_both(dsn, log, workers)

    assert (report.ok, report.first_bad_position, report.events_checked) == (False, 4, 4)
    assert report.problem == "prev_hash does not match the previous event"


@workers
async def test_a_rewritten_hash_on_the_last_event_of_a_range_is_named_not_the_next(
    dsn, pool, log, workers
):
    await _tamper(pool, "UPDATE events SET hash = $1 WHERE position = 6", bytes(range(32)))

    report = await _verify_both(dsn, log, workers)

    assert (report.ok, report.first_bad_position) == (False, 6)


@workers
async def test_a_deleted_last_event_of_a_range_is_a_missing_position(dsn, pool, log, workers):
    await _tamper(pool, "DELETE FROM events WHERE position = 6")

    report = await _verify_both(dsn, log, workers)

    assert (report.ok, report.first_bad_position, report.events_checked) == (False, 6, 5)
    assert report.problem == "position 6 is missing"


@workers
async def test_a_deleted_whole_range_is_a_missing_position(dsn, pool, log, workers):
    await _tamper(pool, "DELETE FROM events WHERE position BETWEEN 4 AND 6")

    report = await _verify_both(dsn, log, workers)

    assert (report.ok, report.first_bad_position) == (False, 4)
    assert report.problem == "position 4 is missing"


@workers
async def test_a_log_that_ends_before_its_head_is_named(dsn, pool, log, workers):
    await _tamper(pool, "DELETE FROM events WHERE position >= 9")

    report = await _verify_both(dsn, log, workers)

    assert (report.ok, report.first_bad_position, report.events_checked) == (False, 9, 8)
    assert report.problem == f"head says {EVENTS}, log ends earlier"


@workers
async def test_a_head_that_does_not_match_the_last_event_is_named(dsn, pool, log, workers):
    await _tamper(pool, "UPDATE event_head SET hash = $1", bytes(range(32)))

    report = await _verify_both(dsn, log, workers)

    assert (report.ok, report.first_bad_position, report.events_checked) == (False, 10, 10)
    assert report.problem == "head hash does not match the last event"


async def test_workers_that_cannot_connect_fail_the_verify_instead_of_hanging(dsn):
    gone = with_database(dsn, "no_such_database")
    ranges = [(0, 3), (3, 6), (6, 9)]

    with pytest.raises(ChainWorkerFailed, match="exited"):
        await _join_in_processes(ChainVerifier(), gone, ranges, workers=2, page_size=3)
