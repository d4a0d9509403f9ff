"""A roster is one read of earlier postings, one read of the managers' records and one
`append_many` (ledger/commands/rosters.py); a group that meets another writer is decided
again on its fresh tail, a group that meets a recorded id goes line by line.  The racing
writer is real: it appends to the same in-memory store between the roster's load and its
append, as another process would."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from events.catalog import ActivityRegistered, CompletionRecorded
from events.codec import Actor, decode, encode
from events.memory import InMemoryEventStore
from ledger.commands import Context, Duplicate, Ledger, PostCompletion, Posted, catalogue, managers
from ledger.commands.messages import EnrollManager, RegisterProvider
from ledger.commands.rosters import record_completions
from ledger.commands.streams import completion_id, manager_stream
from ledger.domain.record import fold
from tests.builders import SteppingClock

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="r-1")
PROVIDER = Context(actor=Actor(role="provider", id="tma"), request_id="r-2")
MANAGERS, ACTIVITIES = 5, 8


class CountingStore(InMemoryEventStore):
    """The in-memory store, counting its reads and appends; `before_append` runs just before
    each `append_many` (the racing writer)."""

    def __init__(self, clock: SteppingClock) -> None:
        super().__init__(clock=clock)
        self.calls: dict[str, int] = {}
        self.items: list[int] = []
        self.tails: list[int] = []
        """How many events each `read_streams` returned."""
        self.before_append = None

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    async def find(self, event_id):
        self._count("find")
        return await super().find(event_id)

    async def find_many(self, event_ids):
        self._count("find_many")
        return await super().find_many(event_ids)

    async def read_stream(self, stream_id, **kwargs):
        self._count("read_stream")
        return await super().read_stream(stream_id, **kwargs)

    async def read_streams(self, after):
        self._count("read_streams")
        found = await super().read_streams(after)
        self.tails.append(sum(len(tail) for tail in found.values()))
        return found

    async def append_many(self, items, *, atomic=False):
        if self.before_append is not None:
            racer, self.before_append = self.before_append, None
            await racer()
        self._count("append_many")
        self.items.append(len(items))
        return await super().append_many(items, atomic=atomic)


@pytest.fixture
async def world() -> tuple[Ledger, CountingStore]:
    clock = SteppingClock(datetime(2025, 6, 2, 15, 0, tzinfo=UTC))
    store = CountingStore(clock)
    ledger = Ledger(store, clock=clock)
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await catalogue.register_provider(
        ledger, ADMIN, RegisterProvider(provider_id="tma", name="TMA", programs=["CMM"])
    )
    for a in range(ACTIVITIES):
        await catalogue.register_activity(
            ledger,
            ADMIN,
            ActivityRegistered(
                provider_id="tma", activity_id=f"a-{a}", title="Course", format="online",
                ceus=Decimal(5), category="core", programs=("CMM",),
                starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31),
            ),
        )  # fmt: skip
    for m in range(MANAGERS):
        await managers.enroll_manager(
            ledger, ADMIN, EnrollManager(manager_id=f"m-{m}", name="M", email=f"m{m}@example.org")
        )
    store.calls.clear()
    store.items.clear()
    return ledger, store


def _line(m: int, a: int) -> PostCompletion:
    return PostCompletion(
        external_id=f"r-{m}-{a}", manager_id=f"m-{m}", activity_id=f"a-{a}",
        completed_on=date(2025, 5, 4), ceus=Decimal(1),
    )  # fmt: skip


def _roster() -> list[PostCompletion]:
    return [_line(m, a) for m in range(MANAGERS) for a in range(ACTIVITIES)]


async def test_a_roster_is_one_lookup_one_load_and_one_append(world):
    ledger, store = world
    roster = _roster()
    await ledger.managers.current_many(f"m-{m}" for m in range(MANAGERS))  # warm snapshots
    store.calls.clear()

    outcomes = await record_completions(ledger, PROVIDER, "tma", roster)

    assert all(isinstance(o, Posted) and o.created for o in outcomes)
    assert store.calls == {"find_many": 1, "read_streams": 1, "append_many": 1}
    assert store.items == [MANAGERS]
    positions = [o.receipt.position for o in outcomes if isinstance(o, Posted)]
    assert len(set(positions)) == len(roster)
    for m in range(MANAGERS):
        record, _ = await ledger.managers.current(f"m-{m}")
        assert record is not None
        assert len(record.completions) == ACTIVITIES


async def test_a_group_that_met_another_writer_is_decided_again_on_its_fresh_tail(world):
    ledger, store = world
    other = Ledger(store, clock=ledger.clock)  # another process
    racing = PostCompletion(
        external_id="elsewhere", manager_id="m-2", activity_id="a-3",
        completed_on=date(2025, 5, 4), ceus=Decimal(2),
    )  # fmt: skip

    async def racer() -> None:
        await record_completions(other, PROVIDER, "tma", [racing])

    store.before_append = racer
    outcomes = await record_completions(ledger, PROVIDER, "tma", _roster())

    # The racer's posting of m-2 / a-3 on that day came first: the roster's line meets the
    # same-day rule on the fresh tail; every other line is stored.
    refused = [i for i, o in enumerate(outcomes) if not isinstance(o, Posted)]
    assert refused == [2 * ACTIVITIES + 3]
    assert store.items == [1, MANAGERS, 1], "racer, the roster, then the one conflicted group"
    record, _ = await ledger.managers.current("m-2")
    assert record is not None
    assert len(record.completions) == ACTIVITIES


async def test_a_group_that_met_a_recorded_id_goes_line_by_line(world):
    ledger, store = world
    roster = _roster()
    taken = roster[ACTIVITIES + 1]  # m-1's second line, recorded meanwhile with other content
    cid = completion_id("tma", taken.external_id)
    clash = CompletionRecorded(
        completion_id=cid, manager_id="m-1", provider_id="tma", external_id=taken.external_id,
        activity_id="a-7", activity_title="Course", category="core", programs=("CMM",),
        completed_on=date(2025, 5, 1), ceus=Decimal(3),
    )  # fmt: skip

    async def racer() -> None:
        await store.append("manager-m-1", [encode(clash, metadata=PROVIDER, event_id=cid)],
                           expected_version=None)  # fmt: skip

    store.before_append = racer
    outcomes = await record_completions(ledger, PROVIDER, "tma", roster)

    assert isinstance(outcomes[ACTIVITIES + 1], Duplicate)
    others = [o for i, o in enumerate(outcomes) if i != ACTIVITIES + 1]
    assert all(isinstance(o, Posted) and o.created for o in others)
    record, _ = await ledger.managers.current("m-1")
    assert record is not None
    assert len(record.completions) == ACTIVITIES  # 7 of the roster and the clash


async def test_after_a_roster_each_snapshot_is_the_fold_of_its_stream_and_no_tail_is_read(world):
    ledger, store = world
    clock = ledger.clock

    async def later() -> None:  # the append's recorded_at is not the decision's clock
        clock.advance(seconds=3)

    store.before_append = later
    await record_completions(ledger, PROVIDER, "tma", _roster()[::2])
    store.tails.clear()

    states = await ledger.managers.current_many(f"m-{m}" for m in range(MANAGERS))

    assert store.tails == [0], "the roster's own events are not read back"
    for m in range(MANAGERS):
        stream = await store.read_stream(manager_stream(f"m-{m}"))
        assert states[f"m-{m}"] == (fold([(decode(r), r.recorded_at) for r in stream]), len(stream))
