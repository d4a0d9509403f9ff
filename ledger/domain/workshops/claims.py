"""Claims: a manager's "I attended, and nothing was posted" (SPEC 11).

A claim is filed for an activity the manager has no completion of, and stays open until a
completion of that activity is recorded for the manager (ClaimFulfilled, decided with the
completion on the manager's stream) or the provider disputes it with a reason.  An open
claim is overdue `claim_window_days` after the day it was filed: the shortest window among
the activity's programs, in force on that day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from events.catalog import AttendanceClaimed, ClaimDisputed, Event
from ledger.domain.completions import date_errors, fulfilled_claims
from ledger.domain.cycles import rules_in_force
from ledger.domain.errors import (
    AlreadyExists,
    AlreadyRecorded,
    Invalid,
    NotAllowed,
    NotFound,
    WrongState,
    invalid,
)
from ledger.domain.managers import require_manager

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from uuid import UUID

    from ledger.domain.catalogue import Activity, Program
    from ledger.domain.record import Claim, ManagerRecord

__all__ = [
    "claim_overdue_on",
    "dispute_claim",
    "file_claim",
    "fulfilled_claims",
    "overdue_claims",
    "overdue_day",
]


def file_claim(
    record: ManagerRecord | None,
    manager_id: str,
    activity: Activity | None,
    *,
    claim_id: UUID,
    activity_id: str,
    completed_on: date,
    note: str,
    today: date,
) -> list[Event]:
    record = require_manager(record, manager_id)
    if activity is None:
        raise NotFound("activity", activity_id)
    if errors := date_errors(activity, completed_on, today):
        raise Invalid(errors)
    done = (c for c in record.completions.values() if c.activity_id == activity_id)
    if (completion := next((c for c in done if not c.voided), None)) is not None:
        raise AlreadyRecorded(completion.completion_id, completion.external_id)
    if any(c.activity_id == activity_id and c.state == "open" for c in record.claims.values()):
        raise AlreadyExists("open claim for activity", activity_id)
    return [
        AttendanceClaimed(
            claim_id=claim_id,
            manager_id=manager_id,
            activity_id=activity_id,
            provider_id=activity.provider_id,
            completed_on=completed_on,
            note=note,
        )
    ]


def dispute_claim(
    record: ManagerRecord | None,
    manager_id: str,
    claim_id: UUID,
    *,
    provider_id: str,
    reason: str,
) -> list[Event]:
    record = require_manager(record, manager_id)
    claim = record.claims.get(claim_id)
    if claim is None:
        raise NotFound("claim", claim_id)
    if claim.provider_id != provider_id:
        raise NotAllowed("only the activity's provider may dispute a claim")
    if claim.state != "open":
        raise WrongState(f"claim {claim_id} is {claim.state}")
    if not reason.strip():
        raise invalid("reason", "must not be empty")
    return [ClaimDisputed(claim_id=claim_id, manager_id=manager_id, reason=reason)]


def claim_overdue_on(claim: Claim, activity: Activity, programs: Mapping[str, Program]) -> date:
    """The day an open claim becomes overdue."""
    return overdue_day(claim.filed_at.date(), activity.programs, programs)


def overdue_day(
    filed_on: date, activity_programs: Iterable[str], programs: Mapping[str, Program]
) -> date:
    """The day a claim filed on `filed_on`, for an activity counting for `activity_programs`,
    is overdue if still open: the shortest `claim_window_days` among those programs, as in
    force on the day it was filed (30 days if none is known)."""
    windows = [
        rules_in_force(programs[code].versions, filed_on).claim_window_days
        for code in activity_programs
        if code in programs
    ]
    return filed_on + timedelta(days=min(windows, default=30))


def overdue_claims(
    record: ManagerRecord,
    activities: Mapping[str, Activity | None],
    programs: Mapping[str, Program],
    today: date,
) -> list[Claim]:
    """The manager's claims still open on their overdue day or later, oldest first."""
    found = [
        claim
        for claim in record.claims.values()
        if claim.state == "open"
        and (activity := activities.get(claim.activity_id)) is not None
        and today >= claim_overdue_on(claim, activity, programs)
    ]
    return sorted(found, key=lambda c: (c.filed_at, c.claim_id))
