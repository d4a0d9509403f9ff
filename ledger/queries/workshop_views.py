"""What the workshop pages read (SPEC 11): a workshop's agenda with the attendance at each
session, and the workshops a manager attended with the sessions that counted.

Both are the fold of the stream `workshop-{activity_id}` and the rules of
ledger/domain/workshops/presence.py, the same `credit_of` the close derives the credit with,
so a page's minutes and CEUs are the ones the completions hold.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from events.catalog import Session
from ledger.domain.catalogue import Activity
from ledger.domain.workshops.agenda import Workshop
from ledger.domain.workshops.door import door_open
from ledger.domain.workshops.presence import (
    CategoryCredit,
    Credit,
    SessionOutcome,
    credit_of,
    min_presence,
)
from ledger.queries.workshops import read_workshop

if TYPE_CHECKING:
    from events.store import EventStore
    from ledger.access.policy import ManagerScope
    from ledger.domain.record import ManagerRecord
    from ledger.queries.reads import Reads

__all__ = [
    "AttendedWorkshop",
    "SessionAttendance",
    "SessionView",
    "WorkshopView",
    "load_workshop",
    "workshop_view",
    "workshops_of",
    "workshops_with_session",
]

RECENT = timedelta(days=60)
"""A manager's page shows the workshops it has credit of, and those of the last 60 days it
has attendance at (not closed yet, or closed without credit)."""


class SessionAttendance(msgspec.Struct, frozen=True, kw_only=True):
    """One manager at one session, as the provider sees it (the id only: no personal data)."""

    manager_id: str
    method: str
    outcome: SessionOutcome


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    session: Session
    door_open: bool
    attendance: tuple[SessionAttendance, ...]


class WorkshopView(msgspec.Struct, frozen=True, kw_only=True):
    activity: Activity
    sessions: tuple[SessionView, ...]
    """In agenda order; empty before an agenda is given."""
    closed_at: datetime | None
    min_presence: Decimal
    closable_from: datetime | None
    """When the last session ends (the close is refused before); None without an agenda."""


class AttendedWorkshop(msgspec.Struct, frozen=True, kw_only=True):
    activity: Activity
    closed_at: datetime | None
    credit: Credit
    offered_ceus: Decimal
    """The CEUs of the whole agenda (concurrent tracks counted once each)."""

    @property
    def earned(self) -> tuple[CategoryCredit, ...]:
        return self.credit.categories

    @property
    def earned_ceus(self) -> Decimal:
        return sum((c.ceus for c in self.credit.categories), Decimal(0))

    @property
    def partial(self) -> bool:
        return any(not s.counted for s in self.credit.sessions)


async def load_workshop(store: EventStore, activity_id: str) -> Workshop | None:
    return (await read_workshop(store, activity_id))[0]


async def workshops_with_session(reads: Reads, provider_id: str, session_id: str) -> list[Activity]:
    """The provider's workshops whose agenda has a session `session_id` (a session id is only
    unique within its workshop)."""
    found = []
    for activity in (await reads.catalogue.activities()).values():
        if activity.provider_id != provider_id or activity.format != "workshop":
            continue
        workshop = await load_workshop(reads.store, activity.activity_id)
        if workshop is not None and workshop.session(session_id) is not None:
            found.append(activity)
    return found


def _session_views(workshop: Workshop, share: Decimal, now: datetime) -> tuple[SessionView, ...]:
    outcomes = {m: credit_of(workshop, m, share) for m in workshop.attendees()}
    views = []
    for index, session in enumerate(workshop.sessions):
        here = [
            SessionAttendance(
                manager_id=manager_id,
                method=attendance.method,
                outcome=outcomes[manager_id].sessions[index],
            )
            for (manager_id, session_id), attendance in sorted(workshop.attendance.items())
            if session_id == session.session_id
        ]
        views.append(
            SessionView(session=session, door_open=door_open(session, now), attendance=tuple(here))
        )
    return tuple(views)


async def workshop_view(reads: Reads, activity: Activity, now: datetime) -> WorkshopView:
    """The provider's view of its workshop at `now`: each session with who checked in and out
    and for how long, whether its door is open, and whether the workshop is closed."""
    workshop = await load_workshop(reads.store, activity.activity_id)
    share = min_presence(activity, await reads.catalogue.programs())
    if workshop is None:
        return WorkshopView(
            activity=activity, sessions=(), closed_at=None, min_presence=share, closable_from=None
        )
    return WorkshopView(
        activity=activity,
        sessions=_session_views(workshop, share, now),
        closed_at=workshop.closed_at,
        min_presence=share,
        closable_from=max((s.ends_at for s in workshop.sessions), default=None),
    )


def _candidates(
    record: ManagerRecord, activities: dict[str, Activity], today: date
) -> list[Activity]:
    """Workshops the manager has credit of, and those of the last `RECENT` days."""
    credited = {c.activity_id for c in record.completions.values() if c.sessions}
    recent = {
        a.activity_id
        for a in activities.values()
        if a.format == "workshop" and a.starts_on <= today and a.ends_on >= today - RECENT
    }
    return [activities[i] for i in sorted(credited | recent) if i in activities]


async def workshops_of(
    reads: Reads, record: ManagerRecord, scope: ManagerScope, today: date
) -> list[AttendedWorkshop]:
    """The workshops a manager attended, as the caller may see them (only those whose activity
    counts for a program in its scope), newest first: each session counted or why not, and
    once closed the credit per category."""
    activities = await reads.catalogue.activities()
    programs = await reads.catalogue.programs()
    found = []
    for activity in _candidates(record, activities, today):
        if not scope.completion(activity.programs):
            continue
        workshop = await load_workshop(reads.store, activity.activity_id)
        if workshop is None or not workshop.attendance_of(record.manager_id):
            continue
        found.append(
            AttendedWorkshop(
                activity=activity,
                closed_at=workshop.closed_at,
                credit=credit_of(workshop, record.manager_id, min_presence(activity, programs)),
                offered_ceus=sum((s.ceus for s in workshop.sessions), Decimal(0)),
            )
        )
    return sorted(found, key=lambda w: (w.activity.starts_on, w.activity.activity_id), reverse=True)
