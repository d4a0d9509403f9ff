"""Streams, one per consistency boundary, and the ids derived from what callers send.

* `program-{code}`   the program and its rule versions
* `provider-{id}`    the provider
* `activity-{id}`    one activity; a stream of its own so that ids are unique ledger-wide
                     (registering appends with expected version 0)
* `manager-{id}`     everything about one manager: certifications, completions and their
                     corrections, fees and refunds, renewals and decisions, standing, findings
* `audit-{id}`       one audit draw
* `workshop-{id}`    a workshop activity's agenda, attendance and close (SPEC 11); its
                     credit is recorded in each attendee's `manager-{id}` stream
"""

from __future__ import annotations

from uuid import UUID, uuid5

__all__ = [
    "activity_stream",
    "audit_stream",
    "completion_id",
    "fulfilment_id",
    "manager_stream",
    "program_stream",
    "provider_stream",
    "workshop_stream",
]

_NAMESPACE = UUID("6f0c4f3e-2d7b-4c55-9a51-0c3e1c2b9d10")


def program_stream(code: str) -> str:
    return f"program-{code}"


def provider_stream(provider_id: str) -> str:
    return f"provider-{provider_id}"


def activity_stream(activity_id: str) -> str:
    return f"activity-{activity_id}"


def manager_stream(manager_id: str) -> str:
    return f"manager-{manager_id}"


def audit_stream(audit_id: UUID) -> str:
    return f"audit-{audit_id}"


def workshop_stream(activity_id: str) -> str:
    return f"workshop-{activity_id}"


def completion_id(provider_id: str, external_id: str) -> UUID:
    """A provider's posting has one id forever: retries land on the same fact."""
    return uuid5(_NAMESPACE, f"completion\x1f{provider_id}\x1f{external_id}")


def fulfilment_id(claim_id: UUID, completion_id: UUID) -> UUID:
    """The id of the ClaimFulfilled of `claim_id` by `completion_id`, whoever decides it."""
    return uuid5(_NAMESPACE, f"fulfilment\x1f{claim_id}\x1f{completion_id}")
