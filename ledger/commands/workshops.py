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

from events.catalog import (
    AttendanceCorrected,
    AttendanceRecorded,
    Event,
    Session,
    SessionsScheduled,
)
from events.codec import decode
from ledger.commands.base import write, write_manager
from ledger.commands.streams import workshop_stream
from ledger.domain.errors import DomainError, NotFound, Unchanged
from ledger.domain.managers import require_manager
from ledger.domain.workshops import agenda, attendance
from ledger.domain.workshops.credit import derive_credit
from ledger.domain.workshops.presence import min_presence

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger, Load
    from ledger.commands.messages import AgendaSession, CorrectAttendance, RecordAttendance
    from ledger.domain.catalogue import Activity
    from ledger.domain.record import ManagerRecord
    from ledger.domain.workshops.agenda import Workshop

__all__ = [
    "Attended",
    "Closed",
    "Roster",
    "RosterOutcome",
    "close_workshop",
    "correct_attendance",
    "record_attendance",
    "record_roster",
    "schedule_sessions",
]


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


# -- a roster of attendance, and a correction (issue 18's routes) ------------------------------

RosterOutcome = AttendanceRecorded | DomainError
"""A roster line's answer: the attendance recorded, or why not (Unchanged: recorded before)."""


class Roster(msgspec.Struct, frozen=True, kw_only=True):
    outcomes: list[RosterOutcome]
    """One per line, in order."""
    appended: AppendResult | None
    """Where the roster's new attendance was recorded (one append); None if none was new."""
    derived: dict[str, tuple[Event, ...]] = {}
    """After the close: by attendee, what their credit changed by."""


async def record_roster(
    ledger: Ledger,
    ctx: Context,
    provider_id: str,
    activity_id: str,
    given: Sequence[RecordAttendance],
) -> Roster:
    """A roster of attendance at one workshop, decided line by line against the workshop
    (`attendance.record_roster`) and written in ONE append to its stream: one transaction, so
    a roster of thousands of lines is stored whole or not at all.  A line naming a manager
    not enrolled is refused on its own (every manager is looked up in one read).  A retry
    after a crash decides again on what was stored: every line it stored is then Unchanged.
    Once the workshop is closed, the attendees of the new lines get their credit derived."""
    activity = await ledger.catalogue.activity(activity_id)
    enrolled = await ledger.managers.current_many(sorted({g.manager_id for g in given}))
    lines = [
        AttendanceRecorded(activity_id=activity_id, **msgspec.structs.asdict(g)) for g in given
    ]
    known = [i for i, line in enumerate(lines) if enrolled[line.manager_id][0] is not None]
    decided: list[RosterOutcome] = []

    def decide(workshop: Workshop | None) -> list[Event]:
        nonlocal decided
        decided = attendance.record_roster(
            workshop, activity, activity_id, [lines[i] for i in known],
            provider_id=provider_id, at=ledger.clock(),
        )  # fmt: skip
        if events := [o for o in decided if isinstance(o, AttendanceRecorded)]:
            return list(events)
        raise Unchanged("every line is recorded already, or refused")

    try:
        written = await write(
            ledger, ctx, workshop_stream(activity_id), _load(ledger, activity_id), decide
        )
        appended: AppendResult | None = written.result
    except Unchanged:
        appended = None
    outcomes: list[RosterOutcome] = [NotFound("manager", line.manager_id) for line in lines]
    for i, outcome in zip(known, decided, strict=True):
        outcomes[i] = outcome
    return Roster(
        outcomes=outcomes,
        appended=appended,
        derived=await _derive_after_close(ledger, ctx, activity, activity_id, lines, outcomes),
    )


async def _derive_after_close(
    ledger: Ledger,
    ctx: Context,
    activity: Activity | None,
    activity_id: str,
    lines: Sequence[AttendanceRecorded],
    outcomes: Sequence[RosterOutcome],
) -> dict[str, tuple[Event, ...]]:
    """Once the workshop is closed: the credit of the roster's attendees derived again, those
    whose lines were recorded now and those whose lines were recorded before (a retry of a
    roster whose derivation a crash cut short finishes it; one already derived records
    nothing)."""
    new = sorted(
        {
            lines[i].manager_id
            for i, o in enumerate(outcomes)
            if isinstance(o, AttendanceRecorded | Unchanged)
        }
    )
    if not new or activity is None:
        return {}
    workshop, _ = await _load(ledger, activity_id)()
    if workshop is None or workshop.closed_at is None:
        return {}
    return {m: await _derive(ledger, ctx, workshop, activity, m) for m in new}


async def correct_attendance(
    ledger: Ledger,
    ctx: Context,
    provider_id: str | None,
    activity_id: str,
    manager_id: str,
    session_id: str,
    given: CorrectAttendance,
) -> Attended:
    """New times for an attendance, or its removal (AttendanceCorrected): by its provider
    within the correction window, by an admin (`provider_id` None) at any time.  The same
    times again record nothing (`created=False`).  After the close, the attendee's credit is
    derived again."""
    activity, programs = (
        await ledger.catalogue.activity(activity_id),
        await ledger.catalogue.programs(),
    )
    correction = AttendanceCorrected(
        activity_id=activity_id, manager_id=manager_id, session_id=session_id,
        **msgspec.structs.asdict(given),
    )  # fmt: skip
    today = ledger.today()
    workshop, created = await _write_workshop(
        ledger,
        ctx,
        activity_id,
        lambda workshop: attendance.correct_attendance(
            workshop, activity, correction, programs, provider_id=provider_id, today=today
        ),
    )
    if workshop.closed_at is None or activity is None:
        return Attended(created=created)
    return Attended(
        created=created, derived=await _derive(ledger, ctx, workshop, activity, manager_id)
    )
