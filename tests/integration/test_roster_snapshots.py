"""After a roster on PostgreSQL, each manager's snapshot is exactly the fold of its stream as
read back from the database (recorded_at through timestamptz included), so the loader's
next read of the roster's managers finds no tail to fold (ledger/commands/rosters.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from events.catalog import ActivityRegistered
from events.codec import Actor, decode
from events.postgres.store import PostgresEventStore
from ledger.commands import Context, Ledger, PostCompletion, Posted, catalogue, managers
from ledger.commands.messages import EnrollManager, RegisterProvider
from ledger.commands.rosters import record_completions
from ledger.commands.streams import manager_stream
from ledger.domain.record import fold
from tests.builders import SteppingClock

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="r-1")
PROVIDER = Context(actor=Actor(role="provider", id="tma"), request_id="r-2")


async def test_a_rosters_snapshots_are_the_folds_of_the_streams_as_stored(pool):
    clock = SteppingClock(datetime(2025, 6, 2, 15, 0, 0, 123456, tzinfo=UTC))
    ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await catalogue.register_provider(
        ledger, ADMIN, RegisterProvider(provider_id="tma", name="TMA", programs=["CMM"])
    )
    await catalogue.register_activity(
        ledger,
        ADMIN,
        ActivityRegistered(
            provider_id="tma", activity_id="a-1", title="Course", format="online",
            ceus=Decimal(5), category="core", programs=("CMM",),
            starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31),
        ),
    )  # fmt: skip
    ids = [f"m-{m}" for m in range(3)]
    for manager_id in ids:
        await managers.enroll_manager(
            ledger,
            ADMIN,
            EnrollManager(manager_id=manager_id, name="M", email=f"{manager_id}@example.org"),
        )
    roster = [
        PostCompletion(
            external_id=f"r-{m}-{day}", manager_id=manager_id, activity_id="a-1",
            completed_on=date(2025, 5, day), ceus=Decimal("1.5"),
        )
        for m, manager_id in enumerate(ids) for day in (4, 5)
    ]  # fmt: skip

    outcomes = await record_completions(ledger, PROVIDER, "tma", roster)

    assert all(isinstance(o, Posted) and o.created for o in outcomes)
    fresh = Ledger(ledger.store, clock=clock)  # another process: it folds the streams as read
    for manager_id in ids:
        stream = await ledger.store.read_stream(manager_stream(manager_id))
        assert stream[-1].recorded_at == clock.now
        folded = fold([(decode(r), r.recorded_at) for r in stream])
        assert await ledger.managers.current(manager_id) == (folded, 3)
        assert await fresh.managers.current(manager_id) == (folded, 3)
