"""What the workshop routes answer (SPEC 11): a workshop's agenda, a roster's result per line,
the close's credit per attendee, and one attendee's sessions (the certificate's figures).

A workshop is read from its own stream, `workshop-{activity_id}`, folded on each request (a
workshop's stream is its agenda, its attendance and its close: thousands of events at most).
What a manager earned is `presence.credit_of` on that fold, the same function the close
derives the credit with, so the numbers here, on the certificate and in the attendee's
record agree by construction.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import msgspec

from events.catalog import (
    AttendanceRecorded,
    CompletionAmended,
    CompletionRecorded,
    CompletionVoided,
    Event,
    Session,
)
from events.codec import decode
from ledger.commands.streams import workshop_stream
from ledger.domain.errors import DomainError, Invalid, NotFound, Unchanged
from ledger.domain.workshops.agenda import fold_workshop
from ledger.domain.workshops.presence import (
    CategoryCredit,
    SessionReason,
    credit_of,
    min_presence,
    reasons,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from events.store import AppendResult, EventStore, RecordedEvent
    from ledger.commands.workshops import RosterOutcome
    from ledger.domain.catalogue import Activity, Program
    from ledger.domain.workshops.agenda import Workshop
    from ledger.queries.reads import Reads

__all__ = [
    "AgendaView",
    "AttendeeCredit",
    "AttendeeView",
    "ClosedView",
    "CorrectedView",
    "RosterLine",
    "RosterResult",
    "attendee_at",
    "attendee_view",
    "closed_view",
    "positions",
    "read_workshop",
    "roster_line",
    "roster_result",
    "session_reasons",
]


class AgendaView(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: str
    sessions: tuple[Session, ...]
    closed_at: datetime | None
    position: int
    """The workshop's last event."""


class RosterLine(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    line: int
    """1 for the roster's first item (a CSV's first line after its header)."""
    manager_id: str | None
    session_id: str | None
    status: Literal["created", "unchanged", "rejected"]
    position: int | None = None
    error: dict[str, object] | None = None


class RosterResult(msgspec.Struct, frozen=True, kw_only=True):
    created: int
    unchanged: int
    rejected: int
    results: list[RosterLine]
    derived: dict[str, int] = {}
    """After the close: by attendee, how many events their credit changed by."""


class AttendeeCredit(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    completed_on: date | None
    categories: tuple[CategoryCredit, ...]
    changes: tuple[str, ...]
    """What this close recorded in the attendee's record: `recorded core 3.5`,
    `amended general`, `voided core`; empty when it held the credit already."""


class ClosedView(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: str
    closed_at: datetime
    created: bool
    """False: the workshop was closed before (nothing new unless attendance changed)."""
    attendees: tuple[AttendeeCredit, ...]


class AttendeeView(msgspec.Struct, frozen=True, kw_only=True):
    """One manager at one workshop: every session, counted or why not, and the credit."""

    activity_id: str
    activity_title: str
    provider_id: str
    manager_id: str
    closed_at: datetime | None
    completed_on: date | None
    ceus: Decimal
    categories: tuple[CategoryCredit, ...]
    sessions: tuple[SessionReason, ...]
    position: int
    """The workshop's last event when this was read: what it was made from."""
    hash: str


class CorrectedView(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: str
    manager_id: str
    session_id: str
    attendee: AttendeeView | None
    """The manager at the workshop after the correction; None when it removed their last
    attendance there."""


async def read_workshop(
    store: EventStore, activity_id: str, *, known_at: datetime | None = None
) -> tuple[Workshop | None, RecordedEvent | None]:
    """The workshop folded from its stream (as known at `known_at`), and its last event."""
    recorded = await store.read_stream(workshop_stream(activity_id))
    if known_at is not None:
        recorded = [r for r in recorded if r.recorded_at <= known_at]
    workshop = fold_workshop((decode(r), r.recorded_at) for r in recorded)
    return workshop, recorded[-1] if recorded else None


async def attendee_at(reads: Reads, activity_id: str, manager_id: str) -> AttendeeView:
    """`attendee_view` of the workshop as it is now (NotFound: no such activity, or no
    attendance of the manager there)."""
    activity = await reads.catalogue.activity(activity_id)
    if activity is None:
        raise NotFound("activity", activity_id)
    workshop, last = await read_workshop(reads.store, activity_id)
    programs = await reads.catalogue.programs()
    return attendee_view(workshop, last, activity, programs, manager_id)


def attendee_view(
    workshop: Workshop | None,
    last: RecordedEvent | None,
    activity: Activity,
    programs: Mapping[str, Program],
    manager_id: str,
) -> AttendeeView:
    """What `manager_id` attended of the workshop; NotFound if no attendance is recorded."""
    if workshop is None or last is None or not workshop.attendance_of(manager_id):
        raise NotFound(f"attendance at {activity.activity_id} of manager", manager_id)
    credit = credit_of(workshop, manager_id, min_presence(activity, programs))
    return AttendeeView(
        activity_id=activity.activity_id, activity_title=activity.title,
        provider_id=activity.provider_id, manager_id=manager_id, closed_at=workshop.closed_at,
        completed_on=credit.completed_on, ceus=sum((c.ceus for c in credit.categories), Decimal(0)),
        categories=credit.categories, sessions=reasons(credit), position=last.position,
        hash=last.hash.hex(),
    )  # fmt: skip


async def session_reasons(
    store: EventStore,
    activities: Mapping[str, Activity],
    programs: Mapping[str, Program],
    manager_id: str,
    activity_ids: Sequence[str],
    *,
    known_at: datetime | None = None,
) -> dict[str, tuple[SessionReason, ...]]:
    """For the workshops of `activity_ids`: the manager's sessions, counted or why not."""
    found: dict[str, tuple[SessionReason, ...]] = {}
    for activity_id in sorted(set(activity_ids)):
        workshop, _ = await read_workshop(store, activity_id, known_at=known_at)
        if workshop is None or activity_id not in activities:
            continue
        share = min_presence(activities[activity_id], programs)
        found[activity_id] = reasons(credit_of(workshop, manager_id, share))
    return found


def _change(event: Event) -> str:
    match event:
        case CompletionRecorded(category=category, ceus=ceus):
            return f"recorded {category} {ceus}"
        case CompletionAmended(reason=reason):
            return f"amended: {reason}"
        case CompletionVoided(reason=reason):
            return f"voided: {reason}"
    return type(event).__name__


def closed_view(
    workshop: Workshop,
    activity: Activity,
    programs: Mapping[str, Program],
    *,
    created: bool,
    derived: Mapping[str, Sequence[Event]],
) -> ClosedView:
    assert workshop.closed_at is not None
    share = min_presence(activity, programs)
    attendees = []
    for manager_id in workshop.attendees():
        credit = credit_of(workshop, manager_id, share)
        attendees.append(
            AttendeeCredit(
                manager_id=manager_id,
                completed_on=credit.completed_on,
                categories=credit.categories,
                changes=tuple(_change(e) for e in derived.get(manager_id, ())),
            )
        )
    return ClosedView(
        activity_id=activity.activity_id,
        closed_at=workshop.closed_at,
        created=created,
        attendees=tuple(attendees),
    )


def roster_line(
    line: int,
    outcome: RosterOutcome,
    manager_id: str | None,
    session_id: str | None,
    position: int | None,
    *,
    status_of: Callable[[DomainError], int],
) -> RosterLine:
    """One line's answer; `status_of` maps a refusal to its HTTP status (the door's)."""
    if isinstance(outcome, AttendanceRecorded):
        return RosterLine(
            line=line, manager_id=manager_id, session_id=session_id, status="created",
            position=position,
        )  # fmt: skip
    if isinstance(outcome, Unchanged):
        return RosterLine(
            line=line, manager_id=manager_id, session_id=session_id, status="unchanged"
        )
    assert isinstance(outcome, DomainError)
    error: dict[str, object] = {"status": status_of(outcome), "detail": outcome.detail}
    if isinstance(outcome, Invalid):
        error["errors"] = [msgspec.to_builtins(e) for e in outcome.errors]
    return RosterLine(
        line=line, manager_id=manager_id, session_id=session_id, status="rejected", error=error
    )


def roster_result(lines: list[RosterLine], derived: Mapping[str, Sequence[Event]]) -> RosterResult:
    count = {s: sum(r.status == s for r in lines) for s in ("created", "unchanged", "rejected")}
    return RosterResult(
        **count,
        results=lines,
        derived={m: len(events) for m, events in derived.items() if events},
    )


def positions(appended: AppendResult | None, outcomes: Sequence[RosterOutcome]) -> list[int | None]:
    """Each created line's position in the log: the append's, in order."""
    at = None if appended is None else appended.first_position
    found: list[int | None] = []
    for outcome in outcomes:
        if isinstance(outcome, AttendanceRecorded) and at is not None:
            found.append(at)
            at += 1
        else:
            found.append(None)
    return found
