"""A manager's record: the fold of the `manager-{id}` stream.

`evolve(record, event, recorded_at)` returns a new record; an event that does not fit raises.
`recorded_at` is the envelope's instant: a completion's posting time (for the `late` flag),
and the time of fees, filings and decisions (for history and bitemporal reads).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec
from msgspec.structs import replace

from events.catalog import (
    AuditFindingRecorded,
    CertificationGranted,
    CertificationReinstated,
    CertificationRevoked,
    CompletionAmended,
    CompletionRecorded,
    CompletionVoided,
    CountedCompletion,
    DeadlineExtended,
    Event,
    FeePaid,
    FeeRefunded,
    ManagerEnrolled,
    ManagerProfileChanged,
    RenewalApproved,
    RenewalDenied,
    RenewalFiled,
)

__all__ = [
    "Certification",
    "Change",
    "Completion",
    "Fee",
    "Finding",
    "ManagerRecord",
    "Renewal",
    "StandingChange",
    "evolve",
    "fold",
    "happened_by",
]


class Change(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["recorded", "amended", "voided"]
    at: datetime
    reason: str = ""
    ceus: Decimal | None = None
    completed_on: date | None = None


class Completion(msgspec.Struct, frozen=True, kw_only=True):
    completion_id: UUID
    provider_id: str
    external_id: str
    activity_id: str
    activity_title: str
    category: str
    programs: tuple[str, ...]
    completed_on: date
    ceus: Decimal
    posted_at: datetime
    voided: bool = False
    amended: bool = False
    history: tuple[Change, ...] = ()


class Fee(msgspec.Struct, frozen=True, kw_only=True):
    cycle: int
    amount_cents: int
    reference: str
    paid_at: datetime
    fee_id: UUID | None = None
    """None only for fees stored before fees had ids (FeePaid version 1)."""
    refunded_cents: int = 0

    @property
    def kept_cents(self) -> int:
        """What counts as paid: the amount less what was refunded."""
        return self.amount_cents - self.refunded_cents


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    outcome: Literal["passed", "failed"]
    note: str
    recorded_at: datetime


class Renewal(msgspec.Struct, frozen=True, kw_only=True):
    renewal_id: UUID
    program: str
    cycle: int
    ceus: Decimal
    carried_over: Decimal
    completions: tuple[CountedCompletion, ...]
    fee_paid_cents: int
    filed_at: datetime
    state: Literal["filed", "approved", "denied"] = "filed"
    decided_at: datetime | None = None
    reason: str = ""
    findings: tuple[Finding, ...] = ()


class StandingChange(msgspec.Struct, frozen=True, kw_only=True):
    revoked: bool
    at: datetime
    reason: str
    audit_id: UUID | None = None


class Certification(msgspec.Struct, frozen=True, kw_only=True):
    program: str
    certified_on: date
    granted_at: datetime
    fees: tuple[Fee, ...] = ()
    renewals: tuple[Renewal, ...] = ()
    extensions: dict[int, date] = {}
    standing: tuple[StandingChange, ...] = ()

    @property
    def revoked(self) -> bool:
        return bool(self.standing) and self.standing[-1].revoked

    def fee(self, fee_id: UUID) -> Fee | None:
        return next((f for f in self.fees if f.fee_id == fee_id), None)

    def fee_paid_cents(self, cycle: int) -> int:
        """The fees kept for `cycle`: paid, less refunds."""
        return sum(f.kept_cents for f in self.fees if f.cycle == cycle)

    def renewal(self, renewal_id: UUID) -> Renewal | None:
        return next((r for r in self.renewals if r.renewal_id == renewal_id), None)


class ManagerRecord(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    name: str
    email: str
    enrolled_at: datetime
    certifications: dict[str, Certification] = {}
    completions: dict[UUID, Completion] = {}
    version: int = 1
    """How many events of the stream this record has folded."""


def _with_cert(record: ManagerRecord, program: str, **changes: object) -> ManagerRecord:
    cert = replace(record.certifications[program], **changes)
    return replace(record, certifications={**record.certifications, program: cert})


def _with_completion(record: ManagerRecord, completion: Completion) -> ManagerRecord:
    return replace(record, completions={**record.completions, completion.completion_id: completion})


def _with_renewal(
    record: ManagerRecord, program: str, renewal_id: UUID, **changes: object
) -> ManagerRecord:
    cert = record.certifications[program]
    renewals = tuple(
        replace(r, **changes) if r.renewal_id == renewal_id else r for r in cert.renewals
    )
    return _with_cert(record, program, renewals=renewals)


def _apply(record: ManagerRecord, event: Event, at: datetime) -> ManagerRecord:
    match event:
        case CertificationGranted(program=program, certified_on=certified_on):
            cert = Certification(program=program, certified_on=certified_on, granted_at=at)
            return replace(record, certifications={**record.certifications, program: cert})
        case CompletionRecorded():
            fields = msgspec.structs.asdict(event)
            del fields["manager_id"]
            history = (
                Change(kind="recorded", at=at, ceus=event.ceus, completed_on=event.completed_on),
            )
            return _with_completion(record, Completion(**fields, posted_at=at, history=history))
        case CompletionAmended(completion_id=cid, reason=reason, ceus=ceus, completed_on=on):
            old = record.completions[cid]
            change = Change(kind="amended", at=at, reason=reason, ceus=ceus, completed_on=on)
            return _with_completion(
                record,
                replace(
                    old,
                    ceus=old.ceus if ceus is None else ceus,
                    completed_on=old.completed_on if on is None else on,
                    amended=True,
                    history=(*old.history, change),
                ),
            )
        case CompletionVoided(completion_id=cid, reason=reason):
            old = record.completions[cid]
            change = Change(kind="voided", at=at, reason=reason)
            return _with_completion(
                record, replace(old, voided=True, history=(*old.history, change))
            )
        case FeePaid(program=program, cycle=cycle, amount_cents=cents, reference=ref):
            fee = Fee(
                cycle=cycle, amount_cents=cents, reference=ref, paid_at=at, fee_id=event.fee_id
            )
            return _with_cert(record, program, fees=(*record.certifications[program].fees, fee))
        case FeeRefunded(program=program, fee_id=fee_id, amount_cents=cents):
            assert record.certifications[program].fee(fee_id) is not None, f"no fee {fee_id}"
            fees = tuple(
                replace(f, refunded_cents=f.refunded_cents + cents) if f.fee_id == fee_id else f
                for f in record.certifications[program].fees
            )
            return _with_cert(record, program, fees=fees)
        case ManagerProfileChanged(name=name, email=email):
            return replace(
                record,
                name=record.name if name is None else name,
                email=record.email if email is None else email,
            )
        case RenewalFiled(program=program):
            renewal = Renewal(
                renewal_id=event.renewal_id,
                program=program,
                cycle=event.cycle,
                ceus=event.ceus,
                carried_over=event.carried_over,
                completions=event.completions,
                fee_paid_cents=event.fee_paid_cents,
                filed_at=at,
            )
            cert = record.certifications[program]
            return _with_cert(record, program, renewals=(*cert.renewals, renewal))
        case RenewalApproved(program=program, renewal_id=rid, reason=reason):
            return _with_renewal(
                record, program, rid, state="approved", decided_at=at, reason=reason
            )
        case RenewalDenied(program=program, renewal_id=rid, reason=reason):
            return _with_renewal(record, program, rid, state="denied", decided_at=at, reason=reason)
        case AuditFindingRecorded(program=program, renewal_id=rid):
            finding = Finding(
                audit_id=event.audit_id, outcome=event.outcome, note=event.note, recorded_at=at
            )
            renewal = record.certifications[program].renewal(rid)
            assert renewal is not None, f"finding for unknown renewal {rid}"
            return _with_renewal(record, program, rid, findings=(*renewal.findings, finding))
        case CertificationRevoked(program=program, reason=reason, audit_id=audit_id):
            change = StandingChange(revoked=True, at=at, reason=reason, audit_id=audit_id)
            return _with_cert(
                record, program, standing=(*record.certifications[program].standing, change)
            )
        case CertificationReinstated(program=program, reason=reason):
            change = StandingChange(revoked=False, at=at, reason=reason)
            return _with_cert(
                record, program, standing=(*record.certifications[program].standing, change)
            )
        case DeadlineExtended(program=program, cycle=cycle, extended_until=until):
            extensions = {**record.certifications[program].extensions, cycle: until}
            return _with_cert(record, program, extensions=extensions)
    raise ValueError(f"{type(event).__name__} does not apply to a manager's record")


def evolve(record: ManagerRecord | None, event: Event, recorded_at: datetime) -> ManagerRecord:
    match record, event:
        case None, ManagerEnrolled(manager_id=mid, name=name, email=email):
            return ManagerRecord(manager_id=mid, name=name, email=email, enrolled_at=recorded_at)
        case ManagerRecord(), ManagerEnrolled():
            raise ValueError(f"manager {record.manager_id} is already enrolled")
        case None, _:
            raise ValueError(f"{type(event).__name__} before the manager was enrolled")
    assert record is not None
    return replace(_apply(record, event, recorded_at), version=record.version + 1)


def happened_by(event: Event, recorded_at: datetime, as_of: date) -> bool:
    """Whether `event` had taken effect on `as_of` (valid time).

    Completion facts and corrections describe what happened on `completed_on`: they are kept
    whenever they were posted, and `assess` counts only those completed by `as_of`.  A
    certification takes effect on `certified_on`.  Everything else (fees, filings, decisions,
    revocations, extensions) takes effect on the (UTC) day it was recorded.
    """
    match event:
        case ManagerEnrolled() | CompletionRecorded() | CompletionAmended() | CompletionVoided():
            return True
        case CertificationGranted(certified_on=certified_on):
            return certified_on <= as_of
    return recorded_at.date() <= as_of


def fold(events: list[tuple[Event, datetime]], as_of: date | None = None) -> ManagerRecord | None:
    """The record from the stream's events (with their recorded_at), as of a day if given."""
    record: ManagerRecord | None = None
    for event, recorded_at in events:
        if as_of is None or happened_by(event, recorded_at, as_of):
            record = evolve(record, event, recorded_at)
    return record
