"""The known-head path (events/postgres/known_head.py): a batch planned on the head this store
last left is written in one round trip, and only if that head, the assumed stream versions and
the absence of its ids still hold; otherwise nothing is written and the locked path answers."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from events.chain import verify
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from events.store import ConcurrencyConflict, DuplicateEventId
from tests.builders import fact, facts


async def test_a_lone_writer_appends_in_one_round_trip_after_its_first(pg_store):
    for version in range(20):
        await pg_store.append("m", facts(1), expected_version=version)

    assert (pg_store.flushes, pg_store.one_trip_flushes) == (20, 19)
    events = await pg_store.read_all()
    assert [(e.position, e.version) for e in events] == [(n, n) for n in range(1, 21)]
    assert (await verify(pg_store)).ok


async def test_a_stale_expected_version_is_refused_from_the_stored_state(pg_store):
    await pg_store.append("m", facts(2), expected_version=0)
    one_trip = pg_store.one_trip_flushes

    with pytest.raises(ConcurrencyConflict) as refused:
        await pg_store.append("m", facts(1), expected_version=1)

    assert (refused.value.expected, refused.value.actual) == (1, 2)
    assert pg_store.one_trip_flushes == one_trip
    assert [e.position for e in await pg_store.read_all()] == [1, 2]


async def test_an_exact_retry_gets_its_original_answer_and_other_content_is_refused(pg_store):
    await pg_store.append("a", facts(1), expected_version=0)
    stored = fact()
    first = await pg_store.append("m", [stored], expected_version=0)

    again = await pg_store.append("m", [stored], expected_version=0)
    with pytest.raises(DuplicateEventId):
        await pg_store.append("m", [fact(event_id=stored.event_id, n=-1)], expected_version=1)

    assert (again.created, again.first_position) == (False, first.first_position)
    assert [e.position for e in await pg_store.read_all()] == [1, 2]


async def test_a_guess_refused_in_the_plan_is_answered_by_the_locked_path(pg_store):
    """Two appends expecting the same version in one batch: the plan on the guess would refuse
    the second, and a refusal is never answered from a guess."""
    await pg_store.append("m", facts(1), expected_version=0)
    flushes, one_trip = pg_store.flushes, pg_store.one_trip_flushes

    outcomes = await asyncio.gather(
        pg_store.append("m", facts(1), expected_version=1),
        pg_store.append("m", facts(1), expected_version=1),
        return_exceptions=True,
    )

    assert outcomes[0].version == 2
    assert isinstance(outcomes[1], ConcurrencyConflict)
    assert (pg_store.flushes, pg_store.one_trip_flushes) == (flushes + 1, one_trip)


async def test_after_a_miss_the_next_batches_take_the_locked_path_first(dsn, pg_store):
    async with create_pool(dsn, min_size=1, max_size=2) as other_pool:
        other = PostgresEventStore(other_pool)
        await pg_store.append("a", facts(1), expected_version=0)
        await other.append("b", facts(1), expected_version=0)  # moves the head under pg_store

        for version in range(1, 6):
            await pg_store.append("a", facts(1), expected_version=version)

    # 1: locked (nothing known); 2: the guess misses, locked; 3, 4: skipped (2 after the first
    # miss); 5, 6: one trip again.
    assert (pg_store.flushes, pg_store.one_trip_flushes) == (6, 2)
    assert [e.position for e in await pg_store.read_all()] == list(range(1, 8))
    assert (await verify(pg_store)).ok


async def test_two_stores_racing_keep_positions_dense_and_the_chain_whole(dsn):
    """As two processes would: each store guesses on the head it left, the other moves it."""
    pools = [create_pool(dsn, min_size=2, max_size=4) for _ in range(2)]
    opened: list[asyncpg.Pool] = [await pool for pool in pools]
    try:
        stores = [PostgresEventStore(pool) for pool in opened]

        async def writer(store: PostgresEventStore, stream: str) -> None:
            for version in range(40):
                await store.append(stream, facts(1), expected_version=version)

        await asyncio.gather(*(writer(stores[n % 2], f"s{n}") for n in range(8)))

        events = await stores[0].read_all(limit=1000)
        assert [e.position for e in events] == list(range(1, 321))
        for n in range(8):
            assert [e.version for e in events if e.stream_id == f"s{n}"] == list(range(1, 41))
        assert (await verify(stores[0])).ok
        assert sum(s.flushes for s in stores) < 320, "appends were coalesced"
    finally:
        for pool in opened:
            await pool.close()
