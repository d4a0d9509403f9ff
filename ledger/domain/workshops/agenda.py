"""A workshop (SPEC 11): the fold of the `workshop-{activity_id}` stream, and its agenda.

The agenda is given whole (SessionsScheduled) each time.  Sessions may overlap (concurrent
tracks); each has its own CEUs and category, and together they hold at most the activity's
CEUs.  Once attendance is recorded for a session, an agenda that changes or drops it is
refused; unchanged sessions stay and new ones may be added.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import msgspec
from msgspec.structs import replace

from events.catalog import (
    AttendanceCorrected,
    AttendanceRecorded,
    Event,
    Session,
    SessionsScheduled,
    WorkshopClosed,
)
from ledger.domain.cycles import rules_in_force
from ledger.domain.errors import FieldError, Invalid, NotAllowed, NotFound, Unchanged, WrongState
from ledger.domain.values import valid_ceus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from ledger.domain.catalogue import Activity, Program

__all__ = [
    "Attendance",
    "Workshop",
    "agenda_errors",
    "allowed_categories",
    "evolve_workshop",
    "fold_workshop",
    "require_workshop",
    "schedule_sessions",
]


class Attendance(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    session_id: str
    checked_in_at: datetime
    checked_out_at: datetime | None
    method: Literal["roster", "kiosk"]
    recorded_at: datetime
    """When it was first recorded: the provider's correction window runs from that day."""
    corrected: bool = False


class Workshop(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: str
    sessions: tuple[Session, ...] = ()
    """The agenda in force, in the order it was given."""
    attendance: dict[tuple[str, str], Attendance] = {}
    """By (manager_id, session_id)."""
    closed_at: datetime | None = None
    version: int = 0
    """How many events of the stream this state has folded."""

    def session(self, session_id: str) -> Session | None:
        return next((s for s in self.sessions if s.session_id == session_id), None)

    def attendees(self) -> list[str]:
        return sorted({manager_id for manager_id, _ in self.attendance})

    def attendance_of(self, manager_id: str) -> dict[str, Attendance]:
        """A manager's attendance, by session id."""
        return {sid: a for (mid, sid), a in self.attendance.items() if mid == manager_id}


def _attended(workshop: Workshop, event: AttendanceRecorded, at: datetime) -> Workshop:
    key = (event.manager_id, event.session_id)
    first = workshop.attendance.get(key)
    attendance = Attendance(
        manager_id=event.manager_id,
        session_id=event.session_id,
        checked_in_at=event.checked_in_at,
        checked_out_at=event.checked_out_at,
        method=event.method,
        recorded_at=at if first is None else first.recorded_at,
    )
    return replace(workshop, attendance={**workshop.attendance, key: attendance})


def _corrected(workshop: Workshop, event: AttendanceCorrected) -> Workshop:
    key = (event.manager_id, event.session_id)
    attendance = dict(workshop.attendance)
    old = attendance.pop(key)
    if not event.removed:
        checked_in_at, checked_out_at = event.checked_in_at, event.checked_out_at
        attendance[key] = replace(
            old,
            checked_in_at=old.checked_in_at if checked_in_at is None else checked_in_at,
            checked_out_at=old.checked_out_at if checked_out_at is None else checked_out_at,
            corrected=True,
        )
    return replace(workshop, attendance=attendance)


def _apply(workshop: Workshop | None, event: Event, at: datetime) -> Workshop:
    match event, workshop:
        case SessionsScheduled(activity_id=aid, sessions=sessions), None:
            return Workshop(activity_id=aid, sessions=sessions)
        case SessionsScheduled(sessions=sessions), Workshop():
            return replace(workshop, sessions=sessions)
        case AttendanceRecorded(), Workshop():
            return _attended(workshop, event, at)
        case AttendanceCorrected(), Workshop():
            return _corrected(workshop, event)
        case WorkshopClosed(), Workshop():
            return replace(workshop, closed_at=workshop.closed_at or at)
    raise ValueError(f"{type(event).__name__} does not apply to workshop {workshop!r}")


def evolve_workshop(workshop: Workshop | None, event: Event, recorded_at: datetime) -> Workshop:
    """The workshop after `event`, recorded at `recorded_at`; an event that does not fit
    (attendance before any agenda, an event of another stream) raises."""
    evolved = _apply(workshop, event, recorded_at)
    return replace(evolved, version=evolved.version + 1)


def fold_workshop(events: Iterable[tuple[Event, datetime]]) -> Workshop | None:
    workshop: Workshop | None = None
    for event, recorded_at in events:
        workshop = evolve_workshop(workshop, event, recorded_at)
    return workshop


# -- decisions ---------------------------------------------------------------------------------


def _of_provider(activity: Activity | None, activity_id: str, provider_id: str | None) -> Activity:
    """The activity, if `provider_id` (None: an association or admin) may act on it."""
    if activity is None:
        raise NotFound("activity", activity_id)
    if provider_id is not None and activity.provider_id != provider_id:
        raise NotAllowed(f"activity {activity_id} belongs to another provider")
    return activity


def require_workshop(
    workshop: Workshop | None, activity: Activity | None, activity_id: str, provider_id: str | None
) -> Workshop:
    """The workshop with its agenda, if `provider_id` may act on it; else why not."""
    _of_provider(activity, activity_id, provider_id)
    if workshop is None or not workshop.sessions:
        raise NotFound("agenda for activity", activity_id)
    return workshop


def allowed_categories(activity: Activity, programs: Mapping[str, Program]) -> tuple[str, ...]:
    """The categories a session may have: those every program of the activity names (the
    rules in force on the activity's first day), as an activity's own category must be."""
    named = [
        rules_in_force(programs[code].versions, activity.starts_on).categories
        for code in activity.programs
        if code in programs
    ]
    return tuple(c for c in (named[0] if named else ()) if all(c in n for n in named))


def _aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _times_errors(at: str, session: Session, activity: Activity) -> list[FieldError]:
    if not (_aware(session.starts_at) and _aware(session.ends_at)):
        return [FieldError(at + "starts_at", "times need their offset, e.g. 09:00-05:00")]
    if session.ends_at <= session.starts_at:
        return [FieldError(at + "ends_at", "must be after starts_at")]
    if (
        not activity.starts_on
        <= session.starts_at.date()
        <= session.ends_at.date()
        <= (activity.ends_on)
    ):
        dates = f"{activity.starts_on}..{activity.ends_on}"
        return [FieldError(at + "starts_at", f"outside the activity's dates {dates}")]
    return []


def _session_errors(
    index: int, session: Session, activity: Activity, categories: Sequence[str]
) -> list[FieldError]:
    at = f"sessions[{index}]."
    errors = _times_errors(at, session, activity)
    if not session.session_id.strip():
        errors.append(FieldError(at + "session_id", "must not be empty"))
    if not session.title.strip():
        errors.append(FieldError(at + "title", "must not be empty"))
    if (why := valid_ceus(session.ceus)) is not None:
        errors.append(FieldError(at + "ceus", why))
    if session.category not in categories:
        errors.append(FieldError(at + "category", f"must be one of: {', '.join(categories)}"))
    return errors


def _whole_errors(activity: Activity, sessions: Sequence[Session]) -> list[FieldError]:
    errors: list[FieldError] = []
    ids = [s.session_id for s in sessions]
    if twice := sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(FieldError("sessions", f"session ids must be unique: {', '.join(twice)}"))
    if all(valid_ceus(s.ceus) is None for s in sessions):
        total = sum((s.ceus for s in sessions), Decimal(0))
        if total > activity.ceus:
            message = f"their CEUs add up to {total}, more than the activity's {activity.ceus}"
            errors.append(FieldError("sessions", message))
    return errors


def agenda_errors(
    activity: Activity, sessions: Sequence[Session], programs: Mapping[str, Program]
) -> list[FieldError]:
    """Everything wrong with an agenda for `activity`, each named by its field."""
    if not sessions:
        return [FieldError("sessions", "at least one session")]
    categories = allowed_categories(activity, programs)
    errors = [
        e for i, s in enumerate(sessions) for e in _session_errors(i, s, activity, categories)
    ]
    return errors + _whole_errors(activity, sessions)


def _changed_with_attendance(workshop: Workshop, sessions: Sequence[Session]) -> list[str]:
    """The sessions with attendance that the new agenda changes or drops."""
    new = {s.session_id: s for s in sessions}
    attended = {sid for _, sid in workshop.attendance}
    return [
        s.session_id
        for s in workshop.sessions
        if s.session_id in attended and new.get(s.session_id) != s
    ]


def schedule_sessions(
    workshop: Workshop | None,
    activity: Activity | None,
    scheduled: SessionsScheduled,
    *,
    provider_id: str,
    programs: Mapping[str, Program],
) -> list[Event]:
    """Give a workshop its agenda, or change it (the whole agenda each time)."""
    activity = _of_provider(activity, scheduled.activity_id, provider_id)
    if activity.format != "workshop":
        why = f"is of format {activity.format!r}: only a workshop has sessions"
        raise Invalid([FieldError("activity_id", why)])
    if errors := agenda_errors(activity, scheduled.sessions, programs):
        raise Invalid(errors)
    if workshop is not None and workshop.sessions == scheduled.sessions:
        raise Unchanged("the agenda already says so")
    if workshop is not None and (held := _changed_with_attendance(workshop, scheduled.sessions)):
        raise WrongState(
            f"attendance is recorded for session(s) {', '.join(held)}: they cannot change"
        )
    return [scheduled]
