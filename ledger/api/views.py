"""Response bodies, built from the domain's values.  Kept apart from events and requests."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema

from ledger.domain.assess import Allocation, Assessment
from ledger.domain.catalogue import Program

__all__ = [
    "CertificationStatus",
    "CsvOperation",
    "ExplainView",
    "ProgramView",
    "StatusView",
    "certification_status",
    "json_or_csv",
]


class CycleView(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    starts_on: date
    ends_on: date
    deadline: date
    """ends_on, or later if the association extended it."""
    grace_ends_on: date


class CategoryView(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    earned: Decimal
    required: Decimal
    remaining: Decimal


class RenewalView(msgspec.Struct, frozen=True, kw_only=True):
    renewal_id: UUID
    state: Literal["filed", "approved", "denied"]
    filed_at: datetime
    decided_at: datetime | None
    reason: str


class ShortfallView(msgspec.Struct, frozen=True, kw_only=True):
    requirement: Literal["ceus", "category", "fee"]
    category: str | None
    missing: Decimal


class CertificationStatus(msgspec.Struct, frozen=True, kw_only=True):
    program: str
    status: Literal["active", "grace", "lapsed", "revoked"]
    certified_on: date
    cycle: CycleView
    ceus_earned: Decimal
    ceus_required: Decimal
    ceus_remaining: Decimal
    carried_over: Decimal
    categories: list[CategoryView]
    fee_paid: bool
    fee_paid_cents: int
    fee_cents: int
    renewal: RenewalView | None
    renewal_ready: bool
    days_to_deadline: int
    shortfalls: list[ShortfallView]


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
    allocations: list[Allocation]


class RuleVersionView(msgspec.Struct, frozen=True, kw_only=True):
    effective_from: date
    cycle_months: int
    required_ceus: Decimal
    categories: tuple[str, ...]
    category_minimums: dict[str, Decimal]
    grace_days: int
    fee_cents: int
    carryover_max_ceus: Decimal
    audit_rate: Decimal
    correction_window_days: int


class ProgramView(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    association: str
    rules: list[RuleVersionView]
    """Every rule version, oldest first."""


class FeeView(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    program: str
    amount_cents: int
    reference: str
    position: int
    recorded_at: datetime


class CountedView(msgspec.Struct, frozen=True, kw_only=True):
    completion_id: UUID
    ceus: Decimal
    category: str


class RenewalFiledView(msgspec.Struct, frozen=True, kw_only=True):
    """A filing freezes its evidence: exactly these completions, with these CEUs."""

    renewal_id: UUID
    manager_id: str
    program: str
    cycle: int
    ceus: Decimal
    carried_over: Decimal
    fee_paid_cents: int
    completions: list[CountedView]
    position: int
    recorded_at: datetime


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return " ".join(str(v) for v in value)
    return value


def json_or_csv(rows: Any) -> dict[int, ResponseSpec]:
    """The 200 of a listing: `rows` in JSON (and, with `CsvOperation`, CSV too)."""
    return {
        200: ResponseSpec(
            data_container=rows,
            description="the rows in JSON, or in CSV with format=csv",
            generate_examples=False,
        )
    }


@dataclass
class CsvOperation(Operation):
    """A listing that also answers `format=csv`: its 200 documents text/csv beside JSON."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            csv_text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
            ok.content = {**(ok.content or {}), "text/csv": csv_text}


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """CSV with a header line; booleans as true/false, dates and instants in ISO 8601."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return out.getvalue()


def cycle_view(assessment: Assessment) -> CycleView:
    focus = assessment.focus
    return CycleView(
        number=focus.cycle.number,
        starts_on=focus.cycle.starts_on,
        ends_on=focus.cycle.ends_on,
        deadline=focus.deadline,
        grace_ends_on=focus.grace_ends_on,
    )


def certification_status(a: Assessment) -> CertificationStatus:
    focus, rules = a.focus, a.focus.cycle.rules
    renewal = focus.renewal
    return CertificationStatus(
        program=a.program,
        status=a.status,
        certified_on=a.certified_on,
        cycle=cycle_view(a),
        ceus_earned=focus.earned,
        ceus_required=rules.required_ceus,
        ceus_remaining=a.ceus_remaining,
        carried_over=focus.carried_in,
        categories=[CategoryView(**msgspec.structs.asdict(c)) for c in a.categories],
        fee_paid=focus.fee_paid_cents >= rules.fee_cents,
        fee_paid_cents=focus.fee_paid_cents,
        fee_cents=rules.fee_cents,
        renewal=None
        if renewal is None
        else RenewalView(
            renewal_id=renewal.renewal_id,
            state=renewal.state,
            filed_at=renewal.filed_at,
            decided_at=renewal.decided_at,
            reason=renewal.reason,
        ),
        renewal_ready=a.renewal_ready,
        days_to_deadline=a.days_to_deadline,
        shortfalls=[
            ShortfallView(requirement=s.requirement, category=s.category, missing=s.missing)
            for s in a.shortfalls
        ],
    )


def program_view(program: Program) -> ProgramView:
    return ProgramView(
        code=program.code,
        name=program.name,
        association=program.association,
        rules=[RuleVersionView(**msgspec.structs.asdict(v)) for v in program.versions],
    )
