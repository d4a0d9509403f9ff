"""Which sessions a manager attended, and why the others did not count (SPEC 11).

Presence at a session is the overlap of [checked_in_at, checked_out_at] with the session's
[starts_at, ends_at].  A session is attended when presence is at least `min_presence` of its
length (exactly: microseconds against a Decimal share, no float).  An attendance without a
check-out is no presence at all ("not checked out").

Concurrent sessions (their times overlap) cannot both be attended.  Of the sessions a manager
was present enough for, the rule keeps the one with the longer presence (the time actually
spent there), ties going to the session given first in the agenda, and then, in that same
order, every further one that overlaps none already kept; a session left out is explained by
the kept session that overlaps it ("attended the concurrent session s-2 instead").  This is a
greedy choice over a total order (presence descending, agenda position ascending), so the
outcome depends only on the agenda and the attendance, never on the order they were recorded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import msgspec

from ledger.domain.cycles import rules_in_force

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from events.catalog import Session
    from ledger.domain.catalogue import Activity, Program
    from ledger.domain.workshops.agenda import Attendance, Workshop

__all__ = [
    "CategoryCredit",
    "Credit",
    "Outcome",
    "SessionOutcome",
    "SessionReason",
    "credit_of",
    "min_presence",
    "presence",
    "reasons",
]

Outcome = Literal["attended", "not_attended", "not_checked_out", "too_short", "concurrent"]
_ZERO = timedelta(0)
_MICROSECOND = timedelta(microseconds=1)
_MINUTE = timedelta(minutes=1)


class SessionOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One session of the agenda for one manager: counted, or why not, as data."""

    session_id: str
    title: str
    category: str
    ceus: Decimal
    starts_at: datetime
    ends_at: datetime
    counted: bool
    outcome: Outcome
    present_minutes: int
    length_minutes: int
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    instead: str | None = None
    """For `concurrent`: the session attended instead."""

    @property
    def explanation(self) -> str:
        minutes = f"{self.present_minutes} of {self.length_minutes} minutes"
        match self.outcome:
            case "attended":
                return f"attended {minutes}"
            case "not_attended":
                return "no attendance recorded"
            case "not_checked_out":
                return "not checked out"
            case "concurrent":
                return f"attended the concurrent session {self.instead} instead"
        return self._too_short(minutes)

    def _too_short(self, minutes: str) -> str:
        assert self.checked_in_at is not None
        assert self.checked_out_at is not None
        if self.checked_in_at <= self.starts_at:
            return f"left after {minutes}"
        if self.checked_out_at >= self.ends_at:
            late = (self.checked_in_at - self.starts_at) // _MINUTE
            return f"arrived {late} minutes late: present for {minutes}"
        return f"present for {minutes}"


class CategoryCredit(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    ceus: Decimal
    sessions: tuple[str, ...]
    """In agenda order."""


class Credit(msgspec.Struct, frozen=True, kw_only=True):
    """What one manager earned at a workshop: CEUs per category, the day, every session."""

    manager_id: str
    completed_on: date | None
    """The day (in its own offset) the last attended session ended; None: none attended."""
    categories: tuple[CategoryCredit, ...]
    """Sorted by category; only categories with an attended session."""
    sessions: tuple[SessionOutcome, ...]
    """Every session of the agenda, in agenda order."""


def min_presence(activity: Activity, programs: Mapping[str, Program]) -> Decimal:
    """The share of a session to be present for: the strictest of the activity's programs
    (the rules in force on its first day), so the credit counts for every one of them."""
    shares = [
        rules_in_force(programs[code].versions, activity.starts_on).min_presence
        for code in activity.programs
        if code in programs
    ]
    return max(shares, default=Decimal("0.9"))


def presence(session: Session, attendance: Attendance | None) -> timedelta:
    if attendance is None or attendance.checked_out_at is None:
        return _ZERO
    start = max(session.starts_at, attendance.checked_in_at)
    end = min(session.ends_at, attendance.checked_out_at)
    return max(end - start, _ZERO)


def _enough(session: Session, present: timedelta, share: Decimal) -> bool:
    length = session.ends_at - session.starts_at
    return Decimal(present // _MICROSECOND) >= share * Decimal(length // _MICROSECOND)


def _overlap(a: Session, b: Session) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def _kept(
    sessions: Sequence[Session], present: Sequence[timedelta], share: Decimal
) -> dict[int, int | None]:
    """For every session present enough for: None if kept, else the kept one that beat it."""
    enough = [i for i, s in enumerate(sessions) if _enough(s, present[i], share)]
    kept: dict[int, int | None] = {}
    for i in sorted(enough, key=lambda i: (-present[i], i)):
        rivals = (k for k, by in kept.items() if by is None and _overlap(sessions[k], sessions[i]))
        kept[i] = next(rivals, None)
    return kept


def _kind(attendance: Attendance | None, kept: bool, instead: str | None) -> Outcome:
    if instead is not None:
        return "concurrent"
    if kept:
        return "attended"
    if attendance is None:
        return "not_attended"
    return "not_checked_out" if attendance.checked_out_at is None else "too_short"


def _outcome(
    session: Session,
    attendance: Attendance | None,
    present: timedelta,
    *,
    kept: bool,
    instead: str | None,
) -> SessionOutcome:
    outcome = _kind(attendance, kept, instead)
    return SessionOutcome(
        session_id=session.session_id,
        title=session.title,
        category=session.category,
        ceus=session.ceus,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        counted=outcome == "attended",
        outcome=outcome,
        present_minutes=present // _MINUTE,
        length_minutes=(session.ends_at - session.starts_at) // _MINUTE,
        checked_in_at=None if attendance is None else attendance.checked_in_at,
        checked_out_at=None if attendance is None else attendance.checked_out_at,
        instead=instead,
    )


def _categories(sessions: Sequence[Session]) -> tuple[CategoryCredit, ...]:
    by: dict[str, list[Session]] = {}
    for session in sessions:
        by.setdefault(session.category, []).append(session)
    return tuple(
        CategoryCredit(
            category=category,
            ceus=sum((s.ceus for s in mine), Decimal(0)),
            sessions=tuple(s.session_id for s in mine),
        )
        for category, mine in sorted(by.items())
    )


def credit_of(workshop: Workshop, manager_id: str, share: Decimal) -> Credit:
    """What `manager_id` earned at `workshop` with sessions attended at `share` of their
    length (`min_presence`), and why each other session did not count."""
    sessions, mine = workshop.sessions, workshop.attendance_of(manager_id)
    present = [presence(s, mine.get(s.session_id)) for s in sessions]
    kept = _kept(sessions, present, share)
    outcomes = tuple(
        _outcome(
            s,
            mine.get(s.session_id),
            present[i],
            kept=i in kept,
            instead=None if (by := kept.get(i)) is None else sessions[by].session_id,
        )
        for i, s in enumerate(sessions)
    )
    attended = [s for i, s in enumerate(sessions) if i in kept and kept[i] is None]
    last = max(attended, key=lambda s: s.ends_at, default=None)
    return Credit(
        manager_id=manager_id,
        completed_on=None if last is None else last.ends_at.date(),
        categories=_categories(attended),
        sessions=outcomes,
    )


class SessionReason(msgspec.Struct, frozen=True, kw_only=True):
    """A session as a transcript or an explanation shows it: counted, or why not, in words."""

    session_id: str
    title: str
    category: str
    ceus: Decimal
    starts_at: datetime
    ends_at: datetime
    counted: bool
    outcome: Outcome
    why: str
    """`attended 88 of 90 minutes`, `left after 20 of 90 minutes`, `not checked out`, ..."""


def reasons(credit: Credit) -> tuple[SessionReason, ...]:
    """Every session of the agenda for `credit`'s manager, in agenda order, with its words."""
    return tuple(
        SessionReason(
            session_id=s.session_id, title=s.title, category=s.category, ceus=s.ceus,
            starts_at=s.starts_at, ends_at=s.ends_at, counted=s.counted, outcome=s.outcome,
            why=s.explanation,
        )
        for s in credit.sessions
    )  # fmt: skip
