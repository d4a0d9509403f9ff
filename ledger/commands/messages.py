"""The commands' input messages: one frozen, keyword-only msgspec Struct per command, unknown
fields refused, its constraints declared on its fields (so they show in the OpenAPI schema).

Every door decodes into these and hands them on: the API's controllers (`data:
JSONBody[PostCompletion]`, decoded strictly by ledger/api/strict.py), the pages' forms
(ledger/web/forms.py, `convert_form`), a roster's lines (JSON items or CSV cells, `convert`)
and the CLI.  Shapes and simple bounds are checked here; the rules (CEUs against the activity,
dates against today) by the domain, which reads the message itself.  The constrained types
(`Ceus`, `Text`, `Id`, ...) are ledger/domain/values.py's.

The path of POST /v1/completions, file by file, and its shapes (the middlewares every route
passes, request log, bearer authentication and guards, aside):

1. ledger/api/strict.py                    the body's bytes -> `PostCompletion` (strict decode)
2. ledger/api/controllers/completions.py   the `provider` guard; hands the message on
3. ledger/commands/completions.py          `record_completion`: the activity, the decision,
                                           the write; -> `Posted` (its `Receipt`)
4. ledger/commands/base.py                 `write_manager`: the manager's stream queue
5. ledger/commands/streams_queue.py        one round: the record, the decision, `append_many`
6. ledger/domain/completions.py            decides on the message -> `CompletionRecorded`
7. events/catalog.py                       the fact
8. events/postgres/store.py                the locked append (its commit scheduler and
                                           known-head path beside it) -> `AppendResult`

Five shapes: `PostCompletion` -> `CompletionRecorded` (in the store's `AppendItem` envelope)
-> `AppendResult` -> `Receipt` in `Posted`.  The completion's fields are declared once, here;
the event is built from the message's own fields (`msgspec.structs.asdict`), a stored one
compared by `same_as`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

import msgspec
from msgspec import Meta

from events.catalog import Source
from ledger.domain.values import (
    MAX_BATCH,
    MAX_SEED,
    TEXT_PATTERN,
    Cents,
    Ceus,
    Code,
    Email,
    ExternalId,
    Fraction,
    Id,
    Label,
    Note,
    Reason,
    Text,
    dec_hook,
    valid_ceus,
)

__all__ = [
    "AcceptSelfReport",
    "AgendaSession",
    "AmendCompletion",
    "AttendanceRoster",
    "ApplyForApproval",
    "ApproveActivity",
    "ApproveProvider",
    "ChangeProfile",
    "ChangeStanding",
    "CorrectAttendance",
    "DecideRenewal",
    "DefineProgram",
    "DisputeClaim",
    "DenyApproval",
    "DrawAudit",
    "EnrollManager",
    "ExtendDeadline",
    "FileClaim",
    "FileRenewal",
    "GrantCertification",
    "IssueToken",
    "MAX_ATTENDANCE",
    "Message",
    "PayFee",
    "PostCompletion",
    "PostCompletionBatch",
    "RecordAttendance",
    "RecordFinding",
    "RefundFee",
    "RegisterActivity",
    "RegisterProvider",
    "RejectSelfReport",
    "ReportSelf",
    "RuleVersion",
    "RuleSet",
    "SubmitActivity",
    "VoidCompletion",
    "convert",
    "convert_form",
    "decoder",
]

T = TypeVar("T")
_CENT = Decimal("0.01")


def convert(raw: Any, kind: type[T]) -> T:
    """Plain values (a JSON item, a CSV line) as `kind`, strictly: msgspec.ValidationError if
    not.  Text stays text: a CSV line's cells must be the fields' own spellings."""
    return msgspec.convert(raw, kind, strict=True, dec_hook=dec_hook)


def decoder(kind: type[T]) -> msgspec.json.Decoder[T]:
    """A reusable JSON decoder for `kind`, strict (no text for a number, no float for an
    integer); its errors are msgspec's."""
    return msgspec.json.Decoder(kind, strict=True, dec_hook=dec_hook)


def convert_form(raw: Any, kind: type[T]) -> T:
    """An HTML form's values as `kind`.  A form sends only text, so numbers and dates are read
    from their text here (strict=False), but the marker types (CEUs, fractions) keep their
    own strict rules."""
    return msgspec.convert(raw, kind, strict=False, dec_hook=dec_hook)


class Message(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The base of every input message: frozen, keyword-only, unknown fields refused."""


class IssueToken(Message, frozen=True, kw_only=True):
    role: Literal["admin", "provider", "manager", "auditor"]
    provider_id: Id | None = None
    manager_id: Id | None = None
    programs: Annotated[list[Code], Meta(max_length=50)] = []
    expires_at: (
        Annotated[
            datetime, Meta(tz=True, description="an RFC 3339 instant with its zone, in the future")
        ]
        | None
    ) = None


class RuleSet(Message, frozen=True, kw_only=True):
    cycle_months: Annotated[int, Meta(ge=1, le=120)]
    required_ceus: Ceus
    categories: Annotated[
        tuple[Label, ...],
        Meta(min_length=1, max_length=50),
    ] = ("core", "general")
    category_minimums: Annotated[
        dict[Annotated[str, Meta(min_length=1, max_length=64, pattern=TEXT_PATTERN)], Ceus],
        Meta(max_length=50),
    ] = {}
    grace_days: Annotated[int, Meta(ge=0, le=366)]
    fee_cents: Cents
    carryover_max_ceus: Ceus = Decimal(0)
    audit_rate: Fraction = Decimal("0.10")
    correction_window_days: Annotated[int, Meta(ge=0, le=3650)] = 60
    # Workshops (SPEC 11): the share of a session a manager must be present for it to count,
    # and the days a claim may stay open before it is overdue.
    min_presence: Fraction = Decimal("0.9")
    claim_window_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    # Sources of credit (SPEC 12): at least so many CEUs from a source, at most so many of a
    # source counted (e.g. PAHCOM's {"approved": 12} and {"self": 12}); none by default.
    source_minimums: Annotated[dict[Source, Ceus], Meta(max_length=3)] = {}
    source_maximums: Annotated[dict[Source, Ceus], Meta(max_length=3)] = {}


class RuleVersion(RuleSet, frozen=True, kw_only=True):
    effective_from: date


class DefineProgram(Message, frozen=True, kw_only=True):
    code: Code
    name: Text
    association: Text
    rules: RuleVersion


class RegisterProvider(Message, frozen=True, kw_only=True):
    provider_id: Id
    name: Text
    programs: Annotated[list[Code], Meta(min_length=1, max_length=50)]


class RegisterActivity(Message, frozen=True, kw_only=True):
    activity_id: Id
    title: Text
    format: Label
    ceus: Ceus
    category: Label
    programs: Annotated[list[Code], Meta(min_length=1, max_length=50)]
    starts_on: date
    ends_on: date


class EnrollManager(Message, frozen=True, kw_only=True):
    manager_id: Id
    name: Text
    email: Email


class GrantCertification(Message, frozen=True, kw_only=True):
    program: Code
    certified_on: date


class PostCompletion(Message, frozen=True, kw_only=True):
    """One provider's report that a manager completed an activity: the completion's fields,
    declared once (the domain decides on this message, the event is built from it)."""

    external_id: ExternalId
    manager_id: Id
    activity_id: Id
    completed_on: date
    ceus: Ceus

    def normalized(self) -> PostCompletion:
        """One spelling per amount ("1.5" and "1.50" are the same posting); amounts that are
        not valid CEUs are left alone for the decision to refuse."""
        if valid_ceus(self.ceus) is None:
            return msgspec.structs.replace(self, ceus=self.ceus.quantize(_CENT))
        return self

    def same_as(self, other: object) -> bool:
        """Whether `other` (a stored CompletionRecorded, or another posting) holds this
        posting's every field with the same value."""
        return all(getattr(other, f, None) == getattr(self, f) for f in self.__struct_fields__)


class PostCompletionBatch(Message, frozen=True, kw_only=True):
    """Items are checked one by one (each stands alone, even one that is not an object), so
    they are left undecoded here."""

    items: Annotated[list[Any], Meta(min_length=1, max_length=MAX_BATCH)]


class VoidCompletion(Message, frozen=True, kw_only=True):
    reason: Reason


class AmendCompletion(Message, frozen=True, kw_only=True):
    reason: Reason
    ceus: Ceus | None = None
    completed_on: date | None = None

    def normalized(self) -> AmendCompletion:
        """As `PostCompletion.normalized`: one spelling per valid amount."""
        if self.ceus is not None and valid_ceus(self.ceus) is None:
            return msgspec.structs.replace(self, ceus=self.ceus.quantize(_CENT))
        return self


class PayFee(Message, frozen=True, kw_only=True):
    program: Code
    amount_cents: Annotated[int, Meta(ge=1, le=10_000_000)]
    reference: Text


class FileRenewal(Message, frozen=True, kw_only=True):
    program: Code


class DecideRenewal(Message, frozen=True, kw_only=True):
    decision: Literal["approve", "deny"]
    reason: Note = ""


class DrawAudit(Message, frozen=True, kw_only=True):
    filed_from: date
    filed_to: date
    rate: Fraction | None = None
    """Fraction of the population to draw; the program's audit_rate if omitted."""
    seed: Annotated[int, Meta(ge=0, le=MAX_SEED)] | None = None
    """Same seed and same population give the same selection; random if omitted."""


class RecordFinding(Message, frozen=True, kw_only=True):
    renewal_id: UUID
    outcome: Literal["passed", "failed"]
    note: Note = ""


class ChangeStanding(Message, frozen=True, kw_only=True):
    reason: Reason


class ExtendDeadline(Message, frozen=True, kw_only=True):
    ends_on: date
    reason: Reason


class ChangeProfile(Message, frozen=True, kw_only=True):
    name: Text | None = None
    email: Email | None = None


class RefundFee(Message, frozen=True, kw_only=True):
    amount_cents: Annotated[int, Meta(ge=1, le=10_000_000)]
    reason: Reason


_INSTANT = "an RFC 3339 instant with its offset, e.g. 2025-05-01T09:00:00-05:00"


class AgendaSession(Message, frozen=True, kw_only=True):
    """One session of a workshop's agenda (PUT /v1/activities/{id}/sessions takes them all)."""

    session_id: Id
    title: Text
    starts_at: Annotated[datetime, Meta(tz=True, description=_INSTANT)]
    ends_at: Annotated[datetime, Meta(tz=True, description=_INSTANT)]
    ceus: Ceus
    category: Label


class RecordAttendance(Message, frozen=True, kw_only=True):
    """One manager at one session of a workshop; without `checked_out_at`, a check-in."""

    manager_id: Id
    session_id: Id
    checked_in_at: Annotated[datetime, Meta(tz=True, description=_INSTANT)]
    checked_out_at: Annotated[datetime, Meta(tz=True, description=_INSTANT)] | None = None
    method: Literal["roster", "kiosk"] = "roster"


# -- Workshops' routes (issue 18): a roster of attendance, and a correction -------------------

MAX_ATTENDANCE = 5000
"""Lines in one attendance roster (SPEC 11)."""


class AttendanceRoster(Message, frozen=True, kw_only=True):
    """POST /v1/activities/{id}/attendance as JSON: its items are checked one by one (each
    stands alone, as a completions roster's), so they are left undecoded here."""

    items: Annotated[list[Any], Meta(min_length=1, max_length=MAX_ATTENDANCE)]


class CorrectAttendance(Message, frozen=True, kw_only=True):
    """New times for a recorded attendance (a time left out keeps its value), or its removal."""

    reason: Reason
    checked_in_at: Annotated[datetime, Meta(tz=True, description=_INSTANT)] | None = None
    checked_out_at: Annotated[datetime, Meta(tz=True, description=_INSTANT)] | None = None
    removed: bool = False


# -- self-reports (SPEC 12) ------------------------------------------------------------------


class ReportSelf(Message, frozen=True, kw_only=True):
    """A self-report's fields: the multipart form of POST /v1/managers/{id}/self-reports (and
    of the manager's page), beside its one file."""

    title: Text
    provider_name: Text
    completed_on: date
    ceus: Ceus
    category: Label
    programs: Annotated[list[Code], Meta(min_length=1, max_length=50)]


class AcceptSelfReport(Message, frozen=True, kw_only=True):
    ceus: Ceus
    """At most the CEUs reported."""
    category: Label


class RejectSelfReport(Message, frozen=True, kw_only=True):
    reason: Reason


# -- claims (SPEC 11) ---------------------------------------------------------------------------


class FileClaim(Message, frozen=True, kw_only=True):
    """A manager's "I attended, and nothing was posted": POST /v1/managers/{id}/claims."""

    activity_id: Id
    completed_on: date
    note: Note = ""


class DisputeClaim(Message, frozen=True, kw_only=True):
    """The provider's answer to a claim it will not post: POST /v1/claims/{id}/dispute."""

    reason: Reason


# -- approvals (SPEC 12) -----------------------------------------------------------------------


class ApplyForApproval(Message, frozen=True, kw_only=True):
    """A provider applies to the path's program (or applies again, to renew)."""

    contact_email: Email
    """Where the notices about this approval go (reminders 120 and 30 days before it lapses)."""


class ApproveProvider(Message, frozen=True, kw_only=True):
    approval_number: Label
    valid_until: Annotated[
        date, Meta(description="the first day the approval is no longer valid (YYYY-MM-DD)")
    ]


class DenyApproval(Message, frozen=True, kw_only=True):
    reason: Reason


class SubmitActivity(Message, frozen=True, kw_only=True):
    """A provider submits one of its activities to the path's program."""

    activity_id: Id


class ApproveActivity(Message, frozen=True, kw_only=True):
    index_number: Label
    ceus: Ceus
    """At most the activity's CEUs."""
    category: Label
    """One of the program's categories."""
