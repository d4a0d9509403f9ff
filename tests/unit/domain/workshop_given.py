"""Given/when/then for a workshop (SPEC 11): its stream fact by fact, literal times with
their offset (Central Daylight Time, -05:00), and the attendees' records beside it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from events.catalog import AttendanceRecorded, Event, Session, SessionsScheduled
from ledger.domain.workshops.agenda import Workshop, fold_workshop, schedule_sessions
from ledger.domain.workshops.attendance import close_workshop, record_attendance
from ledger.domain.workshops.credit import derive_credit
from ledger.domain.workshops.presence import Credit, credit_of, min_presence
from tests.unit.domain.given import Manager, activity_of, default_programs, workshop

CDT = timezone(timedelta(hours=-5))


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An instant of May 2025, Central Daylight Time."""
    return datetime(2025, 5, day, hour, minute, second, tzinfo=CDT)


def session(
    session_id: str,
    starts_at: datetime,
    ends_at: datetime,
    ceus: str = "1",
    category: str = "core",
) -> Session:
    return Session(
        session_id=session_id,
        title=f"Session {session_id}",
        starts_at=starts_at,
        ends_at=ends_at,
        ceus=Decimal(ceus),
        category=category,
    )


AGENDA = (
    session("s-1", at(1, 9), at(1, 10, 30), "1.5", "core"),
    session("s-2a", at(1, 11), at(1, 12), "1", "core"),
    session("s-2b", at(1, 11), at(1, 12), "1", "general"),  # concurrent with s-2a
    session("s-3", at(1, 13), at(1, 15), "2", "general"),
    session("s-4", at(2, 9), at(2, 12), "3", "core"),
)
"""The two-day `tma-billing` workshop (12 CEUs, CMM and CMOM): 8.5 CEUs in five sessions."""


class Stream:
    """The stream `workshop-tma-billing`, fact by fact, each recorded at a given instant."""

    def __init__(self, **activity: object) -> None:
        self.activity = activity_of(workshop(**activity))
        self.programs = default_programs()
        self.events: list[tuple[Event, datetime]] = []

    def state(self) -> Workshop | None:
        return fold_workshop(self.events)

    def do(self, decision, when: datetime, *args, **kwargs) -> list[Event]:
        """Run a decide function against the current state and record what it returns."""
        events = decision(self.state(), self.activity, *args, **kwargs)
        self.events += [(e, when) for e in events]
        return events

    # -- given / when ---------------------------------------------------------------------

    def schedule(self, *sessions: Session, when: datetime | None = None) -> list[Event]:
        scheduled = SessionsScheduled(activity_id="tma-billing", sessions=sessions)
        return self.do(
            schedule_sessions,
            when or datetime(2025, 4, 1, tzinfo=UTC),
            scheduled,
            provider_id="tma",
            programs=self.programs,
        )

    def scheduled(self, *sessions: Session) -> Stream:
        self.schedule(*(sessions or AGENDA))
        return self

    def attend(
        self,
        session_id: str,
        checked_in_at: datetime,
        checked_out_at: datetime | None,
        *,
        manager_id: str = "m-1",
        when: datetime | None = None,
        method: str = "roster",
    ) -> list[Event]:
        recorded = AttendanceRecorded(
            activity_id="tma-billing",
            session_id=session_id,
            manager_id=manager_id,
            checked_in_at=checked_in_at,
            checked_out_at=checked_out_at,
            method=method,  # type: ignore[arg-type]
        )
        return self.do(record_attendance, when or at(2, 18), recorded, provider_id="tma")

    def attended(self, *args, **kwargs) -> Stream:
        self.attend(*args, **kwargs)
        return self

    def close(self, now: datetime | None = None) -> list[Event]:
        now = now or at(2, 17)
        return self.do(close_workshop, now, "tma-billing", provider_id="tma", now=now)

    def closed(self, now: datetime | None = None) -> Stream:
        self.close(now)
        return self

    # -- then -----------------------------------------------------------------------------

    def workshop(self) -> Workshop:
        state = self.state()
        assert state is not None
        return state

    def credit(self, manager_id: str = "m-1") -> Credit:
        share = min_presence(self.activity, self.programs)
        return credit_of(self.workshop(), manager_id, share)

    def derive(self, manager: Manager, on: date = date(2025, 5, 3)) -> list[Event]:
        """The close's decision on `manager`'s stream, recorded there."""
        share = min_presence(self.activity, self.programs)
        return manager.do(
            derive_credit,
            on,
            manager.manager_id,
            self.workshop(),
            self.activity,
            share,
            new_id=uuid.uuid4,
        )


def attendee(manager_id: str = "m-1") -> Manager:
    """A manager certified in CMM and CMOM since January 2025."""
    return (
        Manager(manager_id).certified("CMM", date(2025, 1, 6)).certified("CMOM", date(2025, 1, 6))
    )
