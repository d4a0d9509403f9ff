"""Programs (credentials with their rule versions) and providers (with their activities):
the folds of the `program-*` and `provider-*` streams, and the programs every ledger starts with."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec

from events.catalog import (
    ActivityRegistered,
    Event,
    ProgramDefined,
    ProgramRulesRevised,
    ProviderRegistered,
    Rules,
)

__all__ = [
    "DEFAULT_PROGRAMS",
    "Activity",
    "Program",
    "Provider",
    "evolve_activity",
    "evolve_program",
    "evolve_provider",
]


class Program(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    association: str
    versions: tuple[Rules, ...]
    """Sorted by effective_from."""


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
    raise ValueError(f"{type(event).__name__} does not apply to program {program!r}")


def evolve_provider(provider: Provider | None, event: Event) -> Provider:
    match event, provider:
        case ProviderRegistered(provider_id=pid, name=name, programs=programs), None:
            return Provider(provider_id=pid, name=name, programs=programs)
    raise ValueError(f"{type(event).__name__} does not apply to provider {provider!r}")


def evolve_activity(activity: Activity | None, event: Event) -> Activity:
    """An activity is its own stream (`activity-{id}`), so that ids are unique ledger-wide."""
    match event, activity:
        case ActivityRegistered(), None:
            return msgspec.convert(msgspec.structs.asdict(event), Activity)
    raise ValueError(f"{type(event).__name__} does not apply to activity {activity!r}")


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
