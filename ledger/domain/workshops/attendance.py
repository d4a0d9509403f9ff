"""Attendance at a workshop's sessions, its corrections, and the close (SPEC 11).

One attendance per manager and session, as one posting per external_id: the same again
records nothing (Unchanged: the command answers it like a retried posting), a different one
is refused (AttendanceConflict).  A check-in without a check-out (the kiosk's first scan) is
completed by recording it again with the same check-in and the check-out.  "The same" means
the same instants: a roster restating what the kiosk recorded is a retry, whatever its method.
Attendance may be recorded after the close: the credit then derives the difference
(ledger/domain/workshops/credit.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from events.catalog import AttendanceCorrected, AttendanceRecorded, Event, WorkshopClosed
from ledger.domain.cycles import rules_in_force
from ledger.domain.errors import (
    AlreadyExists,
    DomainError,
    FieldError,
    Invalid,
    NotAllowed,
    NotFound,
    Unchanged,
    WrongState,
)
from ledger.domain.workshops.agenda import Attendance, require_workshop

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ledger.domain.catalogue import Activity, Program
    from ledger.domain.workshops.agenda import Workshop

__all__ = [
    "AttendanceConflict",
    "close_workshop",
    "correct_attendance",
    "correction_closes",
    "record_attendance",
    "record_roster",
]


class AttendanceConflict(AlreadyExists):
    """The manager's attendance at the session was recorded before, with other times."""

    def __init__(self, attendance: Attendance) -> None:
        super().__init__(
            "attendance", f"of {attendance.manager_id} at session {attendance.session_id}"
        )
        self.attendance = attendance


def _aware(value: datetime | None) -> bool:
    return value is None or (value.tzinfo is not None and value.utcoffset() is not None)


def _times_errors(checked_in_at: datetime, checked_out_at: datetime | None) -> list[FieldError]:
    if not (_aware(checked_in_at) and _aware(checked_out_at)):
        return [FieldError("checked_in_at", "times need their offset, e.g. 09:00-05:00")]
    if checked_out_at is not None and checked_out_at <= checked_in_at:
        return [FieldError("checked_out_at", "must be after checked_in_at")]
    return []


def _checks_out(held: Attendance, recorded: AttendanceRecorded) -> bool:
    """A check-out completing a check-in: the same check-in, and now a check-out."""
    return (
        held.checked_out_at is None
        and recorded.checked_out_at is not None
        and held.checked_in_at == recorded.checked_in_at
    )


def record_attendance(
    workshop: Workshop | None,
    activity: Activity | None,
    recorded: AttendanceRecorded,
    *,
    provider_id: str,
) -> list[Event]:
    workshop = require_workshop(workshop, activity, recorded.activity_id, provider_id)
    held = workshop.attendance.get((recorded.manager_id, recorded.session_id))
    return [_decide(workshop, held, recorded)]


def _decide(workshop: Workshop, held: Attendance | None, recorded: AttendanceRecorded) -> Event:
    """One attendance against the one `held` for its manager and session, if any."""
    if workshop.session(recorded.session_id) is None:
        raise NotFound("session", recorded.session_id)
    if errors := _times_errors(recorded.checked_in_at, recorded.checked_out_at):
        raise Invalid(errors)
    if held is None or _checks_out(held, recorded):
        return recorded
    if (held.checked_in_at, held.checked_out_at) == (
        recorded.checked_in_at,
        recorded.checked_out_at,
    ):
        raise Unchanged("this attendance is already recorded")
    raise AttendanceConflict(held)


def record_roster(
    workshop: Workshop | None,
    activity: Activity | None,
    activity_id: str,
    lines: Sequence[AttendanceRecorded],
    *,
    provider_id: str,
    at: datetime,
) -> list[AttendanceRecorded | DomainError]:
    """A roster of attendance at one workshop, each line decided as `record_attendance`
    would decide it alone, after the lines before it: the event to record, or why not
    (Unchanged for a line already recorded just so, by an earlier roster or an earlier
    line).  A workshop the provider may not act on refuses the whole roster.  Lines are
    kept in a dict beside the workshop's, not folded into it (a fold copies the attendance
    for every line: quadratic in a roster of thousands); `at` stands in for their
    recorded_at."""
    workshop = require_workshop(workshop, activity, activity_id, provider_id)
    held = dict(workshop.attendance)
    outcomes: list[AttendanceRecorded | DomainError] = []
    for recorded in lines:
        key = (recorded.manager_id, recorded.session_id)
        try:
            event = _decide(workshop, held.get(key), recorded)
        except DomainError as refused:
            outcomes.append(refused)
            continue
        assert isinstance(event, AttendanceRecorded)
        held[key] = _as_held(recorded, held.get(key), at)
        outcomes.append(event)
    return outcomes


def _as_held(recorded: AttendanceRecorded, first: Attendance | None, at: datetime) -> Attendance:
    return Attendance(
        manager_id=recorded.manager_id,
        session_id=recorded.session_id,
        checked_in_at=recorded.checked_in_at,
        checked_out_at=recorded.checked_out_at,
        method=recorded.method,
        recorded_at=at if first is None else first.recorded_at,
    )


def correction_closes(
    attendance: Attendance, activity: Activity, programs: Mapping[str, Program], today: date
) -> date:
    """The last day its provider may correct `attendance`: the shortest correction window
    among the activity's programs, from the day the attendance was recorded (as a posting's)."""
    windows = [
        rules_in_force(programs[code].versions, today).correction_window_days
        for code in activity.programs
        if code in programs
    ]
    return attendance.recorded_at.date() + timedelta(days=min(windows, default=0))


def _correction_errors(held: Attendance, correction: AttendanceCorrected) -> list[FieldError]:
    errors: list[FieldError] = []
    if not correction.reason.strip():
        errors.append(FieldError("reason", "must not be empty"))
    times = (correction.checked_in_at, correction.checked_out_at)
    if correction.removed and times != (None, None):
        errors.append(FieldError("removed", "give new times or removed, not both"))
    elif not correction.removed and times == (None, None):
        errors.append(FieldError("checked_in_at", "give checked_in_at, checked_out_at or both"))
    elif not correction.removed:
        new_in, new_out = correction.checked_in_at, correction.checked_out_at
        errors += _times_errors(
            held.checked_in_at if new_in is None else new_in,
            held.checked_out_at if new_out is None else new_out,
        )
    return errors


def correct_attendance(
    workshop: Workshop | None,
    activity: Activity | None,
    correction: AttendanceCorrected,
    programs: Mapping[str, Program],
    *,
    provider_id: str | None,
    today: date,
) -> list[Event]:
    """New times for an attendance, or its removal: by its provider within the correction
    window, by an association (`provider_id` None) at any time."""
    workshop = require_workshop(workshop, activity, correction.activity_id, provider_id)
    assert activity is not None  # require_workshop found it
    held = workshop.attendance.get((correction.manager_id, correction.session_id))
    if held is None:
        raise NotFound("attendance", f"of {correction.manager_id} at {correction.session_id}")
    if provider_id is not None and today > (
        closes := correction_closes(held, activity, programs, today)
    ):
        raise NotAllowed(f"the correction window closed on {closes}; ask the association")
    if errors := _correction_errors(held, correction):
        raise Invalid(errors)
    if not correction.removed and (
        correction.checked_in_at in (None, held.checked_in_at)
        and correction.checked_out_at in (None, held.checked_out_at)
    ):
        raise Unchanged("the attendance already says so")
    return [correction]


def close_workshop(
    workshop: Workshop | None,
    activity: Activity | None,
    activity_id: str,
    *,
    provider_id: str,
    now: datetime,
) -> list[Event]:
    """The provider closes the workshop after its last session; its credit is derived for
    each attendee (ledger/domain/workshops/credit.py).  Closing again records nothing."""
    workshop = require_workshop(workshop, activity, activity_id, provider_id)
    if workshop.closed_at is not None:
        raise Unchanged(f"the workshop was closed at {workshop.closed_at.isoformat()}")
    last = max(s.ends_at for s in workshop.sessions)
    if now < last:
        raise WrongState(f"the last session ends at {last.isoformat()}: close after it")
    return [WorkshopClosed(activity_id=workshop.activity_id)]
