"""What every command shares: who asks (`Context`), the collaborators (`Ledger`), and `write`.

A command handler is a few lines of orchestration: look up what the decision needs, then
`write(ledger, ctx, stream, load, decide)`.  `write` loads the stream's state, asks the pure
`decide` function for events, and appends them expecting the version it loaded.  If another
writer got there first the append is a ConcurrencyConflict, and `write` loads again (only the
stream's new tail, for a manager: ledger/commands/loaders.py) and decides again: a decision is
always made on the state it is appended to.

Writes to a manager's stream (`write_manager`) do not retry against each other: within this
process they are queued and combined per stream (ledger/commands/streams_queue.py), so a hot
manager is written in rounds, each decided in order on one load and appended in one call,
and only another process's append can make a decision run again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TypeVar
from uuid import UUID

from events.backoff import CONFLICTS, Backoff
from events.catalog import (
    AttendanceClaimed,
    ClaimFulfilled,
    CompletionRecorded,
    Event,
    FeePaid,
    RenewalFiled,
    SelfReported,
)
from events.codec import Metadata, encode
from events.store import EventStore, utc_now
from ledger.commands.loaders import Catalogue, ManagerLoader
from ledger.commands.streams import fulfilment_id
from ledger.commands.streams_queue import StreamQueue, Written
from ledger.domain.managers import require_manager
from ledger.domain.record import ManagerRecord

__all__ = ["Context", "Ledger", "Load", "Written", "write", "write_enrolled", "write_manager"]

S = TypeVar("S")
Load = Callable[[], Awaitable[tuple[S, int]]]
"""The stream's state and the version it was folded up to."""


Context = Metadata
"""Who is asking, and in which request: exactly the metadata of every event the request
records (`ctx.actor`, `ctx.request_id`)."""


class Ledger:
    """The write side's collaborators: the store, the loaders over it, the clock and new ids.
    It holds no logic; the handlers in this package take it as their first argument."""

    def __init__(
        self,
        store: EventStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], UUID] = uuid.uuid4,
    ) -> None:
        self.store = store
        self.clock = clock
        self.new_id = new_id
        self.managers = ManagerLoader(store)
        self.catalogue = Catalogue(store)
        self.writes = StreamQueue(
            store, self.managers, clock=clock, event_id=lambda e: event_id(e, new_id)
        )

    def today(self) -> date:
        """The ledger's calendar day (UTC)."""
        return self.clock().date()


def event_id(event: Event, new_id: Callable[[], UUID]) -> UUID:
    """Completions, fees, renewals, self-reports and claims are identified by their recording
    event, so that the store's idempotency and `find` work for them directly.  A claim's
    fulfilment is named by the claim and the completion: two identical postings racing each
    other decide the same events (an exact retry for the store), and one decided on a stale
    record meets the version check, not a refused id."""
    match event:
        case CompletionRecorded(completion_id=cid):
            return cid
        case AttendanceClaimed(claim_id=claim_id):
            return claim_id
        case ClaimFulfilled(claim_id=claim_id, completion_id=cid):
            return fulfilment_id(claim_id, cid)
        case RenewalFiled(renewal_id=rid):
            return rid
        case FeePaid(fee_id=UUID() as fid):
            return fid
        case SelfReported(report_id=rid):
            return rid
    return new_id()


async def write(
    ledger: Ledger,
    ctx: Context,
    stream: str,
    load: Load[S],
    decide: Callable[[S], list[Event]],
    *,
    backoff: Backoff = CONFLICTS,
) -> Written:
    """Load, decide, append; again on a conflict, after a pause with jitter so that a crowd
    of writers spreads out (events/backoff.py).  A decision either raises or returns events."""

    async def attempt() -> Written:
        state, version = await load()
        events = decide(state)
        assert events, "a decision that records nothing should have raised"
        batch = [encode(e, metadata=ctx, event_id=event_id(e, ledger.new_id)) for e in events]
        result = await ledger.store.append(stream, batch, expected_version=version)
        return Written(events=events, result=result)

    return await backoff.call(attempt)


async def write_manager(
    ledger: Ledger,
    ctx: Context,
    manager_id: str,
    decide: Callable[[ManagerRecord | None], list[Event]],
) -> Written:
    """`write` to a manager's stream, starting from the loader's current record, queued
    behind (and decided after) this process's other writes to the same stream."""
    return await ledger.writes.write(ctx, manager_id, decide)


async def write_enrolled(
    ledger: Ledger, ctx: Context, manager_id: str, decide: Callable[[ManagerRecord], list[Event]]
) -> Written:
    """`write_manager` for a decision about a manager who must exist (NotFound otherwise)."""
    return await write_manager(
        ledger, ctx, manager_id, lambda record: decide(require_manager(record, manager_id))
    )
