"""Every response body of the API (and the data of every web page), in one place.

Each view is a frozen msgspec Struct built from the domain's values with `View.of(...)`.
Where the domain already has the right shape (a category's figures, a shortfall, a rule
version, a renewal's report, a transcript line, a cycle report) the response uses it as it
is, so that no shape exists twice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Self, TypedDict
from uuid import UUID

import msgspec

from events.catalog import (
    AuditSampleDrawn,
    CountedCompletion,
    DeadlineExtended,
    RenewalFiled,
    Rules,
)
from events.store import AppendResult
from ledger.domain.assess import (
    Allocation,
    Assessment,
    CategoryFigure,
    Shortfall,
    SourceFigure,
    Status,
)
from ledger.domain.catalogue import Activity, Program, Provider
from ledger.domain.record import Change, Completion, ManagerRecord
from ledger.domain.reports import RenewalReport, renewal_report
from ledger.domain.workshops.presence import SessionReason
from projections.ceu_queries import Finding, ManagerRow, PostingRow
from projections.notices import NoticeRow

__all__ = [
    "TRANSCRIPT_COLUMNS",
    "ActivityView",
    "AuditView",
    "BatchResult",
    "CertificationStatus",
    "CompletionView",
    "CycleView",
    "DecisionView",
    "DueView",
    "ExplainView",
    "ExtensionView",
    "FeeView",
    "FindingView",
    "ItemResult",
    "ManagerList",
    "PostingsPage",
    "ProfileView",
    "ProgramView",
    "ProviderView",
    "Recorded",
    "RefundView",
    "RenewalFiledView",
    "StandingView",
    "StatusView",
]


class CycleView(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    starts_on: date
    ends_on: date
    deadline: date
    """ends_on, or later if the association extended it."""
    grace_ends_on: date

    @classmethod
    def of(cls, a: Assessment) -> CycleView:
        focus = a.focus
        return cls(
            number=focus.cycle.number,
            starts_on=focus.cycle.starts_on,
            ends_on=focus.cycle.ends_on,
            deadline=focus.deadline,
            grace_ends_on=focus.grace_ends_on,
        )


class CertificationStatus(msgspec.Struct, frozen=True, kw_only=True):
    program: str
    status: Status
    certified_on: date
    cycle: CycleView
    ceus_earned: Decimal
    ceus_required: Decimal
    ceus_remaining: Decimal
    carried_over: Decimal
    categories: tuple[CategoryFigure, ...]
    fee_paid: bool
    fee_paid_cents: int
    fee_cents: int
    renewal: RenewalReport | None
    renewal_ready: bool
    days_to_deadline: int
    shortfalls: tuple[Shortfall, ...]
    sources: tuple[SourceFigure, ...] = ()
    """CEUs counted per source of credit, with the cycle's minimum and maximum of each."""

    @classmethod
    def of(cls, a: Assessment) -> CertificationStatus:
        focus, rules = a.focus, a.focus.cycle.rules
        return cls(
            program=a.program,
            status=a.status,
            certified_on=a.certified_on,
            cycle=CycleView.of(a),
            ceus_earned=focus.earned,
            ceus_required=rules.required_ceus,
            ceus_remaining=a.ceus_remaining,
            carried_over=focus.carried_in,
            categories=a.categories,
            fee_paid=focus.fee_paid_cents >= rules.fee_cents,
            fee_paid_cents=focus.fee_paid_cents,
            fee_cents=rules.fee_cents,
            renewal=None if focus.renewal is None else renewal_report(focus.renewal),
            renewal_ready=a.renewal_ready,
            days_to_deadline=a.days_to_deadline,
            shortfalls=a.shortfalls,
            sources=a.sources,
        )


class StatusView(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    as_of: date
    known_at: datetime | None
    certifications: list[CertificationStatus]


class ExplainView(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    program: str
    as_of: date
    known_at: datetime | None
    cycle: CycleView
    allocations: tuple[Allocation, ...]
    sessions: dict[UUID, tuple[SessionReason, ...]] = {}
    """For a workshop's derived credit, by completion id: every session of its agenda,
    counted or why not ("left after 20 of 90 minutes")."""


class DueView(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    program: str
    status: Status
    cycle: int
    deadline: date
    grace_ends_on: date
    days_to_deadline: int
    ceus_earned: Decimal
    ceus_required: Decimal
    renewal_ready: bool
    shortfalls: tuple[Shortfall, ...]

    @classmethod
    def of(cls, manager_id: str, a: Assessment) -> DueView:
        return cls(
            manager_id=manager_id,
            program=a.program,
            status=a.status,
            cycle=a.focus.cycle.number,
            deadline=a.focus.deadline,
            grace_ends_on=a.focus.grace_ends_on,
            days_to_deadline=a.days_to_deadline,
            ceus_earned=a.focus.earned,
            ceus_required=a.focus.cycle.rules.required_ceus,
            renewal_ready=a.renewal_ready,
            shortfalls=a.shortfalls,
        )


class ProgramView(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    association: str
    rules: tuple[Rules, ...]
    """Every rule version, oldest first."""

    @classmethod
    def of(cls, program: Program) -> ProgramView:
        return cls(
            code=program.code,
            name=program.name,
            association=program.association,
            rules=program.versions,
        )


class ProviderView(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: str
    name: str
    programs: tuple[str, ...]

    @classmethod
    def of(cls, provider: Provider) -> ProviderView:
        return cls(provider_id=provider.provider_id, name=provider.name, programs=provider.programs)


ActivityView = Activity
"""An activity of the catalogue is answered as the domain folds it."""


class Place(TypedDict):
    """The fields of `Recorded`, to spread into a view's constructor."""

    position: int
    recorded_at: datetime


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """Where a write landed in the log."""

    position: int
    recorded_at: datetime

    @staticmethod
    def place(result: AppendResult) -> Place:
        """The fields of this base, for the last event of an append."""
        return {"position": result.last_position, "recorded_at": result.recorded_at}

    @classmethod
    def of_fact(cls, fact: msgspec.Struct, result: AppendResult) -> Self:
        """This view of a fact just written: the fields of the fact it names (converted, not
        copied one by one), and where the append landed."""
        return msgspec.convert(msgspec.structs.asdict(fact) | cls.place(result), cls)


class FeeView(Recorded, frozen=True, kw_only=True):
    fee_id: UUID
    manager_id: str
    program: str
    amount_cents: int
    reference: str


class RefundView(Recorded, frozen=True, kw_only=True):
    fee_id: UUID
    manager_id: str
    program: str
    amount_cents: int
    reason: str


class RenewalFiledView(Recorded, frozen=True, kw_only=True):
    """A filing freezes its evidence: exactly these completions, with these CEUs."""

    renewal_id: UUID
    manager_id: str
    program: str
    cycle: int
    ceus: Decimal
    carried_over: Decimal
    fee_paid_cents: int
    completions: tuple[CountedCompletion, ...]

    @classmethod
    def of(cls, filed: RenewalFiled, result: AppendResult) -> RenewalFiledView:
        return cls(**msgspec.structs.asdict(filed), **Recorded.place(result))


class DecisionView(msgspec.Struct, frozen=True, kw_only=True):
    renewal_id: UUID
    manager_id: str
    program: str
    cycle: int
    decision: Literal["approve", "deny"]
    reason: str
    position: int
    decided_at: datetime


class StandingView(Recorded, frozen=True, kw_only=True):
    manager_id: str
    program: str
    status: Status
    reason: str


class ExtensionView(Recorded, frozen=True, kw_only=True):
    manager_id: str
    program: str
    cycle: int
    ends_on: date
    reason: str

    @classmethod
    def of(cls, extended: DeadlineExtended, result: AppendResult) -> ExtensionView:
        fields = msgspec.structs.asdict(extended)
        fields["ends_on"] = fields.pop("extended_until")
        return cls(**fields, **Recorded.place(result))


class FindingView(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    renewal_id: UUID
    outcome: Literal["passed", "failed"]
    note: str
    revoked: bool
    position: int


class AuditView(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    program: str
    filed_from: date
    filed_to: date
    rate: Decimal
    seed: int
    population: tuple[UUID, ...]
    selected: tuple[UUID, ...]
    findings: tuple[Finding, ...] = ()

    @classmethod
    def of(cls, drawn: AuditSampleDrawn, findings: tuple[Finding, ...] = ()) -> AuditView:
        return cls(**msgspec.structs.asdict(drawn), findings=findings)


class CompletionView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    external_id: str
    provider_id: str
    manager_id: str
    activity_id: str
    activity_title: str
    category: str
    programs: tuple[str, ...]
    completed_on: date
    ceus: Decimal
    posted_at: datetime
    position: int
    voided: bool
    amended: bool
    history: tuple[Change, ...]

    @classmethod
    def of(cls, manager_id: str, c: Completion, position: int) -> CompletionView:
        return cls(
            id=c.completion_id,
            external_id=c.external_id,
            provider_id=c.provider_id,
            manager_id=manager_id,
            activity_id=c.activity_id,
            activity_title=c.activity_title,
            category=c.category,
            programs=c.programs,
            completed_on=c.completed_on,
            ceus=c.ceus,
            posted_at=c.posted_at,
            position=position,
            voided=c.voided,
            amended=c.amended,
            history=c.history,
        )


class ItemResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    external_id: str | None
    status: Literal["created", "duplicate", "rejected"]
    id: UUID | None = None
    position: int | None = None
    error: dict[str, object] | None = None


class BatchResult(msgspec.Struct, frozen=True, kw_only=True):
    created: int
    duplicate: int
    rejected: int
    results: list[ItemResult]

    @classmethod
    def of(cls, results: list[ItemResult]) -> BatchResult:
        count = {s: sum(r.status == s for r in results) for s in ("created", "duplicate")}
        return cls(**count, rejected=len(results) - sum(count.values()), results=results)


class ProfileView(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    name: str
    email: str
    enrolled_at: datetime
    certifications: tuple[str, ...]

    @classmethod
    def of(cls, record: ManagerRecord) -> ProfileView:
        return cls(
            manager_id=record.manager_id,
            name=record.name,
            email=record.email,
            enrolled_at=record.enrolled_at,
            certifications=tuple(sorted(record.certifications)),
        )


class ManagerList(msgspec.Struct, frozen=True, kw_only=True):
    managers: list[ManagerRow]
    next_after: int | None
    """Pass as `after` for the next page; null on the last page."""


class PostingsPage(msgspec.Struct, frozen=True, kw_only=True):
    completions: list[PostingRow]
    next_after: int | None


class NoticesView(msgspec.Struct, frozen=True, kw_only=True):
    """GET /v1/managers/{manager_id}/notices: oldest due first."""

    manager_id: str
    notices: list[NoticeRow]


TRANSCRIPT_COLUMNS = (
    "completion_id", "completed_on", "activity_id", "activity_title", "provider_id", "external_id",
    "category", "programs", "ceus", "state", "counted", "amended", "voided", "late", "cycle",
    "reason", "posted_at", "source",
)  # fmt: skip
"""The columns of a transcript's CSV, in order (GET /v1/managers/{id}/transcript?format=csv)."""
