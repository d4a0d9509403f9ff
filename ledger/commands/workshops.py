"""Workshops (SPEC 11): a workshop's agenda, the attendance at its sessions and its close, on
the stream `workshop-{activity_id}`; the credit the close derives, in each attendee's stream.

Each decision on the workshop is made on its whole stream (the agenda and every attendance),
so one attendance per manager and session holds, and an agenda cannot change a session with
attendance.  The same attendance again decides Unchanged, answered like a retried posting
(`created=False`).  Once the workshop is closed, recording attendance derives the attendee's
credit again, a second write (to the manager's stream) that records only the difference; a
retry derives again, so a crash between the two writes is mended by retrying.  Closing writes
WorkshopClosed once, then derives every attendee's credit; closing again derives again (and
records nothing new when nothing changed), which finishes an interrupted close.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from events.catalog import AttendanceRecorded, Event, Session, SessionsScheduled
from events.codec import decode
from ledger.commands.base import write, write_manager
from ledger.commands.streams import workshop_stream
from ledger.domain.errors import Unchanged
from ledger.domain.managers import require_manager
from ledger.domain.workshops import agenda, attendance
from ledger.domain.workshops.credit import derive_credit
from ledger.domain.workshops.presence import min_presence

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger, Load
    from ledger.commands.messages import AgendaSession, RecordAttendance
    from ledger.domain.catalogue import Activity
    from ledger.domain.record import ManagerRecord
    from ledger.domain.workshops.agenda import Workshop

__all__ = ["Attended", "Closed", "close_workshop", "record_attendance", "schedule_sessions"]


class Attended(msgspec.Struct, frozen=True, kw_only=True):
    created: bool
    """False for an attendance already recorded just so (a retry)."""
    derived: tuple[Event, ...] = ()
    """After the close: what the attendee's credit changed by."""


class Closed(msgspec.Struct, frozen=True, kw_only=True):
    created: bool
    """False when the workshop was closed before."""
    derived: dict[str, tuple[Event, ...]]
    """By attendee: what their credit changed by (nothing, closing again)."""


def _load(ledger: Ledger, activity_id: str) -> Load[Workshop | None]:
    async def load() -> tuple[Workshop | None, int]:
        recorded = await ledger.store.read_stream(workshop_stream(activity_id))
        workshop = agenda.fold_workshop((decode(r), r.recorded_at) for r in recorded)
        return workshop, recorded[-1].version if recorded else 0

    return load


async def schedule_sessions(
    ledger: Ledger,
    ctx: Context,
    provider_id: str,
    activity_id: str,
    sessions: Sequence[AgendaSession],
) -> AppendResult | None:
    """Where the agenda was recorded, or None if it already said so."""
    activity = await ledger.catalogue.activity(activity_id)
    known = await ledger.catalogue.programs()
    given = tuple(Session(**msgspec.structs.asdict(s)) for s in sessions)
    scheduled = SessionsScheduled(activity_id=activity_id, sessions=given)
    try:
        written = await write(
            ledger,
            ctx,
            workshop_stream(activity_id),
            _load(ledger, activity_id),
            lambda workshop: agenda.schedule_sessions(
                workshop, activity, scheduled, provider_id=provider_id, programs=known
            ),
        )
    except Unchanged:
        return None
    return written.result


async def _derive(
    ledger: Ledger, ctx: Context, workshop: Workshop, activity: Activity, manager_id: str
) -> tuple[Event, ...]:
    """The attendee's credit derived again: what it changed by."""
    share = min_presence(activity, await ledger.catalogue.programs())

    def decide(record: ManagerRecord | None) -> list[Event]:
        events = derive_credit(record, manager_id, workshop, activity, share, new_id=ledger.new_id)
        if not events:
            raise Unchanged("the credit already says so")
        return events

    try:
        written = await write_manager(ledger, ctx, manager_id, decide)
    except Unchanged:
        return ()
    return tuple(written.events)


async def _write_workshop(
    ledger: Ledger,
    ctx: Context,
    activity_id: str,
    decide: Callable[[Workshop | None], list[Event]],
) -> tuple[Workshop, bool]:
    """Decide on the workshop and write: the workshop as it then is, and whether anything
    was recorded (False: the decision was Unchanged)."""
    load = _load(ledger, activity_id)
    try:
        await write(ledger, ctx, workshop_stream(activity_id), load, decide)
        created = True
    except Unchanged:
        created = False
    workshop, _ = await load()
    assert workshop is not None, "a decision on no workshop raises"
    return workshop, created


async def record_attendance(
    ledger: Ledger, ctx: Context, provider_id: str, activity_id: str, given: RecordAttendance
) -> Attended:
    activity = await ledger.catalogue.activity(activity_id)
    require_manager((await ledger.managers.current(given.manager_id))[0], given.manager_id)
    recorded = AttendanceRecorded(activity_id=activity_id, **msgspec.structs.asdict(given))
    workshop, created = await _write_workshop(
        ledger,
        ctx,
        activity_id,
        lambda workshop: attendance.record_attendance(
            workshop, activity, recorded, provider_id=provider_id
        ),
    )
    if workshop.closed_at is None or activity is None:
        return Attended(created=created)
    derived = await _derive(ledger, ctx, workshop, activity, given.manager_id)
    return Attended(created=created, derived=derived)


async def close_workshop(
    ledger: Ledger, ctx: Context, provider_id: str, activity_id: str
) -> Closed:
    activity, now = await ledger.catalogue.activity(activity_id), ledger.clock()
    workshop, created = await _write_workshop(
        ledger,
        ctx,
        activity_id,
        lambda workshop: attendance.close_workshop(
            workshop, activity, activity_id, provider_id=provider_id, now=now
        ),
    )
    assert activity is not None, "closing refuses an unknown activity"
    derived = {m: await _derive(ledger, ctx, workshop, activity, m) for m in workshop.attendees()}
    return Closed(created=created, derived=derived)
