"""The event store contract: one suite, run against every adapter, and against the metered
store (events/metered.py, as the API composes it) wrapping each of them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from msgspec.structs import replace
from prometheus_client import CollectorRegistry, Counter

from events.chain import GENESIS_HASH, verify
from events.memory import InMemoryEventStore
from events.metered import metered
from events.observed import ObservedStore
from events.postgres.store import PostgresEventStore
from events.store import AppendItem, ConcurrencyConflict, DuplicateEventId, EventStore
from tests.builders import SteppingClock, fact, facts


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


def _counter() -> Counter:
    """A real Prometheus counter, in a registry of its own."""
    return Counter("appended", "test", ["type"], registry=CollectorRegistry())


@pytest.fixture(params=["memory", "postgres", "metered memory", "metered postgres"])
def store(request: pytest.FixtureRequest, clock: SteppingClock) -> EventStore:
    kind = request.param.removeprefix("metered ")
    if kind == "memory":
        inner: EventStore = InMemoryEventStore(clock=clock)
    else:
        inner = PostgresEventStore(request.getfixturevalue("pool"), clock=clock)
    if request.param.startswith("metered"):  # as the API composes it (ledger/app/factory.py)
        return metered(inner, _counter(), lambda items, outcomes: None)
    return inner


def _counted(counter: Counter) -> dict[str, float]:
    return {
        sample.labels["type"]: sample.value
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


async def test_a_metered_store_counts_each_newly_stored_event_by_type_once(store):
    counter = _counter()
    counted = metered(store, counter)
    first = [fact("completion_recorded"), fact("fee_paid")]
    await counted.append("manager-7", first, expected_version=0)
    await counted.append("manager-7", first, expected_version=0)  # an exact retry: none
    outcomes = await counted.append_many(
        [AppendItem("manager-7", facts(1), 0), AppendItem("manager-8", facts(3), 0)]
    )  # a conflict counts nothing, the other item its three

    assert [type(o).__name__ for o in outcomes] == ["ConcurrencyConflict", "AppendResult"]
    kinds = [e.type for e in await store.read_all()]
    assert _counted(counter) == {t: kinds.count(t) for t in set(kinds)}
    assert sum(_counted(counter).values()) == 5


async def test_an_observer_is_told_of_each_append_with_its_outcomes(store, clock):
    seen: list[list[str]] = []
    observed = ObservedStore(
        store, lambda items, outcomes: seen.append([type(o).__name__ for o in outcomes])
    )
    await observed.append("manager-7", facts(2), expected_version=0)
    await observed.append_many(
        [AppendItem("manager-7", facts(1), 0), AppendItem("manager-8", facts(1), 0)]
    )

    assert seen == [["AppendResult"], ["ConcurrencyConflict", "AppendResult"]]
    assert [e.version for e in await observed.read_stream("manager-7")] == [1, 2]


async def test_a_new_stream_starts_at_version_one_and_the_log_at_position_one(store):
    result = await store.append("manager-7", facts(3), expected_version=0)

    assert (result.first_position, result.last_position, result.version) == (1, 3, 3)
    assert result.created
    stored = await store.read_stream("manager-7")
    assert [e.version for e in stored] == [1, 2, 3]
    assert [e.position for e in stored] == [1, 2, 3]


async def test_events_come_back_byte_for_byte(store):
    sent = fact("completion_recorded", ceus="1.25", title="Café \u00e9t\u00e9 \u2014 \U0001f600")

    await store.append("s", [sent], expected_version=0)

    [got] = await store.read_stream("s")
    assert (got.event_id, got.type, got.schema_version) == (sent.event_id, sent.type, 1)
    assert (got.data, got.metadata) == (sent.data, sent.metadata)


async def test_positions_are_global_and_dense_across_streams(store):
    await store.append("a", facts(2), expected_version=0)
    await store.append("b", facts(1), expected_version=0)
    await store.append("a", facts(1), expected_version=2)

    log = await store.read_all()
    assert [(e.position, e.stream_id, e.version) for e in log] == [
        (1, "a", 1),
        (2, "a", 2),
        (3, "b", 1),
        (4, "a", 3),
    ]


async def test_a_stale_expected_version_is_a_conflict_and_stores_nothing(store):
    await store.append("s", facts(2), expected_version=0)

    with pytest.raises(ConcurrencyConflict) as caught:
        await store.append("s", facts(1), expected_version=1)

    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == ("s", 1, 2)
    assert len(await store.read_all()) == 2


async def test_expecting_a_new_stream_when_it_exists_is_a_conflict(store):
    await store.append("s", facts(1), expected_version=0)
    with pytest.raises(ConcurrencyConflict):
        await store.append("s", facts(1), expected_version=0)


async def test_no_expected_version_appends_whatever_the_version(store):
    await store.append("s", facts(2), expected_version=None)
    result = await store.append("s", facts(1), expected_version=None)
    assert result.version == 3


async def test_a_conflict_leaves_no_hole_in_the_positions(store):
    await store.append("s", facts(1), expected_version=0)
    with pytest.raises(ConcurrencyConflict):
        await store.append("s", facts(3), expected_version=0)

    result = await store.append("t", facts(1), expected_version=0)

    assert result.first_position == 2
    assert (await store.head()).position == 2


async def test_an_exact_retry_returns_the_original_result(store, clock):
    batch = facts(2)
    first = await store.append("s", batch, expected_version=0)
    await store.append("other", facts(1), expected_version=0)
    clock.advance(minutes=5)

    # A retry carries a new request id in its metadata: still the same facts.
    retry = [replace(e, metadata=b'{"request_id":"req-2"}') for e in batch]
    again = await store.append("s", retry, expected_version=0)

    assert not again.created
    assert (again.first_position, again.last_position, again.version) == (1, 2, 2)
    assert again.recorded_at == first.recorded_at
    assert len(await store.read_all()) == 3


async def test_a_known_event_id_with_other_content_is_refused(store):
    original = fact("a", n=1)
    await store.append("s", [original], expected_version=0)

    with pytest.raises(DuplicateEventId):
        await store.append("s", [fact("a", event_id=original.event_id, n=2)], expected_version=1)
    with pytest.raises(DuplicateEventId):
        await store.append("t", [original], expected_version=0)
    assert len(await store.read_all()) == 1


async def test_a_retry_that_only_partly_matches_the_original_is_refused(store):
    original = fact()
    await store.append("s", [original], expected_version=0)

    with pytest.raises(DuplicateEventId):
        await store.append("s", [original, fact()], expected_version=0)
    assert len(await store.read_all()) == 1


@pytest.mark.parametrize(
    ("stream_id", "batch", "expected_version", "complaint"),
    [
        ("", [fact()], 0, "stream_id"),
        ("s", [], 0, "at least one event"),
        ("s", [fact()], -1, "expected_version"),
    ],
    ids=["empty stream id", "no events", "negative version"],
)
async def test_impossible_appends_are_rejected_before_any_io(
    store, stream_id, batch, expected_version, complaint
):
    with pytest.raises(ValueError, match=complaint):
        await store.append(stream_id, batch, expected_version=expected_version)


async def test_one_append_cannot_hold_the_same_event_twice(store):
    twice = fact()
    with pytest.raises(ValueError, match="distinct"):
        await store.append("s", [twice, twice], expected_version=0)


async def test_read_stream_after_a_version_and_as_known_at_an_instant(store, clock):
    await store.append("s", facts(2), expected_version=0)
    known_at = clock.now
    clock.advance(days=1)
    await store.append("s", facts(2), expected_version=2)

    assert [e.version for e in await store.read_stream("s", after_version=1)] == [2, 3, 4]
    assert [e.version for e in await store.read_stream("s", known_at=known_at)] == [1, 2]
    before = known_at - timedelta(microseconds=1)
    assert await store.read_stream("s", known_at=before) == []
    assert await store.read_stream("nobody") == []


async def test_recorded_at_never_goes_back_even_when_the_clock_does(store, clock):
    await store.append("s", facts(1), expected_version=0)
    clock.advance(hours=-3)
    await store.append("s", facts(1), expected_version=1)

    first, second = await store.read_stream("s")
    assert second.recorded_at == first.recorded_at


async def test_read_all_pages_by_position_and_filters_by_type(store):
    await store.append(
        "s", [fact("a"), fact("b"), fact("a"), fact("c"), fact("a")], expected_version=0
    )

    assert [e.position for e in await store.read_all(after=1, limit=2)] == [2, 3]
    assert [e.position for e in await store.read_all(types=["a"])] == [1, 3, 5]
    assert [e.position for e in await store.read_all(after=3, types=["a", "c"])] == [4, 5]
    assert [e.position async for e in store.iter_all(after=2, batch_size=2)] == [3, 4, 5]


async def test_each_event_is_chained_to_the_one_before(store):
    assert await store.head() == type(await store.head())(position=0, hash=GENESIS_HASH)
    await store.append("a", facts(2), expected_version=0)
    await store.append("b", facts(1), expected_version=0)

    log = await store.read_all()
    assert log[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in log[1:]] == [e.hash for e in log[:-1]]
    assert len({e.hash for e in log}) == 3
    head = await store.head()
    assert (head.position, head.hash) == (3, log[-1].hash)
    report = await verify(store)
    assert report.ok
    assert (report.events_checked, report.head_position) == (3, 3)
    assert report.head_hash == log[-1].hash.hex()


async def test_twenty_writers_expecting_the_same_version_exactly_one_wins(store):
    await store.append("s", facts(1), expected_version=0)
    # Twenty concurrent reads first, so that a pooled adapter has twenty open connections
    # and the writers below really race instead of queueing for a connection.
    await asyncio.gather(*(store.read_stream("s") for _ in range(20)))

    async def write() -> str:
        try:
            await store.append("s", facts(1), expected_version=1)
        except ConcurrencyConflict:
            return "conflict"
        return "appended"

    outcomes = await asyncio.gather(*(write() for _ in range(20)))

    assert sorted(outcomes).count("appended") == 1
    assert outcomes.count("conflict") == 19
    assert [e.version for e in await store.read_stream("s")] == [1, 2]


async def test_concurrent_retries_of_one_append_store_it_once(store):
    batch = facts(3)
    await asyncio.gather(*(store.read_stream("s") for _ in range(10)))

    results = await asyncio.gather(
        *(store.append("s", batch, expected_version=None) for _ in range(10))
    )

    assert sum(r.created for r in results) == 1
    assert {(r.first_position, r.last_position) for r in results} == {(1, 3)}
    assert len(await store.read_all()) == 3


async def test_event_ids_are_unique_across_the_whole_log(store):
    event = fact()
    await store.append("s", [event], expected_version=0)
    with pytest.raises(DuplicateEventId):
        await store.append(
            "t", [fact(event_id=uuid.UUID(int=event.event_id.int))], expected_version=0
        )


async def test_an_event_can_be_found_by_its_id_wherever_it_is(store):
    wanted = fact("b")
    await store.append("s", [fact("a"), wanted], expected_version=0)

    found = await store.find(wanted.event_id)

    assert (found.stream_id, found.version, found.position, found.data) == ("s", 2, 2, wanted.data)
    assert await store.find(uuid.uuid4()) is None


# -- append_many ----------------------------------------------------------------------------


async def test_append_many_writes_every_stream_in_item_order(store):
    results = await store.append_many([("a", facts(2), 0), ("b", facts(1), 0), ("a", facts(1), 2)])

    assert [(r.stream_id, r.first_position, r.last_position, r.version) for r in results] == [
        ("a", 1, 2, 2),
        ("b", 3, 3, 1),
        ("a", 4, 4, 3),
    ]
    assert all(r.created for r in results)
    assert [(e.stream_id, e.version) for e in await store.read_all()] == [
        ("a", 1),
        ("a", 2),
        ("b", 1),
        ("a", 3),
    ]
    assert (await verify(store)).ok


async def test_append_many_answers_each_item_and_a_failed_item_takes_nothing_with_it(store):
    stored = fact()
    await store.append("busy", facts(1), expected_version=0)
    await store.append("done", [stored], expected_version=0)

    outcomes = await store.append_many(
        [
            ("m1", facts(1), 0),
            ("busy", facts(1), 0),  # stale: busy is at 1
            ("m2", facts(2), 0),
            ("other", [fact(event_id=stored.event_id, n=-1)], 0),  # a known id, other content
            ("done", [stored], 0),  # an exact retry
            ("m1", facts(1), 1),  # sees the first item's version
        ]
    )

    ok1, conflict, ok2, duplicate, retry, ok3 = outcomes
    assert isinstance(conflict, ConcurrencyConflict)
    assert (conflict.expected, conflict.actual) == (0, 1)
    assert isinstance(duplicate, DuplicateEventId)
    assert (retry.created, retry.first_position) == (False, 2)
    assert [(r.stream_id, r.first_position, r.version) for r in (ok1, ok2, ok3)] == [
        ("m1", 3, 1),
        ("m2", 4, 2),
        ("m1", 6, 2),
    ]
    log = await store.read_all()
    assert [e.position for e in log] == [1, 2, 3, 4, 5, 6]
    assert [e.stream_id for e in log[2:]] == ["m1", "m2", "m2", "m1"]
    assert (await verify(store)).ok


async def test_an_atomic_append_many_stores_all_or_nothing(store):
    await store.append("busy", facts(1), expected_version=0)

    with pytest.raises(ConcurrencyConflict):
        await store.append_many(
            [("m1", facts(2), 0), ("busy", facts(1), 0), ("m2", facts(1), 0)], atomic=True
        )
    assert len(await store.read_all()) == 1
    assert await store.read_stream("m1") == []

    results = await store.append_many(
        [("m1", facts(2), 0), ("busy", facts(1), 1), ("m2", facts(1), 0)], atomic=True
    )
    assert [r.last_position for r in results] == [3, 4, 5]
    assert (await store.head()).position == 5


async def test_an_append_many_retried_whole_returns_the_original_results(store, clock):
    roster = [("m1", facts(1), 0), ("m2", facts(2), 0), ("m3", facts(1), 0)]
    first = await store.append_many(roster)
    clock.advance(minutes=1)

    again = await store.append_many(roster)

    assert [r.created for r in again] == [False, False, False]
    assert [(r.first_position, r.last_position) for r in again] == [
        (r.first_position, r.last_position) for r in first
    ]
    assert len(await store.read_all()) == 4


async def test_the_same_append_twice_in_one_append_many_is_stored_once(store):
    batch = facts(2)

    first, second = await store.append_many([("s", batch, 0), ("s", batch, 0)])

    assert (first.created, second.created) == (True, False)
    assert (second.first_position, second.last_position) == (1, 2)
    assert len(await store.read_all()) == 2


async def test_append_many_rejects_an_impossible_item_before_any_io(store):
    with pytest.raises(ValueError, match="at least one item"):
        await store.append_many([])
    with pytest.raises(ValueError, match="at least one event"):
        await store.append_many([("a", facts(1), 0), ("b", [], 0)])
    assert await store.read_all() == []


async def test_find_many_returns_the_stored_events_among_the_ids(store):
    a, b, c = facts(3)
    await store.append("s", [a, b], expected_version=0)
    await store.append("t", [c], expected_version=0)

    found = await store.find_many([c.event_id, uuid.uuid4(), a.event_id, a.event_id])

    assert set(found) == {a.event_id, c.event_id}
    assert (found[a.event_id].stream_id, found[c.event_id].stream_id) == ("s", "t")
    assert found[c.event_id] == await store.find(c.event_id)
    assert await store.find_many([]) == {}


async def test_read_streams_reads_each_stream_after_its_version(store):
    await store.append("a", facts(3), expected_version=0)
    await store.append("b", facts(2), expected_version=0)
    await store.append("a", facts(1), expected_version=3)

    got = await store.read_streams({"a": 2, "b": 0, "c": 0, "d": 5})

    assert {s: [e.version for e in events] for s, events in got.items()} == {
        "a": [3, 4],
        "b": [1, 2],
        "c": [],
        "d": [],
    }
    assert got["a"] == await store.read_stream("a", after_version=2)
    assert await store.read_streams({}) == {}
