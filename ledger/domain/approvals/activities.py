"""Activity approvals (SPEC 12): an activity is approved for a program (ActivityApproved, in
its `activity-{id}` stream) by an auditor, after its provider submitted it
(ActivityApprovalRequested), or on registration when its provider's approval for the program
is valid on the activity's first day (`approve_on_registration`: automatic, with the
approval's number as its index number); or denied (ActivityApprovalDenied)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec
from msgspec.structs import replace

from events.catalog import (
    ActivityApprovalDenied,
    ActivityApprovalRequested,
    ActivityApproved,
    ActivityRegistered,
    Event,
)
from ledger.domain.approvals.providers import ApplicationState, ProviderApprovals
from ledger.domain.cycles import rules_in_force
from ledger.domain.errors import FieldError, Invalid, NotAllowed, NotFound, WrongState, invalid
from ledger.domain.values import valid_ceus

if TYPE_CHECKING:
    from ledger.domain.catalogue import Program

__all__ = [
    "ActivityApplication",
    "ActivityApprovals",
    "approve_activity",
    "approve_on_registration",
    "deny_activity",
    "evolve_activity_approvals",
    "request_activity_approval",
]

_CENT = Decimal("0.01")


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
