"""Writes to one manager, queued and combined (ledger/commands/streams_queue.py), on the
in-memory store: many concurrent writers, none refused, each with its own answer; a second
`Ledger` on the same store plays another process."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from events.backoff import CONFLICTS
from events.catalog import ActivityRegistered
from events.codec import Actor, decode
from events.memory import InMemoryEventStore
from events.store import ConcurrencyConflict
from ledger.commands import Context, Ledger, PostCompletion, catalogue, completions, managers
from ledger.commands.messages import EnrollManager, RegisterProvider, VoidCompletion
from ledger.domain.errors import AlreadyRecorded, NotFound
from ledger.domain.record import fold
from tests.builders import SteppingClock

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="r-1")
WRITERS, EACH = 16, 40
START = date(2025, 1, 1)


def _provider(n: int) -> Context:
    return Context(actor=Actor(role="provider", id="tma"), request_id=f"req-{n}")


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime(2025, 6, 2, 15, 0, tzinfo=UTC))


@pytest.fixture
async def store() -> InMemoryEventStore:
    return InMemoryEventStore(clock=SteppingClock(datetime(2025, 6, 2, 15, 0, tzinfo=UTC)))


@pytest.fixture
async def ledger(store, clock) -> Ledger:
    ledger = Ledger(store, clock=clock)
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await catalogue.register_provider(
        ledger, ADMIN, RegisterProvider(provider_id="tma", name="TMA", programs=["CMM"])
    )
    await catalogue.register_activity(
        ledger,
        ADMIN,
        ActivityRegistered(
            provider_id="tma", activity_id="course", title="Course", format="online",
            ceus=Decimal(5), category="core", programs=("CMM",),
            starts_on=START, ends_on=date(2025, 12, 31),
        ),
    )  # fmt: skip
    await managers.enroll_manager(
        ledger, ADMIN, EnrollManager(manager_id="m-1", name="Pat", email="p@x.org")
    )
    return ledger


def _posting(n: int) -> PostCompletion:
    """Distinct postings: one activity, a day each (a course counts once a day)."""
    return PostCompletion(
        external_id=f"p-{n}",
        manager_id="m-1",
        activity_id="course",
        completed_on=START + timedelta(days=n % 150),
        ceus=Decimal("0.25"),
    )


async def _post_all(ledgers: list[Ledger], count: int) -> list[completions.Posted]:
    async def writer(w: int) -> list[completions.Posted]:
        ledger = ledgers[w % len(ledgers)]
        return [
            await completions.record_completion(ledger, _provider(w), "tma", _posting(n))
            for n in range(w * count, (w + 1) * count)
        ]

    shares = await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    return [posted for share in shares for posted in share]


async def test_sixteen_writers_to_one_manager_are_all_recorded_in_few_rounds(ledger, store):
    count = 150 // WRITERS  # distinct days for every posting
    posted = await _post_all([ledger], count)

    assert len(posted) == WRITERS * count
    assert all(p.created for p in posted)
    positions = sorted(p.receipt.position for p in posted)
    assert len(set(positions)) == len(positions), "every caller has its own position"
    stream = await store.read_stream("manager-m-1")
    assert len(stream) == 1 + WRITERS * count
    record, version = await ledger.managers.current("m-1")
    assert record is not None
    assert version == len(stream)
    assert sum(c.ceus for c in record.completions.values()) == Decimal("0.25") * len(posted)
    # Combined: the first round takes one writer, the second the other fifteen, and so on.
    assert ledger.writes.rounds < len(posted) / 4


async def test_two_processes_on_one_stream_re_decide_on_the_fresh_tail(ledger, store, clock):
    other = Ledger(store, clock=clock)  # another process: its own loader and queue
    count = 150 // WRITERS
    posted = await _post_all([ledger, other], count)

    assert len(posted) == WRITERS * count
    assert all(p.created for p in posted)
    assert len(await store.read_stream("manager-m-1")) == 1 + WRITERS * count


async def test_each_caller_gets_its_own_answer_within_one_round(ledger, store):
    good = _posting(1)
    same_day = PostCompletion(
        external_id="other", manager_id="m-1", activity_id="course",
        completed_on=good.completed_on, ceus=Decimal(1),
    )  # fmt: skip
    unknown = PostCompletion(
        external_id="x", manager_id="m-1", activity_id="nope",
        completed_on=good.completed_on, ceus=Decimal(1),
    )  # fmt: skip
    outcomes = await asyncio.gather(
        completions.record_completion(ledger, _provider(1), "tma", good),
        completions.record_completion(ledger, _provider(2), "tma", same_day),
        completions.record_completion(ledger, _provider(3), "tma", unknown),
        completions.record_completion(ledger, _provider(4), "tma", _posting(2)),
        completions.record_completion(ledger, _provider(5), "tma", good),  # an exact repeat
        return_exceptions=True,
    )
    first, refused, missing, second, repeat = outcomes
    assert isinstance(first, completions.Posted)
    assert first.created
    assert isinstance(refused, AlreadyRecorded), "decided after the first, it sees it"
    assert isinstance(missing, NotFound)
    assert isinstance(second, completions.Posted)
    assert second.created
    assert second.receipt.position == first.receipt.position + 1
    assert isinstance(repeat, completions.Posted)
    assert not repeat.created
    assert repeat.receipt == first.receipt
    assert len(await store.read_stream("manager-m-1")) == 3


async def test_a_caller_that_loses_every_round_to_another_process_gets_the_conflict(
    ledger, store, monkeypatch
):
    real = store.append_many

    async def always_behind(items, *, atomic=False):  # another process always got there first
        return [ConcurrencyConflict(s, v or 0, (v or 0) + 1) for s, _, v in items]

    monkeypatch.setattr(store, "append_many", always_behind)
    ledger.writes._backoff, before = CONFLICTS.with_(attempts=3), ledger.writes.rounds
    with pytest.raises(ConcurrencyConflict):
        await completions.record_completion(ledger, _provider(1), "tma", _posting(1))
    # The first round decided on the snapshot (a conflict there is no lost round), then 3.
    assert ledger.writes.rounds - before == 1 + 3
    monkeypatch.setattr(store, "append_many", real)
    posted = await completions.record_completion(ledger, _provider(1), "tma", _posting(1))
    assert posted.created


async def test_a_lone_writer_decides_on_its_snapshot_and_keeps_the_stored_record(ledger, store):
    reads = 0
    real = store.read_stream

    async def counted(*args, **kwargs):
        nonlocal reads
        reads += 1
        return await real(*args, **kwargs)

    store.read_stream = counted
    for n in range(5):
        await completions.record_completion(ledger, _provider(n), "tma", _posting(n))

    assert reads == 0, "no tail read: the snapshot kept after each write is the stream"
    assert ledger.writes.speculative_rounds == 5
    kept = ledger.managers.kept("m-1")
    store.read_stream = real
    stored = await store.read_stream("manager-m-1")
    assert kept is not None
    assert kept.version == len(stored) == 6
    assert kept == fold([(decode(r), r.recorded_at) for r in stored]), "exactly the fold"


async def test_a_snapshot_behind_another_process_conflicts_and_is_decided_again(
    ledger, store, clock
):
    other = Ledger(store, clock=clock)  # another process appends behind this one's snapshot
    await completions.record_completion(other, _provider(1), "tma", _posting(1))
    same_day = PostCompletion(
        external_id="other", manager_id="m-1", activity_id="course",
        completed_on=_posting(1).completed_on, ceus=Decimal(1),
    )  # fmt: skip

    # On the snapshot (no posting yet) the same day is free: that speculation is not the
    # answer; decided again on the fresh tail, it is refused.
    with pytest.raises(AlreadyRecorded):
        await completions.record_completion(ledger, _provider(2), "tma", same_day)
    posted = await completions.record_completion(ledger, _provider(3), "tma", _posting(2))

    assert posted.created
    assert [r.version for r in await store.read_stream("manager-m-1")] == [1, 2, 3]


async def test_a_refusal_on_a_stale_snapshot_is_decided_again_on_the_fresh_tail(
    ledger, store, clock
):
    other = Ledger(store, clock=clock)
    posted = await completions.record_completion(other, _provider(1), "tma", _posting(1))

    # This process's snapshot of m-1 has no such completion: voiding it there would be
    # refused (NotFound); on the fresh tail it is voided.
    voiding = VoidCompletion(reason="entered twice")
    await completions.void_completion(ledger, ADMIN, posted.receipt.id, voiding, provider_id=None)

    record, _ = await ledger.managers.current("m-1")
    assert record is not None
    assert record.completions[posted.receipt.id].voided
