"""A certification's standing: revocation, reinstatement, a deadline extension, and audit
findings (a failed one revokes).  Their fold is ledger/domain/record.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

from events.catalog import (
    AuditFindingRecorded,
    CertificationReinstated,
    CertificationRevoked,
    DeadlineExtended,
    Event,
)
from ledger.domain.cycles import cycles
from ledger.domain.errors import AlreadyExists, NotFound, WrongState, invalid
from ledger.domain.managers import certification
from ledger.domain.renewals import assess_program
from ledger.domain.values import LATEST, in_range

if TYPE_CHECKING:
    from datetime import date
    from uuid import UUID

    from ledger.domain.catalogue import Program
    from ledger.domain.record import ManagerRecord

__all__ = ["Extension", "Finding", "extend_deadline", "record_finding", "reinstate", "revoke"]


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise invalid("reason", "must not be empty")


def revoke(
    record: ManagerRecord, program: str, *, reason: str, audit_id: UUID | None = None
) -> list[Event]:
    _require_reason(reason)
    if certification(record, program).revoked:
        raise WrongState(f"the {program} certification is already revoked")
    return [
        CertificationRevoked(
            manager_id=record.manager_id, program=program, reason=reason, audit_id=audit_id
        )
    ]


def reinstate(record: ManagerRecord, program: str, *, reason: str) -> list[Event]:
    _require_reason(reason)
    if not certification(record, program).revoked:
        raise WrongState(f"the {program} certification is not revoked")
    return [CertificationReinstated(manager_id=record.manager_id, program=program, reason=reason)]


class Extension(Protocol):
    """More time as the rules read it: the ExtendDeadline message (ledger/commands/messages.py)."""

    @property
    def ends_on(self) -> date: ...
    @property
    def reason(self) -> str: ...


def extend_deadline(
    record: ManagerRecord, program: Program, extension: Extension, *, today: date
) -> list[Event]:
    """Give the cycle being renewed more time; the next cycle's count then starts at its
    `ends_on`."""
    until, reason = extension.ends_on, extension.reason
    focus = assess_program(record, program, today).focus
    _require_reason(reason)
    if until <= focus.deadline:
        raise invalid("ends_on", f"must be after the current deadline {focus.deadline}")
    if not in_range(until):
        raise invalid("ends_on", f"must be on or before {LATEST}")
    certified_on = record.certifications[program.code].certified_on
    following = next(
        c for c in cycles(certified_on, program.versions) if c.number > focus.cycle.number
    )
    if until >= following.ends_on:
        raise invalid("ends_on", f"must be before the next cycle ends ({following.ends_on})")
    return [
        DeadlineExtended(
            manager_id=record.manager_id,
            program=program.code,
            cycle=focus.cycle.number,
            extended_until=until,
            reason=reason,
        )
    ]


class Finding(Protocol):
    """An audit's finding as the rules read it: the RecordFinding message."""

    @property
    def renewal_id(self) -> UUID: ...
    @property
    def outcome(self) -> Literal["passed", "failed"]: ...
    @property
    def note(self) -> str: ...


def record_finding(
    record: ManagerRecord,
    program: str,
    finding: Finding,
    *,
    audit_id: UUID,
    selected: tuple[UUID, ...],
) -> list[Event]:
    """A finding on a renewal drawn in an audit; a failed one revokes the certification."""
    renewal_id, note = finding.renewal_id, finding.note
    if renewal_id not in selected:
        raise invalid("renewal_id", f"renewal {renewal_id} was not selected in audit {audit_id}")
    cert = certification(record, program)
    renewal = cert.renewal(renewal_id)
    if renewal is None:
        raise NotFound("renewal", renewal_id)
    if any(f.audit_id == audit_id for f in renewal.findings):
        raise AlreadyExists(f"finding of audit {audit_id} for renewal", renewal_id)
    recorded = AuditFindingRecorded(
        audit_id=audit_id,
        manager_id=record.manager_id,
        program=program,
        renewal_id=renewal_id,
        outcome=finding.outcome,
        note=note,
    )
    if finding.outcome == "passed" or cert.revoked:
        return [recorded]
    return [recorded, *revoke(record, program, reason=f"failed audit: {note}", audit_id=audit_id)]
