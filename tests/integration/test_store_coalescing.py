"""Commit coalescing: concurrent appends in one process share one transaction, and each is
still answered exactly as if it had run alone."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from events.chain import verify
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from events.store import ConcurrencyConflict, DuplicateEventId, NewEvent
from tests.builders import fact, facts


async def _outcome(append) -> object:
    try:
        return await append
    except (ConcurrencyConflict, DuplicateEventId) as error:
        return error


async def test_concurrent_appends_share_one_transaction_and_a_failing_one_fails_alone(pg_store):
    stored = fact()
    await pg_store.append("busy", facts(1), expected_version=0)
    await pg_store.append("done", [stored], expected_version=0)
    flushes = pg_store.flushes

    outcomes = await asyncio.gather(
        *(
            _outcome(pg_store.append(stream, events, expected_version=expected))
            for stream, events, expected in [
                ("m1", facts(1), 0),
                ("busy", facts(1), 0),  # stale
                ("m2", facts(3), 0),
                ("other", [fact(event_id=stored.event_id, n=-1)], 0),  # known id, new content
                ("done", [stored], 0),  # exact retry
                ("m1", facts(1), 1),  # the second append to m1 sees the first
                ("m1", facts(1), 1),  # ... and so this one is stale
            ]
        )
    )

    assert pg_store.flushes == flushes + 1, "all seven were one transaction"
    m1, busy, m2, other, done, m1_again, m1_stale = outcomes
    assert isinstance(busy, ConcurrencyConflict)
    assert isinstance(other, DuplicateEventId)
    assert isinstance(m1_stale, ConcurrencyConflict)
    assert (m1_stale.expected, m1_stale.actual) == (1, 2)
    assert (done.created, done.first_position) == (False, 2)
    assert [(r.first_position, r.last_position, r.version) for r in (m1, m2, m1_again)] == [
        (3, 3, 1),
        (4, 6, 3),
        (7, 7, 2),
    ]
    assert len({r.recorded_at for r in (m1, m2, m1_again)}) == 1
    assert [e.position for e in await pg_store.read_all()] == list(range(1, 8))
    assert (await verify(pg_store)).ok


async def test_idempotent_retries_under_64_way_concurrency_store_each_fact_once(pg_store):
    appends = {f"manager-{n}": facts(n % 3 + 1) for n in range(16)}

    def attempt(stream: str, events: list[NewEvent], n: int):
        # Half the retries know the stream is new, half append whatever the version.
        return pg_store.append(stream, events, expected_version=0 if n % 2 else None)

    results = await asyncio.gather(
        *(attempt(s, events, n) for n in range(4) for s, events in appends.items())
    )

    assert len(results) == 64
    by_stream: dict[str, list] = {}
    for result in results:
        by_stream.setdefault(result.stream_id, []).append(result)
    for stream, answers in by_stream.items():
        assert sum(a.created for a in answers) == 1, stream
        assert len({(a.first_position, a.last_position, a.version) for a in answers}) == 1
        assert answers[0].version == len(appends[stream])
    log = await pg_store.read_all()
    assert len(log) == sum(len(events) for events in appends.values())
    assert [e.position for e in log] == list(range(1, len(log) + 1))
    assert (await verify(pg_store)).ok


async def test_twenty_stores_expecting_the_same_version_exactly_one_wins(dsn, pg_store):
    """Twenty stores (as twenty processes would have) race at the head lock, not in a queue."""
    await pg_store.append("s", facts(1), expected_version=0)

    async def write(pool: asyncpg.Pool) -> str:
        try:
            await PostgresEventStore(pool).append("s", facts(1), expected_version=1)
        except ConcurrencyConflict:
            return "conflict"
        return "appended"

    pools = [await create_pool(dsn, min_size=1, max_size=1) for _ in range(20)]
    try:
        outcomes = await asyncio.gather(*(write(pool) for pool in pools))
    finally:
        await asyncio.gather(*(pool.close() for pool in pools))

    assert outcomes.count("appended") == 1
    assert outcomes.count("conflict") == 19
    assert [e.version for e in await pg_store.read_stream("s")] == [1, 2]


async def test_a_batch_whose_transaction_fails_answers_every_waiter_with_the_error(pg_store):
    # The database refuses a payload that is not JSON: the one INSERT of the batch fails.
    broken = NewEvent(
        event_id=fact().event_id, type="x", schema_version=1, data=b"{not json", metadata=b"{}"
    )
    appends = [("a", facts(1)), ("b", [broken]), ("c", facts(2))]

    outcomes = await asyncio.gather(
        *(pg_store.append(s, events, expected_version=0) for s, events in appends),
        return_exceptions=True,
    )

    assert all(isinstance(o, asyncpg.InvalidTextRepresentationError) for o in outcomes)
    assert await pg_store.read_all() == []
    assert (await pg_store.head()).position == 0
    after = await pg_store.append("a", facts(1), expected_version=0)
    assert after.first_position == 1


async def test_a_caller_cancelled_while_queued_is_not_appended(pg_store):
    # The first append's flush is under way while the second waits its turn in the queue.
    first = asyncio.create_task(pg_store.append("a", facts(1), expected_version=0))
    await asyncio.sleep(0)
    second = asyncio.create_task(pg_store.append("b", facts(1), expected_version=0))
    await asyncio.sleep(0)
    second.cancel()

    assert (await first).first_position == 1
    with pytest.raises(asyncio.CancelledError):
        await second
    third = await pg_store.append("c", facts(1), expected_version=0)
    assert third.first_position == 2
    assert [e.stream_id for e in await pg_store.read_all()] == ["a", "c"]


async def test_a_roster_of_many_managers_is_one_transaction(pg_store):
    roster = [(f"manager-{n}", facts(1), 0) for n in range(1000)]
    flushes = pg_store.flushes

    results = await pg_store.append_many(roster)

    assert pg_store.flushes == flushes + 1
    assert [r.first_position for r in results] == list(range(1, 1001))
    assert (await verify(pg_store)).ok
