"""Request bodies: strict msgspec Structs (unknown fields refused), separate from events.

Shapes and simple bounds are checked here, so they show in the OpenAPI schema; the rules
(CEUs against the activity, dates against today) are checked by the domain.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

__all__ = [
    "AmendBody",
    "AuditBody",
    "BatchBody",
    "CertificationBody",
    "CompletionBody",
    "DecisionBody",
    "FeeBody",
    "FindingBody",
    "ManagerBody",
    "ProgramBody",
    "ProviderBody",
    "RenewalBody",
    "RulesBody",
    "RuleVersionBody",
    "TokenBody",
    "VoidBody",
]

Id = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", description="1-64 letters, digits, . _ : -"
    ),
]
Code = Annotated[
    str, Meta(pattern=r"^[A-Z][A-Z0-9]{1,15}$", description="a program code such as CMM")
]
Text = Annotated[str, Meta(min_length=1, max_length=500)]
Reason = Annotated[str, Meta(min_length=1, max_length=2000)]
Ceus = Annotated[Decimal, Meta(description="a positive decimal with at most 2 places")]
Cents = Annotated[int, Meta(ge=0, le=10_000_000)]
MAX_BATCH = 1000


class Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class TokenBody(Strict, kw_only=True):
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


class RulesBody(Strict, kw_only=True):
    cycle_months: Annotated[int, Meta(ge=1, le=120)]
    required_ceus: Ceus
    category_minimums: Annotated[
        dict[Annotated[str, Meta(min_length=1, max_length=64)], Ceus], Meta(max_length=50)
    ] = {}
    grace_days: Annotated[int, Meta(ge=0, le=366)]
    fee_cents: Cents
    carryover_max_ceus: Decimal = Decimal(0)
    audit_rate: Decimal = Decimal("0.10")
    correction_window_days: Annotated[int, Meta(ge=0, le=3650)] = 60


class RuleVersionBody(RulesBody, kw_only=True):
    effective_from: date


class ProgramBody(Strict, kw_only=True):
    code: Code
    name: Text
    association: Text
    rules: RuleVersionBody


class ProviderBody(Strict, kw_only=True):
    provider_id: Id
    name: Text
    programs: Annotated[list[Code], Meta(min_length=1, max_length=50)]


class ActivityBody(Strict, kw_only=True):
    activity_id: Id
    title: Text
    format: Annotated[str, Meta(min_length=1, max_length=64)]
    ceus: Ceus
    category: Annotated[str, Meta(min_length=1, max_length=64)]
    programs: Annotated[list[Code], Meta(min_length=1, max_length=50)]
    starts_on: date
    ends_on: date


class ManagerBody(Strict, kw_only=True):
    manager_id: Id
    name: Text
    email: Annotated[str, Meta(min_length=3, max_length=254)]


class CertificationBody(Strict, kw_only=True):
    program: Code
    certified_on: date


class CompletionBody(Strict, kw_only=True):
    external_id: Annotated[str, Meta(min_length=1, max_length=128)]
    manager_id: Id
    activity_id: Id
    completed_on: date
    ceus: Ceus


class BatchBody(Strict, kw_only=True):
    """Items are checked one by one (each stands alone, even one that is not an object), so
    they are left undecoded here."""

    items: Annotated[list[Any], Meta(min_length=1, max_length=MAX_BATCH)]


class VoidBody(Strict, kw_only=True):
    reason: Reason


class AmendBody(Strict, kw_only=True):
    reason: Reason
    ceus: Ceus | None = None
    completed_on: date | None = None


class FeeBody(Strict, kw_only=True):
    program: Code
    amount_cents: Annotated[int, Meta(ge=1, le=10_000_000)]
    reference: Text


class RenewalBody(Strict, kw_only=True):
    program: Code


class DecisionBody(Strict, kw_only=True):
    decision: Literal["approve", "deny"]
    reason: Annotated[str, Meta(max_length=2000)] = ""


class AuditBody(Strict, kw_only=True):
    filed_from: date
    filed_to: date
    rate: Decimal | None = None
    """Fraction of the population to draw; the program's audit_rate if omitted."""
    seed: Annotated[int, Meta(ge=0, le=2**63 - 1)] | None = None
    """Same seed and same population give the same selection; random if omitted."""


class FindingBody(Strict, kw_only=True):
    renewal_id: UUID
    outcome: Literal["passed", "failed"]
    note: Annotated[str, Meta(max_length=2000)] = ""
