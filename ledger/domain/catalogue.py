"""Programs (credentials with their rule versions) and providers (with their activities):
the folds of the `program-*`, `provider-*` and `activity-*` streams, the decisions that
define them, and the programs every ledger starts with."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from events.catalog import (
    ActivityApprovalDenied,
    ActivityApprovalRequested,
    ActivityApproved,
    ActivityRegistered,
    Event,
    ProgramDefined,
    ProgramRulesRevised,
    ProviderApprovalDenied,
    ProviderApprovalRequested,
    ProviderApproved,
    ProviderRegistered,
    Rules,
)
from ledger.domain.approvals import ProviderApprovals, approve_on_registration
from ledger.domain.cycles import rules_in_force
from ledger.domain.errors import AlreadyExists, FieldError, Invalid, NotFound, invalid
from ledger.domain.values import EARLIEST, LATEST, in_range, valid_ceus

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

__all__ = [
    "DEFAULT_PROGRAMS",
    "Activity",
    "Program",
    "Provider",
    "define_program",
    "evolve_activity",
    "evolve_program",
    "evolve_provider",
    "register_activity",
    "register_provider",
    "revise_rules",
    "rules_errors",
]


class Program(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    association: str
    versions: tuple[Rules, ...]
    """Sorted by effective_from."""
    approved_activities: frozenset[str] = frozenset()
    """The activities approved for this program (ActivityApproved, in the activities' own
    streams: the catalogue adds them here): their completions' source is `approved`."""


class Activity(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: str
    provider_id: str
    title: str
    format: str
    ceus: Decimal
    category: str
    programs: tuple[str, ...]
    starts_on: date
    ends_on: date


class Provider(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: str
    name: str
    programs: tuple[str, ...]


def evolve_program(program: Program | None, event: Event) -> Program:
    match event, program:
        case ProgramDefined(program=code, name=name, association=association, rules=rules), None:
            return Program(code=code, name=name, association=association, versions=(rules,))
        case ProgramRulesRevised(rules=rules), Program():
            versions = sorted((*program.versions, rules), key=lambda r: r.effective_from)
            return msgspec.structs.replace(program, versions=tuple(versions))
        case ActivityApproved(activity_id=aid), Program():
            approved = program.approved_activities | {aid}
            return msgspec.structs.replace(program, approved_activities=approved)
    raise ValueError(f"{type(event).__name__} does not apply to program {program!r}")


def evolve_provider(provider: Provider | None, event: Event) -> Provider:
    match event, provider:
        case ProviderRegistered(provider_id=pid, name=name, programs=programs), None:
            return Provider(provider_id=pid, name=name, programs=programs)
        case (
            (ProviderApprovalRequested() | ProviderApproved() | ProviderApprovalDenied()),
            Provider(),
        ):
            return provider  # approvals: ledger/domain/approvals.py
    raise ValueError(f"{type(event).__name__} does not apply to provider {provider!r}")


def evolve_activity(activity: Activity | None, event: Event) -> Activity:
    """An activity is its own stream (`activity-{id}`), so that ids are unique ledger-wide."""
    match event, activity:
        case ActivityRegistered(), None:
            return msgspec.convert(msgspec.structs.asdict(event), Activity)
        case (
            (ActivityApprovalRequested() | ActivityApproved() | ActivityApprovalDenied()),
            Activity(),
        ):
            return activity  # approvals: ledger/domain/approvals.py
    raise ValueError(f"{type(event).__name__} does not apply to activity {activity!r}")


# -- decisions ---------------------------------------------------------------------------------


def _minimums_ok(rules: Rules) -> bool:
    if not all(valid_ceus(v) is None for v in rules.category_minimums.values()):
        return False
    # (compared only with a valid requirement: NaN cannot be compared at all)
    total = sum(rules.category_minimums.values(), Decimal(0))
    return valid_ceus(rules.required_ceus) is not None or total <= rules.required_ceus


def _sources_ok(rules: Rules) -> bool:
    """Source minimums are CEU amounts adding up to at most the requirement."""
    amounts = [*rules.source_minimums.values(), *rules.source_maximums.values()]
    if not all(valid_ceus(v) is None for v in amounts):
        return False
    total = sum(rules.source_minimums.values(), Decimal(0))
    return valid_ceus(rules.required_ceus) is not None or total <= rules.required_ceus


def _source_bounds_ok(rules: Rules) -> bool:
    """A source's maximum is not below its minimum."""
    return all(
        rules.source_maximums[s] >= minimum
        for s, minimum in rules.source_minimums.items()
        if s in rules.source_maximums and valid_ceus(minimum) is None
        and valid_ceus(rules.source_maximums[s]) is None
    )  # fmt: skip


def rules_errors(rules: Rules, field: str = "") -> list[FieldError]:
    names = rules.categories
    checks = [
        ("cycle_months", 1 <= rules.cycle_months <= 120, "between 1 and 120"),
        (
            "required_ceus",
            valid_ceus(rules.required_ceus) is None,
            "a positive CEU amount, 2 places",
        ),
        ("categories", bool(names) and all(n.strip() for n in names), "at least one, none empty"),
        ("categories", len(set(names)) == len(names), "must be distinct"),
        ("grace_days", 0 <= rules.grace_days <= 366, "between 0 and 366"),
        ("fee_cents", rules.fee_cents >= 0, "must not be negative"),
        (
            "carryover_max_ceus",
            rules.carryover_max_ceus.is_finite() and 0 <= rules.carryover_max_ceus <= 10_000,
            "a number from 0 to 10000",
        ),
        (
            "audit_rate",
            rules.audit_rate.is_finite() and 0 <= rules.audit_rate <= 1,
            "between 0 and 1",
        ),
        ("effective_from", in_range(rules.effective_from), f"between {EARLIEST} and {LATEST}"),
        ("correction_window_days", 0 <= rules.correction_window_days <= 3650, "0 to 3650"),
        (
            "min_presence",
            rules.min_presence.is_finite() and 0 < rules.min_presence <= 1,
            "more than 0, at most 1",
        ),
        ("claim_window_days", 1 <= rules.claim_window_days <= 3650, "1 to 3650"),
        (
            "category_minimums",
            _minimums_ok(rules),
            "positive CEU amounts adding up to at most required_ceus",
        ),
        (
            "category_minimums",
            set(rules.category_minimums) <= set(names),
            "only for categories the rules name",
        ),
        (
            "source_minimums",
            _sources_ok(rules),
            "positive CEU amounts, the minimums adding up to at most required_ceus",
        ),
        ("source_maximums", _source_bounds_ok(rules), "not below the source's minimum"),
    ]
    return [FieldError(field + name, message) for name, ok, message in checks if not ok]


def define_program(existing: Program | None, defined: ProgramDefined) -> list[Event]:
    """The program as defined (its event built from the door's message, or a default)."""
    if existing is not None:
        raise AlreadyExists("program", defined.program)
    if errors := rules_errors(defined.rules):
        raise Invalid(errors)
    return [defined]


def revise_rules(program: Program | None, code: str, rules: Rules, *, today: date) -> list[Event]:
    """A new rule version, effective today or later: rules never change a cycle that has
    already started, and never rewrite the past."""
    if program is None:
        raise NotFound("program", code)
    errors = rules_errors(rules)
    if rules.effective_from < today:
        errors.append(FieldError("effective_from", "must not be in the past"))
    if errors:
        raise Invalid(errors)
    if any(v.effective_from == rules.effective_from for v in program.versions):
        raise AlreadyExists("rule version effective", rules.effective_from)
    return [ProgramRulesRevised(program=code, rules=rules)]


def _unknown(programs: tuple[str, ...], known: Collection[str]) -> list[str]:
    return [p for p in programs if p not in known]


def register_provider(
    existing: Provider | None, programs: Mapping[str, Program], registered: ProviderRegistered
) -> list[Event]:
    codes = registered.programs
    if existing is not None:
        raise AlreadyExists("provider", registered.provider_id)
    if unknown := _unknown(codes, programs):
        raise invalid("programs", f"unknown program(s): {', '.join(unknown)}")
    if not codes:
        raise invalid("programs", "at least one program")
    return [registered]


def _dates_errors(activity: ActivityRegistered) -> list[FieldError]:
    errors: list[FieldError] = []
    if activity.ends_on < activity.starts_on:
        errors.append(FieldError("ends_on", "must not be before starts_on"))
    for name, day in (("starts_on", activity.starts_on), ("ends_on", activity.ends_on)):
        if not in_range(day):
            errors.append(FieldError(name, f"between {EARLIEST} and {LATEST}"))
    return errors


def _programs_errors(
    activity: ActivityRegistered, provider: Provider, programs: Mapping[str, Program]
) -> list[FieldError]:
    if not activity.programs:
        return [FieldError("programs", "at least one program")]
    if unknown := _unknown(activity.programs, programs):
        return [FieldError("programs", f"unknown program(s): {', '.join(unknown)}")]
    if outside := _unknown(activity.programs, provider.programs):
        return [FieldError("programs", f"provider is not approved for {', '.join(outside)}")]
    return []


def _category_errors(
    activity: ActivityRegistered, programs: Mapping[str, Program]
) -> list[FieldError]:
    """The category must be one every program it counts for names (the rules in force on
    the activity's first day), spelled exactly."""
    refusing: dict[tuple[str, ...], list[str]] = {}
    for code in activity.programs:
        allowed = rules_in_force(programs[code].versions, activity.starts_on).categories
        if activity.category not in allowed:
            refusing.setdefault(allowed, []).append(code)
    return [
        FieldError("category", f"must be one of: {', '.join(allowed)} ({', '.join(codes)})")
        for allowed, codes in refusing.items()
    ]


def register_activity(
    provider: Provider | None,
    existing: Activity | None,
    activity: ActivityRegistered,
    *,
    programs: Mapping[str, Program],
    approvals: ProviderApprovals | None = None,
) -> list[Event]:
    """The activity, approved at once for each program its provider's approval (`approvals`)
    is valid for on the activity's first day (ledger/domain/approvals.py)."""
    if provider is None:
        raise NotFound("provider", activity.provider_id)
    if existing is not None:
        raise AlreadyExists("activity", activity.activity_id)
    errors = [FieldError("ceus", why)] if (why := valid_ceus(activity.ceus)) else []
    errors += _dates_errors(activity)
    program_errors = _programs_errors(activity, provider, programs)
    errors += program_errors or _category_errors(activity, programs)
    if errors:
        raise Invalid(errors)
    return [activity, *approve_on_registration(activity, approvals)]


# -- the programs of a fresh ledger -------------------------------------------------------------


_SINCE = date(2000, 1, 1)

DEFAULT_PROGRAMS = (
    ProgramDefined(
        program="CMM",
        name="Certified Medical Manager",
        association="PAHCOM",
        rules=Rules(
            effective_from=_SINCE,
            cycle_months=24,
            required_ceus=Decimal(24),
            categories=("core", "general"),
            grace_days=30,
            fee_cents=7500,
            carryover_max_ceus=Decimal(0),
            audit_rate=Decimal("0.10"),
            correction_window_days=60,
        ),
    ),
    ProgramDefined(
        program="CMOM",
        name="Certified Medical Office Manager",
        association="PMI",
        rules=Rules(
            effective_from=_SINCE,
            cycle_months=12,
            required_ceus=Decimal(12),
            categories=("core", "general"),
            category_minimums={"core": Decimal(9)},
            grace_days=30,
            fee_cents=7500,
            carryover_max_ceus=Decimal(0),
            audit_rate=Decimal("0.10"),
            correction_window_days=60,
        ),
    ),
)
"""Present on every fresh ledger, appended as ordinary events (ledger/commands)."""
