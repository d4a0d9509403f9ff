"""Provider approvals (SPEC 12): a provider applies to a program (ProviderApprovalRequested,
in its `provider-{id}` stream); an auditor of the program approves the pending application with
a number and the day it lapses (ProviderApproved), or denies it (ProviderApprovalDenied).  A
renewal is a new application and approval.  An approval is valid on day D when
valid_from <= D < valid_until.  Pure: the fold takes the instant a fact was recorded, the
decisions take today."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

import msgspec
from msgspec.structs import replace

from events.catalog import (
    Event,
    ProviderApprovalDenied,
    ProviderApprovalRequested,
    ProviderApproved,
    ProviderRegistered,
)
from ledger.domain.errors import FieldError, Invalid, NotFound, WrongState, invalid
from ledger.domain.values import EARLIEST, LATEST, in_range

if TYPE_CHECKING:
    from ledger.domain.catalogue import Program

__all__ = [
    "ApplicationState",
    "ProviderApplication",
    "ProviderApprovals",
    "approve_provider",
    "deny_provider",
    "evolve_provider_approvals",
    "request_provider_approval",
]

ApplicationState = Literal["pending", "approved", "denied"]


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
