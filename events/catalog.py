"""The facts of the ledger: frozen, keyword-only msgspec Structs with stable tags.

Rules for changing this file: events evolve only additively.  A new field gets a default and
bumps the class's `schema_version`, with an upcaster in events/codec.py that fills the field in
for what was stored before; anything else (a rename, a type change, a removal) does too.
tests/golden/ keeps one stored example of every event type at every version.
CEUs are Decimals (encoded as JSON strings, so nothing ever passes through a float); money is
integer cents; dates are calendar dates; instants live in the envelope, not here.

Why even an additive field takes a version: the golden test re-encodes every stored example of
the current version and wants the very same bytes back, and a new field is encoded, default or
not.  So `Rules.categories` (the closed category list) made ProgramDefined and
ProgramRulesRevised version 2: a stored version-1 rule set gets, from the upcaster, `core`,
`general` and whatever its category_minimums name, which is what it accepted in practice (a
plain default could not depend on the minimums).  `FeePaid.fee_id` made FeePaid version 2; a
version-1 fee has no id (None), so it cannot be refunded by id.  The workshop rules
(`Rules.min_presence`, `Rules.claim_window_days`) made both program events version 3, and the
sessions a derived credit names made CompletionRecorded and CompletionAmended version 2: what
was stored before gets the defaults (0.9, 30 days; no sessions, sessions unchanged).
The sources of credit (SPEC 12: `Rules.source_minimums`, `Rules.source_maximums`) made both
program events version 4 (none before), and a counted completion's `source` made RenewalFiled
version 2: what was filed before counted only providers' postings (`provider`).

Workshops (SPEC 11) are a stream of their own, `workshop-{activity_id}`: the agenda, the
attendance and its corrections, the close.  The times there (`starts_at`, `checked_in_at`, ...)
are what the facts are about, with the offset they were given in; the instant a fact was
recorded still lives in the envelope.  A manager's claims live in the manager's stream.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

import msgspec

__all__ = [
    "ActivityApprovalDenied",
    "ActivityApprovalRequested",
    "ActivityApproved",
    "ActivityRegistered",
    "AttendanceClaimed",
    "AttendanceCorrected",
    "AttendanceRecorded",
    "AuditFindingRecorded",
    "AuditSampleDrawn",
    "CertificationGranted",
    "CertificationReinstated",
    "CertificationRevoked",
    "ClaimDisputed",
    "ClaimFulfilled",
    "CompletionAmended",
    "CompletionRecorded",
    "CompletionVoided",
    "CountedCompletion",
    "DeadlineExtended",
    "Event",
    "EvidenceFile",
    "FeePaid",
    "FeeRefunded",
    "LedgerEvent",
    "ManagerEnrolled",
    "ManagerProfileChanged",
    "ProgramDefined",
    "ProgramRulesRevised",
    "ProviderApprovalDenied",
    "ProviderApprovalRequested",
    "ProviderApproved",
    "ProviderRegistered",
    "RenewalApproved",
    "RenewalDenied",
    "RenewalFiled",
    "Rules",
    "SelfReportAccepted",
    "SelfReportRejected",
    "SelfReported",
    "Session",
    "SessionsScheduled",
    "Source",
    "WorkshopClosed",
]


Source = Literal["approved", "provider", "self"]
"""Where a counted completion's credit comes from (SPEC 12): an activity approved for the
program, a provider's posting not approved for it, or the manager's own report, accepted."""


class Rules(msgspec.Struct, frozen=True, kw_only=True):
    """One effective-dated version of a program's rules.  A cycle is judged by the version
    in force on the day it starts."""

    effective_from: date
    cycle_months: int
    required_ceus: Decimal
    categories: tuple[str, ...] = ("core", "general")
    """The closed list: an activity's category must be one of these, spelled exactly."""
    category_minimums: dict[str, Decimal] = {}
    grace_days: int
    fee_cents: int
    carryover_max_ceus: Decimal = Decimal(0)
    audit_rate: Decimal
    correction_window_days: int
    min_presence: Decimal = Decimal("0.9")
    """A workshop session is attended when present for at least this share of its length."""
    claim_window_days: int = 30
    """A manager's claim still open this many days after it was filed is overdue."""
    source_minimums: dict[Source, Decimal] = {}
    """At least this many CEUs of a cycle must come from a source (`{approved: 12}`)."""
    source_maximums: dict[Source, Decimal] = {}
    """At most this many CEUs of a source count in a cycle (`{self: 12}`); the rest does not."""


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    schema_version: ClassVar[int] = 1


# -- programs (stream program-{code}) --------------------------------------------------------


class ProgramDefined(Event, tag="program_defined", frozen=True, kw_only=True):
    schema_version: ClassVar[int] = 4

    program: str
    name: str
    association: str
    rules: Rules


class ProgramRulesRevised(Event, tag="program_rules_revised", frozen=True, kw_only=True):
    schema_version: ClassVar[int] = 4

    program: str
    rules: Rules


# -- providers and their activities (stream provider-{id}) -------------------------------------


class ProviderRegistered(Event, tag="provider_registered", frozen=True, kw_only=True):
    provider_id: str
    name: str
    programs: tuple[str, ...]


class ActivityRegistered(Event, tag="activity_registered", frozen=True, kw_only=True):
    provider_id: str
    activity_id: str
    title: str
    format: str
    ceus: Decimal
    category: str
    programs: tuple[str, ...]
    starts_on: date
    ends_on: date


# -- a manager's record (stream manager-{id}) ------------------------------------------------


class ManagerEnrolled(Event, tag="manager_enrolled", frozen=True, kw_only=True):
    manager_id: str
    name: str
    email: str


class ManagerProfileChanged(Event, tag="manager_profile_changed", frozen=True, kw_only=True):
    """A new name, a new email, or both; None keeps the current one."""

    manager_id: str
    name: str | None = None
    email: str | None = None


class CertificationGranted(Event, tag="certification_granted", frozen=True, kw_only=True):
    manager_id: str
    program: str
    certified_on: date


class CompletionRecorded(Event, tag="completion_recorded", frozen=True, kw_only=True):
    """One person finishing one activity.  The activity's title, category and programs are
    copied in: the fact says what was counted, whatever happens to the catalogue later.
    A workshop's credit derived at its close names the sessions it counts (`sessions`)."""

    schema_version: ClassVar[int] = 2

    completion_id: UUID
    manager_id: str
    provider_id: str
    external_id: str
    activity_id: str
    activity_title: str
    category: str
    programs: tuple[str, ...]
    completed_on: date
    ceus: Decimal
    sessions: tuple[str, ...] = ()


class CompletionAmended(Event, tag="completion_amended", frozen=True, kw_only=True):
    schema_version: ClassVar[int] = 2

    completion_id: UUID
    manager_id: str
    reason: str
    ceus: Decimal | None = None
    completed_on: date | None = None
    sessions: tuple[str, ...] | None = None
    """A workshop's derived credit counting other sessions now; None keeps them."""


class CompletionVoided(Event, tag="completion_voided", frozen=True, kw_only=True):
    completion_id: UUID
    manager_id: str
    reason: str


class FeePaid(Event, tag="fee_paid", frozen=True, kw_only=True):
    schema_version: ClassVar[int] = 2

    manager_id: str
    program: str
    cycle: int
    amount_cents: int
    reference: str
    fee_id: UUID | None = None
    """Every fee paid since version 2 has one (it is also the stored event's id)."""


class FeeRefunded(Event, tag="fee_refunded", frozen=True, kw_only=True):
    """Part or all of a fee given back: the cycle's fee paid goes down by `amount_cents`."""

    fee_id: UUID
    manager_id: str
    program: str
    cycle: int
    amount_cents: int
    reason: str


class CountedCompletion(msgspec.Struct, frozen=True, kw_only=True):
    completion_id: UUID
    ceus: Decimal
    category: str
    source: Source = "provider"
    """Filed before sources existed: a provider's posting (RenewalFiled version 1)."""


class RenewalFiled(Event, tag="renewal_filed", frozen=True, kw_only=True):
    """Filing freezes the evidence: exactly these completions, with these CEUs and sources."""

    schema_version: ClassVar[int] = 2

    renewal_id: UUID
    manager_id: str
    program: str
    cycle: int
    ceus: Decimal
    completions: tuple[CountedCompletion, ...]
    fee_paid_cents: int
    carried_over: Decimal = Decimal(0)


class RenewalApproved(Event, tag="renewal_approved", frozen=True, kw_only=True):
    renewal_id: UUID
    manager_id: str
    program: str
    cycle: int
    reason: str = ""


class RenewalDenied(Event, tag="renewal_denied", frozen=True, kw_only=True):
    renewal_id: UUID
    manager_id: str
    program: str
    cycle: int
    reason: str


class CertificationRevoked(Event, tag="certification_revoked", frozen=True, kw_only=True):
    manager_id: str
    program: str
    reason: str
    audit_id: UUID | None = None


class CertificationReinstated(Event, tag="certification_reinstated", frozen=True, kw_only=True):
    manager_id: str
    program: str
    reason: str


class DeadlineExtended(Event, tag="deadline_extended", frozen=True, kw_only=True):
    """Cycle `cycle` may be completed until `extended_until` (exclusive); completions dated
    in the extension count for it, and the next cycle's count starts there."""

    manager_id: str
    program: str
    cycle: int
    extended_until: date
    reason: str


class AuditFindingRecorded(Event, tag="audit_finding_recorded", frozen=True, kw_only=True):
    audit_id: UUID
    renewal_id: UUID
    manager_id: str
    program: str
    outcome: Literal["passed", "failed"]
    note: str


# -- audits (stream audit-{id}) ----------------------------------------------------------------


class AuditSampleDrawn(Event, tag="audit_sample_drawn", frozen=True, kw_only=True):
    """The whole draw is in the fact, so anyone can redo it: same seed, same population,
    same selection (ledger/domain/audit.py)."""

    audit_id: UUID
    program: str
    filed_from: date
    filed_to: date
    rate: Decimal
    seed: int
    population: tuple[UUID, ...]
    selected: tuple[UUID, ...]


# -- workshops (stream workshop-{activity_id}) ---------------------------------------------------


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """One session of a workshop's agenda; sessions may overlap (concurrent tracks)."""

    session_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    ceus: Decimal
    category: str


class SessionsScheduled(Event, tag="sessions_scheduled", frozen=True, kw_only=True):
    """The whole agenda, each time it is given or changed."""

    activity_id: str
    sessions: tuple[Session, ...]


class AttendanceRecorded(Event, tag="attendance_recorded", frozen=True, kw_only=True):
    """One manager at one session.  Without `checked_out_at` the manager checked in and has
    not (yet) checked out: a later recording with the same check-in completes it."""

    activity_id: str
    session_id: str
    manager_id: str
    checked_in_at: datetime
    checked_out_at: datetime | None = None
    method: Literal["roster", "kiosk"]


class AttendanceCorrected(Event, tag="attendance_corrected", frozen=True, kw_only=True):
    """The provider's correction of an attendance: new times (None keeps one), or removed."""

    activity_id: str
    session_id: str
    manager_id: str
    reason: str
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    removed: bool = False


class WorkshopClosed(Event, tag="workshop_closed", frozen=True, kw_only=True):
    """The provider closed the workshop: its credit is derived (CompletionRecorded in each
    attendee's stream), and attendance recorded later derives the difference."""

    activity_id: str


# -- claims: expected but not posted (stream manager-{id}) --------------------------------------


class AttendanceClaimed(Event, tag="attendance_claimed", frozen=True, kw_only=True):
    """A manager says they attended an activity whose completion was not posted.  The
    activity's provider is copied in: it is the one who answers the claim."""

    claim_id: UUID
    manager_id: str
    activity_id: str
    provider_id: str
    completed_on: date
    note: str


class ClaimFulfilled(Event, tag="claim_fulfilled", frozen=True, kw_only=True):
    claim_id: UUID
    manager_id: str
    completion_id: UUID


class ClaimDisputed(Event, tag="claim_disputed", frozen=True, kw_only=True):
    claim_id: UUID
    manager_id: str
    reason: str


# -- self-reports: credit no provider posts (stream manager-{id}) -------------------------------


class EvidenceFile(msgspec.Struct, frozen=True, kw_only=True):
    """What a self-report records of its file: its key in the evidence store (the SHA-256 of
    the bytes), its size and the type sniffed from the bytes; the name it was uploaded under
    only labels it.  Never the bytes (docs/evidence.md)."""

    sha256: str
    size: int
    media_type: str
    filename: str


class SelfReported(Event, tag="self_reported", frozen=True, kw_only=True):
    """A manager reports credit no provider posts, with one file of evidence (SPEC 12).  It
    counts for nothing until an auditor of one of its programs accepts it.  The stored event's
    id is `report_id`, so a report is found by its id without a read model."""

    report_id: UUID
    manager_id: str
    title: str
    provider_name: str
    completed_on: date
    ceus: Decimal
    category: str
    programs: tuple[str, ...]
    evidence: EvidenceFile


class SelfReportAccepted(Event, tag="self_report_accepted", frozen=True, kw_only=True):
    """The report counts from now on as a completion of `ceus` (at most those reported) in
    `category`.  Its programs are copied in, so the feed's privacy rule reads them here; who
    accepted it is the event's actor (metadata)."""

    report_id: UUID
    manager_id: str
    programs: tuple[str, ...]
    ceus: Decimal
    category: str


class SelfReportRejected(Event, tag="self_report_rejected", frozen=True, kw_only=True):
    """The report never counts; the manager may report again."""

    report_id: UUID
    manager_id: str
    programs: tuple[str, ...]
    reason: str


# -- approvals (SPEC 12): provider approvals in stream provider-{id}, activity approvals in ----
# -- stream activity-{id}; catalogue facts, folded by ledger/domain/approvals.py -----------------


class ProviderApprovalRequested(
    Event, tag="provider_approval_requested", frozen=True, kw_only=True
):
    """A provider applies to a program for approval, or for its renewal; `contact_email` is
    where the notices about this approval go (reminders before it lapses)."""

    provider_id: str
    program: str
    contact_email: str


class ProviderApproved(Event, tag="provider_approved", frozen=True, kw_only=True):
    """An auditor of the program approves the pending application: valid from `valid_from`
    (the day of the decision) and lapsing at `valid_until` (the first day it is not valid)."""

    provider_id: str
    program: str
    approval_number: str
    valid_from: date
    valid_until: date


class ProviderApprovalDenied(Event, tag="provider_approval_denied", frozen=True, kw_only=True):
    provider_id: str
    program: str
    reason: str


class ActivityApprovalRequested(
    Event, tag="activity_approval_requested", frozen=True, kw_only=True
):
    """A provider submits one of its activities to a program for approval."""

    activity_id: str
    provider_id: str
    program: str


class ActivityApproved(Event, tag="activity_approved", frozen=True, kw_only=True):
    """The activity is approved for the program with an index number: by an auditor of the
    program, or on registration (`automatic`) because its provider's approval for the program
    was valid on the activity's first day (then the index number is the approval's number)."""

    activity_id: str
    provider_id: str
    program: str
    index_number: str
    ceus: Decimal
    category: str
    automatic: bool = False


class ActivityApprovalDenied(Event, tag="activity_approval_denied", frozen=True, kw_only=True):
    activity_id: str
    provider_id: str
    program: str
    reason: str


LedgerEvent = (
    ProgramDefined
    | ProgramRulesRevised
    | ProviderRegistered
    | ActivityRegistered
    | ManagerEnrolled
    | CertificationGranted
    | CompletionRecorded
    | CompletionAmended
    | CompletionVoided
    | FeePaid
    | FeeRefunded
    | ManagerProfileChanged
    | RenewalFiled
    | RenewalApproved
    | RenewalDenied
    | CertificationRevoked
    | CertificationReinstated
    | DeadlineExtended
    | AuditSampleDrawn
    | AuditFindingRecorded
    | SessionsScheduled
    | AttendanceRecorded
    | AttendanceCorrected
    | WorkshopClosed
    | AttendanceClaimed
    | ClaimFulfilled
    | ClaimDisputed
    | SelfReported
    | SelfReportAccepted
    | SelfReportRejected
    | ProviderApprovalRequested
    | ProviderApproved
    | ProviderApprovalDenied
    | ActivityApprovalRequested
    | ActivityApproved
    | ActivityApprovalDenied
)
