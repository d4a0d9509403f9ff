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
    AttendanceClaimed,
    AuditFindingRecorded,
    CertificationGranted,
    CertificationReinstated,
    CertificationRevoked,
    ClaimDisputed,
    ClaimFulfilled,
    CompletionAmended,
    CompletionRecorded,
    CompletionVoided,
    CountedCompletion,
    DeadlineExtended,
    Event,
    EvidenceFile,
    FeePaid,
    FeeRefunded,
    ManagerEnrolled,
    ManagerProfileChanged,
    RenewalApproved,
    RenewalDenied,
    RenewalFiled,
    SelfReportAccepted,
    SelfReported,
    SelfReportRejected,
)

__all__ = [
    "Certification",
    "Change",
    "Claim",
    "Completion",
    "Fee",
    "Finding",
    "ManagerRecord",
    "Renewal",
    "SelfReport",
    "StandingChange",
    "evolve",
    "fold",
    "happened_by",
]


# gc=False: frozen values of scalars (and tuples of them) cannot be part of a reference cycle,
# so the collector need not track them; a process keeps thousands in its manager snapshots.
class Change(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    kind: Literal["recorded", "amended", "voided"]
    at: datetime
    reason: str = ""
    ceus: Decimal | None = None
    completed_on: date | None = None
    sessions: tuple[str, ...] | None = None


class Completion(msgspec.Struct, frozen=True, kw_only=True, gc=False):
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
    sessions: tuple[str, ...] = ()
    """The workshop sessions a derived credit counts (ledger/domain/workshops/)."""
    self_report_id: UUID | None = None
    """Set for credit the manager reported and an auditor accepted (SPEC 12): its source is
    `self`, whatever the provider and activity say."""


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


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    """A manager's claim that an attended activity was not posted (SPEC 11)."""

    claim_id: UUID
    activity_id: str
    provider_id: str
    completed_on: date
    note: str
    filed_at: datetime
    state: Literal["open", "fulfilled", "disputed"] = "open"
    completion_id: UUID | None = None
    """The completion that fulfilled it."""
    reason: str = ""
    """Why the provider disputed it."""
    decided_at: datetime | None = None


class SelfReport(msgspec.Struct, frozen=True, kw_only=True):
    """Credit the manager reported, with its file of evidence (SPEC 12).  Accepted, it is also
    a completion of the record (`completions[report_id]`, with `self_report_id` set)."""

    report_id: UUID
    title: str
    provider_name: str
    completed_on: date
    ceus: Decimal
    """As reported; the accepted CEUs (at most these) are the completion's."""
    category: str
    programs: tuple[str, ...]
    evidence: EvidenceFile
    reported_at: datetime
    state: Literal["pending", "accepted", "rejected"] = "pending"
    reason: str = ""
    """Why it was rejected."""
    decided_at: datetime | None = None
    accepted_ceus: Decimal | None = None
    accepted_category: str | None = None


class ManagerRecord(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    name: str
    email: str
    enrolled_at: datetime
    certifications: dict[str, Certification] = {}
    completions: dict[UUID, Completion] = {}
    claims: dict[UUID, Claim] = {}
    self_reports: dict[UUID, SelfReport] = {}
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


def _recorded(event: CompletionRecorded, at: datetime) -> Completion:
    fields = msgspec.structs.asdict(event)
    del fields["manager_id"]
    change = Change(kind="recorded", at=at, ceus=event.ceus, completed_on=event.completed_on)
    return Completion(**fields, posted_at=at, history=(change,))


def _corrected(
    old: Completion, event: CompletionAmended | CompletionVoided, at: datetime
) -> Completion:
    if isinstance(event, CompletionVoided):
        change = Change(kind="voided", at=at, reason=event.reason)
        return replace(old, voided=True, history=(*old.history, change))
    ceus, on, sessions = event.ceus, event.completed_on, event.sessions
    change = Change(
        kind="amended", at=at, reason=event.reason, ceus=ceus, completed_on=on, sessions=sessions
    )
    return replace(
        old,
        ceus=old.ceus if ceus is None else ceus,
        completed_on=old.completed_on if on is None else on,
        sessions=old.sessions if sessions is None else sessions,
        amended=True,
        history=(*old.history, change),
    )


def _fees(cert: Certification, event: FeePaid | FeeRefunded, at: datetime) -> tuple[Fee, ...]:
    if isinstance(event, FeePaid):
        fee = Fee(
            fee_id=event.fee_id,
            cycle=event.cycle,
            amount_cents=event.amount_cents,
            reference=event.reference,
            paid_at=at,
        )
        return (*cert.fees, fee)
    assert cert.fee(event.fee_id) is not None, f"refund of unknown fee {event.fee_id}"
    return tuple(
        replace(f, refunded_cents=f.refunded_cents + event.amount_cents)
        if f.fee_id == event.fee_id
        else f
        for f in cert.fees
    )


def _filed(event: RenewalFiled, at: datetime) -> Renewal:
    fields = msgspec.structs.asdict(event)
    del fields["manager_id"]
    return Renewal(**fields, filed_at=at)


def _standing(
    event: CertificationRevoked | CertificationReinstated, at: datetime
) -> StandingChange:
    audit_id = event.audit_id if isinstance(event, CertificationRevoked) else None
    revoked = isinstance(event, CertificationRevoked)
    return StandingChange(revoked=revoked, at=at, reason=event.reason, audit_id=audit_id)


def _with_claim(record: ManagerRecord, claim_id: UUID, **changes: object) -> ManagerRecord:
    claim = replace(record.claims[claim_id], **changes)
    return replace(record, claims={**record.claims, claim_id: claim})


def _with_report(record: ManagerRecord, report: SelfReport) -> ManagerRecord:
    return replace(record, self_reports={**record.self_reports, report.report_id: report})


def _credit(report: SelfReport, event: SelfReportAccepted, at: datetime) -> Completion:
    """An accepted self-report as a completion.  No provider posted it (`provider_id` is "",
    the name the manager gave is the report's `provider_name`), and its activity is the report
    itself (`self-report:{id}` as activity and external id), so that the repeat rule never
    takes two reports for one activity.  It was posted when the manager reported it (the
    `late` flag), and counts from its acceptance."""
    key = f"self-report:{report.report_id}"
    change = Change(kind="recorded", at=at, ceus=event.ceus, completed_on=report.completed_on)
    return Completion(
        completion_id=report.report_id, provider_id="", external_id=key, activity_id=key,
        activity_title=report.title, category=event.category, programs=report.programs,
        completed_on=report.completed_on, ceus=event.ceus, posted_at=report.reported_at,
        history=(change,), self_report_id=report.report_id,
    )  # fmt: skip


def _apply_to_reports(record: ManagerRecord, event: Event, at: datetime) -> ManagerRecord:
    """An event about one of the manager's self-reports."""
    match event:
        case SelfReported():
            fields = msgspec.structs.asdict(event)
            del fields["manager_id"]
            return _with_report(record, SelfReport(**fields, reported_at=at))
        case SelfReportAccepted(report_id=rid):
            report = replace(
                record.self_reports[rid], state="accepted", decided_at=at,
                accepted_ceus=event.ceus, accepted_category=event.category,
            )  # fmt: skip
            return _with_completion(_with_report(record, report), _credit(report, event, at))
        case SelfReportRejected(report_id=rid, reason=reason):
            changes = {"state": "rejected", "reason": reason, "decided_at": at}
            return _with_report(record, replace(record.self_reports[rid], **changes))
    raise ValueError(f"{type(event).__name__} does not apply to a manager's record")


def _apply_to_claims(record: ManagerRecord, event: Event, at: datetime) -> ManagerRecord:
    """An event about one of the manager's claims."""
    match event:
        case AttendanceClaimed(claim_id=cid):
            fields = msgspec.structs.asdict(event)
            del fields["manager_id"]
            return replace(record, claims={**record.claims, cid: Claim(**fields, filed_at=at)})
        case ClaimFulfilled(claim_id=cid, completion_id=completion_id):
            changes = {"state": "fulfilled", "completion_id": completion_id, "decided_at": at}
            return _with_claim(record, cid, **changes)
        case ClaimDisputed(claim_id=cid, reason=reason):
            return _with_claim(record, cid, state="disputed", reason=reason, decided_at=at)
    return _apply_to_reports(record, event, at)


def _apply_to_cert(record: ManagerRecord, event: Event, at: datetime) -> ManagerRecord:
    """An event about one of the manager's certifications."""
    match event:
        case FeePaid(program=program) | FeeRefunded(program=program):
            return _with_cert(
                record, program, fees=_fees(record.certifications[program], event, at)
            )
        case RenewalFiled(program=program):
            renewals = (*record.certifications[program].renewals, _filed(event, at))
            return _with_cert(record, program, renewals=renewals)
        case RenewalApproved(program=program, renewal_id=rid, reason=reason):
            changes = {"state": "approved", "decided_at": at, "reason": reason}
            return _with_renewal(record, program, rid, **changes)
        case RenewalDenied(program=program, renewal_id=rid, reason=reason):
            changes = {"state": "denied", "decided_at": at, "reason": reason}
            return _with_renewal(record, program, rid, **changes)
        case AuditFindingRecorded(program=program, renewal_id=rid):
            finding = Finding(
                audit_id=event.audit_id, outcome=event.outcome, note=event.note, recorded_at=at
            )
            filed = record.certifications[program].renewal(rid)
            assert filed is not None, f"finding for unknown renewal {rid}"
            return _with_renewal(record, program, rid, findings=(*filed.findings, finding))
        case CertificationRevoked(program=program) | CertificationReinstated(program=program):
            standing = (*record.certifications[program].standing, _standing(event, at))
            return _with_cert(record, program, standing=standing)
        case DeadlineExtended(program=program, cycle=cycle, extended_until=until):
            extensions = {**record.certifications[program].extensions, cycle: until}
            return _with_cert(record, program, extensions=extensions)
    return _apply_to_claims(record, event, at)


def _apply(record: ManagerRecord, event: Event, at: datetime) -> ManagerRecord:
    match event:
        case ManagerProfileChanged(name=name, email=email):
            name, email = name or record.name, email or record.email
            return replace(record, name=name, email=email)
        case CertificationGranted(program=program, certified_on=certified_on):
            cert = Certification(program=program, certified_on=certified_on, granted_at=at)
            return replace(record, certifications={**record.certifications, program: cert})
        case CompletionRecorded():
            return _with_completion(record, _recorded(event, at))
        case CompletionAmended(completion_id=cid) | CompletionVoided(completion_id=cid):
            return _with_completion(record, _corrected(record.completions[cid], event, at))
    return _apply_to_cert(record, event, at)


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
    whenever they were posted, and `assess` counts only those completed by `as_of`; so are a
    self-report and its decision (an accepted one is a completion).  A
    certification takes effect on `certified_on`.  Everything else (fees, filings, decisions,
    revocations, extensions) takes effect on the (UTC) day it was recorded.
    """
    match event:
        case ManagerEnrolled() | CompletionRecorded() | CompletionAmended() | CompletionVoided():
            return True
        case SelfReported() | SelfReportAccepted() | SelfReportRejected():
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
