"""Approvals (SPEC 12): associations vouch for providers and for activities.

* A provider applies to a program (ProviderApprovalRequested, in its `provider-{id}` stream);
  an auditor of the program approves the pending application with a number and the day it
  lapses (ProviderApproved), or denies it (ProviderApprovalDenied).  A renewal is a new
  application and approval.  An approval is valid on day D when valid_from <= D < valid_until.
* An activity is approved for a program (ActivityApproved, in its `activity-{id}` stream) by
  an auditor, after the provider submitted it (ActivityApprovalRequested), or on registration
  when its provider's approval for the program is valid on the activity's first day
  (`approve_on_registration`: automatic, with the approval's number as its index number).
* The source of a completion for a program (`source_of`): `self` for a manager's own report,
  `approved` for an activity approved for the program, else `provider`.
* The reminders to a provider 120 and 30 days before its approval lapses (`lapse_reminders`).

Pure: the folds take the instant a fact was recorded, the decisions take today.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID, uuid5

import msgspec
from msgspec.structs import replace

from events.catalog import (
    ActivityApprovalDenied,
    ActivityApprovalRequested,
    ActivityApproved,
    ActivityRegistered,
    Event,
    ProviderApprovalDenied,
    ProviderApprovalRequested,
    ProviderApproved,
    ProviderRegistered,
    Source,
)
from ledger.domain.cycles import rules_in_force
from ledger.domain.errors import FieldError, Invalid, NotAllowed, NotFound, WrongState, invalid
from ledger.domain.values import EARLIEST, LATEST, in_range, valid_ceus

if TYPE_CHECKING:
    from collections.abc import Set

    from ledger.domain.catalogue import Program
    from ledger.domain.record import Completion

__all__ = [
    "LAPSE_REMINDER_DAYS",
    "ActivityApplication",
    "ActivityApprovals",
    "ApplicationState",
    "LapseReminder",
    "ProviderApplication",
    "ProviderApprovals",
    "approve_activity",
    "approve_on_registration",
    "approve_provider",
    "deny_activity",
    "deny_provider",
    "evolve_activity_approvals",
    "evolve_provider_approvals",
    "lapse_reminders",
    "request_activity_approval",
    "request_provider_approval",
    "source_of",
]

ApplicationState = Literal["pending", "approved", "denied"]
_CENT = Decimal("0.01")


class ProviderApplication(msgspec.Struct, frozen=True, kw_only=True):
    """One application of a provider to a program, and its decision."""

    provider_id: str
    program: str
    state: ApplicationState = "pending"
    requested_at: datetime
    contact_email: str
    """Where the notices about this approval go."""
    decided_at: datetime | None = None
    approval_number: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    """The first day the approval is no longer valid."""
    reason: str = ""

    def valid_on(self, day: date) -> bool:
        return (
            self.state == "approved"
            and self.valid_from is not None
            and self.valid_until is not None
            and self.valid_from <= day < self.valid_until
        )


class ProviderApprovals(msgspec.Struct, frozen=True, kw_only=True):
    """The fold of a `provider-{id}` stream, as far as approvals go."""

    provider_id: str
    name: str
    applications: tuple[ProviderApplication, ...] = ()

    def of(self, program: str) -> list[ProviderApplication]:
        return [a for a in self.applications if a.program == program]

    def pending(self, program: str) -> ProviderApplication | None:
        return next((a for a in self.of(program) if a.state == "pending"), None)

    def valid_on(self, program: str, day: date) -> ProviderApplication | None:
        """The approval for `program` valid on `day` (the latest, if renewals overlap)."""
        valid = [a for a in self.of(program) if a.valid_on(day)]
        return max(valid, key=lambda a: a.valid_until or day, default=None)

    def latest(self, program: str) -> ProviderApplication | None:
        """The approval that lapses last."""
        approved = [a for a in self.of(program) if a.state == "approved"]
        return max(approved, key=lambda a: a.valid_until or EARLIEST, default=None)


class ActivityApplication(msgspec.Struct, frozen=True, kw_only=True):
    """One program's approval of an activity: asked for, granted or refused."""

    program: str
    state: ApplicationState = "pending"
    requested_at: datetime | None = None
    """None for an approval on registration (nobody asked)."""
    decided_at: datetime | None = None
    index_number: str = ""
    ceus: Decimal | None = None
    category: str | None = None
    reason: str = ""
    automatic: bool = False


class ActivityApprovals(msgspec.Struct, frozen=True, kw_only=True):
    """The fold of an `activity-{id}` stream, as far as approvals go."""

    activity: ActivityRegistered
    applications: tuple[ActivityApplication, ...] = ()

    def of(self, program: str) -> list[ActivityApplication]:
        return [a for a in self.applications if a.program == program]

    def pending(self, program: str) -> ActivityApplication | None:
        return next((a for a in self.of(program) if a.state == "pending"), None)

    def approved(self, program: str) -> ActivityApplication | None:
        return next((a for a in self.of(program) if a.state == "approved"), None)


# -- the folds --------------------------------------------------------------------------------


def _decided(
    applications: tuple[ProviderApplication, ...], program: str, **changes: object
) -> tuple[ProviderApplication, ...]:
    """The pending application of `program` with its decision."""
    return tuple(
        replace(a, **changes) if a.program == program and a.state == "pending" else a
        for a in applications
    )


def evolve_provider_approvals(
    state: ProviderApprovals | None, event: Event, at: datetime
) -> ProviderApprovals:
    match state, event:
        case None, ProviderRegistered(provider_id=pid, name=name):
            return ProviderApprovals(provider_id=pid, name=name)
        case ProviderApprovals(), ProviderApprovalRequested(program=program):
            asked = ProviderApplication(
                provider_id=state.provider_id, program=program, requested_at=at,
                contact_email=event.contact_email,
            )  # fmt: skip
            return replace(state, applications=(*state.applications, asked))
        case ProviderApprovals(), ProviderApproved(program=program):
            changes = {
                "state": "approved", "decided_at": at, "approval_number": event.approval_number,
                "valid_from": event.valid_from, "valid_until": event.valid_until,
            }  # fmt: skip
            return replace(state, applications=_decided(state.applications, program, **changes))
        case ProviderApprovals(), ProviderApprovalDenied(program=program, reason=reason):
            changes = {"state": "denied", "decided_at": at, "reason": reason}
            return replace(state, applications=_decided(state.applications, program, **changes))
    raise ValueError(f"{type(event).__name__} does not apply to provider approvals {state!r}")


def _approved(event: ActivityApproved, at: datetime) -> dict[str, object]:
    return {
        "state": "approved", "decided_at": at, "index_number": event.index_number,
        "ceus": event.ceus, "category": event.category, "automatic": event.automatic,
    }  # fmt: skip


def _activity_decided(
    current: ActivityApprovals, program: str, **changes: object
) -> ActivityApprovals:
    """The pending application of `program` decided; an approval nobody asked for (on
    registration) is an application of its own."""
    if current.pending(program) is None:
        decided = ActivityApplication(program=program, **changes)  # type: ignore[arg-type]
        return replace(current, applications=(*current.applications, decided))
    applications = tuple(
        replace(a, **changes) if a.program == program and a.state == "pending" else a
        for a in current.applications
    )
    return replace(current, applications=applications)


def evolve_activity_approvals(
    state: ActivityApprovals | None, event: Event, at: datetime
) -> ActivityApprovals:
    match state, event:
        case None, ActivityRegistered():
            return ActivityApprovals(activity=event)
        case ActivityApprovals(), ActivityApprovalRequested(program=program):
            asked = ActivityApplication(program=program, requested_at=at)
            return replace(state, applications=(*state.applications, asked))
        case ActivityApprovals(), ActivityApproved(program=program):
            return _activity_decided(state, program, **_approved(event, at))
        case ActivityApprovals(), ActivityApprovalDenied(program=program, reason=reason):
            changes = {"state": "denied", "decided_at": at, "reason": reason}
            return _activity_decided(state, program, **changes)
    raise ValueError(f"{type(event).__name__} does not apply to activity approvals {state!r}")


# -- provider approvals: the decisions --------------------------------------------------------


def _provider(state: ProviderApprovals | None, provider_id: str) -> ProviderApprovals:
    if state is None:
        raise NotFound("provider", provider_id)
    return state


def request_provider_approval(
    state: ProviderApprovals | None, provider_id: str, program: Program, *, contact_email: str
) -> list[Event]:
    """Apply, or apply again to renew: one pending application per program at a time."""
    state = _provider(state, provider_id)
    if state.pending(program.code) is not None:
        raise WrongState(f"an application of {provider_id} to {program.code} is already pending")
    return [
        ProviderApprovalRequested(
            provider_id=provider_id, program=program.code, contact_email=contact_email
        )
    ]


def _pending(state: ProviderApprovals, program: str) -> ProviderApplication:
    if (pending := state.pending(program)) is None:
        raise WrongState(f"no pending application of {state.provider_id} to {program}")
    return pending


def approve_provider(
    state: ProviderApprovals | None,
    provider_id: str,
    program: str,
    *,
    approval_number: str,
    valid_until: date,
    today: date,
) -> list[Event]:
    state = _provider(state, provider_id)
    _pending(state, program)
    errors: list[FieldError] = []
    if not approval_number.strip():
        errors.append(FieldError("approval_number", "must not be empty"))
    if not (today < valid_until and in_range(valid_until)):
        errors.append(FieldError("valid_until", f"after today ({today}), before {LATEST}"))
    if errors:
        raise Invalid(errors)
    return [
        ProviderApproved(
            provider_id=provider_id, program=program, approval_number=approval_number,
            valid_from=today, valid_until=valid_until,
        )
    ]  # fmt: skip


def deny_provider(
    state: ProviderApprovals | None, provider_id: str, program: str, *, reason: str
) -> list[Event]:
    state = _provider(state, provider_id)
    _pending(state, program)
    if not reason.strip():
        raise invalid("reason", "a denial needs a reason")
    return [ProviderApprovalDenied(provider_id=provider_id, program=program, reason=reason)]


# -- activity approvals -----------------------------------------------------------------------


def approve_on_registration(
    activity: ActivityRegistered, approvals: ProviderApprovals | None
) -> list[ActivityApproved]:
    """The activity is approved for each of its programs for which its provider's approval
    is valid on its first day, with that approval's number."""
    found: list[ActivityApproved] = []
    for program in activity.programs:
        valid = None if approvals is None else approvals.valid_on(program, activity.starts_on)
        if valid is not None:
            found.append(
                ActivityApproved(
                    activity_id=activity.activity_id, provider_id=activity.provider_id,
                    program=program, index_number=valid.approval_number, ceus=activity.ceus,
                    category=activity.category, automatic=True,
                )
            )  # fmt: skip
    return found


def _activity(state: ActivityApprovals | None, activity_id: str) -> ActivityApprovals:
    if state is None:
        raise NotFound("activity", activity_id)
    return state


def request_activity_approval(
    state: ActivityApprovals | None, activity_id: str, program: Program, *, provider_id: str
) -> list[Event]:
    """The activity's own provider submits it to a program it counts for."""
    state = _activity(state, activity_id)
    activity = state.activity
    if activity.provider_id != provider_id:
        raise NotAllowed(f"activity {activity_id} is another provider's")
    if program.code not in activity.programs:
        raise invalid("activity_id", f"activity {activity_id} does not count for {program.code}")
    if (approved := state.approved(program.code)) is not None:
        raise WrongState(f"activity {activity_id} is already approved ({approved.index_number})")
    if state.pending(program.code) is not None:
        raise WrongState(f"activity {activity_id} is already submitted to {program.code}")
    return [
        ActivityApprovalRequested(
            activity_id=activity_id, provider_id=provider_id, program=program.code
        )
    ]


def _pending_activity(state: ActivityApprovals, program: str) -> None:
    if state.pending(program) is None:
        raise WrongState(f"activity {state.activity.activity_id} is not pending for {program}")


def approve_activity(
    state: ActivityApprovals | None,
    activity_id: str,
    program: Program,
    *,
    index_number: str,
    ceus: Decimal,
    category: str,
) -> list[Event]:
    """The CEUs at most the activity's, the category one of the program's (in force on the
    activity's first day)."""
    state = _activity(state, activity_id)
    _pending_activity(state, program.code)
    activity = state.activity
    errors: list[FieldError] = []
    if not index_number.strip():
        errors.append(FieldError("index_number", "must not be empty"))
    if (why := valid_ceus(ceus)) is not None:
        errors.append(FieldError("ceus", why))
    elif ceus > activity.ceus:
        errors.append(FieldError("ceus", f"at most the activity's {activity.ceus}"))
    allowed = rules_in_force(program.versions, activity.starts_on).categories
    if category not in allowed:
        errors.append(FieldError("category", f"must be one of: {', '.join(allowed)}"))
    if errors:
        raise Invalid(errors)
    return [
        ActivityApproved(
            activity_id=activity_id, provider_id=activity.provider_id, program=program.code,
            index_number=index_number, ceus=ceus.quantize(_CENT), category=category,
        )
    ]  # fmt: skip


def deny_activity(
    state: ActivityApprovals | None, activity_id: str, program: str, *, reason: str
) -> list[Event]:
    state = _activity(state, activity_id)
    _pending_activity(state, program)
    if not reason.strip():
        raise invalid("reason", "a denial needs a reason")
    return [
        ActivityApprovalDenied(
            activity_id=activity_id,
            provider_id=state.activity.provider_id,
            program=program,
            reason=reason,
        )
    ]


# -- sources of credit ------------------------------------------------------------------------


def source_of(completion: Completion, approved: Set[str]) -> Source:
    """Where a completion's credit comes from for a program whose approved activities are
    `approved`: the manager's own report, an approved activity, or any other posting."""
    if completion.self_report_id is not None:
        return "self"
    return "approved" if completion.activity_id in approved else "provider"


# -- reminders before an approval lapses ------------------------------------------------------

LAPSE_REMINDER_DAYS = (120, 30)
LapseKind = Literal["approval_lapses_120", "approval_lapses_30"]
_NAMESPACE = UUID("0b8f3c1e-7a2d-4e55-8c19-5d2e7f6a4b30")


class LapseReminder(msgspec.Struct, frozen=True, kw_only=True):
    """One notice to a provider: its approval for a program lapses on `valid_until`.  Its key
    (provider, program, valid_until, kind) is sent once; a renewal lapses on another day."""

    provider_id: str
    program: str
    kind: LapseKind
    approval_number: str
    valid_until: date
    due_on: date
    email: str
    """The contact address of the application that was approved."""

    @property
    def notice_id(self) -> UUID:
        key = (self.provider_id, self.program, self.valid_until.isoformat(), self.kind)
        return uuid5(_NAMESPACE, "/".join(key))


def lapse_reminders(approvals: ProviderApprovals, on: date) -> list[LapseReminder]:
    """For each program, the tightest reminder whose day has come before the approval that
    lapses last lapses (valid_until - N <= on < valid_until); one already renewed by an
    approval lapsing later is not reminded of.  A reminder whose day passed unseen is not
    sent late: the next one is."""
    found = []
    for program in sorted({a.program for a in approvals.applications}):
        latest = approvals.latest(program)
        if latest is None or latest.valid_until is None or not on < latest.valid_until:
            continue
        left = (latest.valid_until - on).days
        days = next((n for n in sorted(LAPSE_REMINDER_DAYS) if left <= n), None)
        if days is None:
            continue
        kind: LapseKind = f"approval_lapses_{days}"  # type: ignore[assignment]
        found.append(
            LapseReminder(
                provider_id=approvals.provider_id, program=program, kind=kind,
                approval_number=latest.approval_number, valid_until=latest.valid_until,
                due_on=latest.valid_until - timedelta(days=days), email=latest.contact_email,
            )
        )  # fmt: skip
    return found
