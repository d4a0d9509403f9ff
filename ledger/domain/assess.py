"""Where a certification stands on a given day, and why.

`history` (ledger/domain/history.py) allocates every completion to a cycle, or says why it
counts for nothing, and sums each cycle.  `assess` takes the cycle being renewed on `as_of`
(`renewing`, ledger/domain/cycles.py) and derives the status:

* revoked  - an association revoked it (and has not reinstated it);
* active   - the first cycle without an approved renewal has not reached its deadline;
* grace    - past that deadline by fewer than `grace_days`;
* lapsed   - later than that.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import msgspec

from events.catalog import Source  # at runtime: part of the response schema
from ledger.domain.cycles import renewing
from ledger.domain.history import ZERO, Allocation, CycleFigures, history

if TYPE_CHECKING:
    from collections.abc import Sequence, Set

    from events.catalog import Rules
    from ledger.domain.record import Certification, Completion

__all__ = [
    "Allocation",
    "Assessment",
    "CategoryFigure",
    "CycleFigures",
    "Shortfall",
    "SourceFigure",
    "Status",
    "assess",
    "history",
    "shortfalls",
]

Status = Literal["active", "grace", "lapsed", "revoked"]


class CategoryFigure(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    earned: Decimal
    required: Decimal
    remaining: Decimal


class SourceFigure(msgspec.Struct, frozen=True, kw_only=True):
    """The CEUs counted from one source of credit, and the cycle's rules about it."""

    source: Source
    counted: Decimal
    minimum: Decimal | None = None
    maximum: Decimal | None = None


class Shortfall(msgspec.Struct, frozen=True, kw_only=True):
    requirement: Literal["ceus", "category", "fee", "source"]
    missing: Decimal
    """CEUs for `ceus`, `category` and `source`, cents for `fee`."""
    category: str | None = None
    source: Source | None = None
    """For `source`: the source whose minimum is not met (SPEC 12)."""
    required: Decimal | None = None
    """For `source`: its minimum CEUs."""
    counted: Decimal | None = None
    """For `source`: the CEUs of it counted so far."""

    @property
    def words(self) -> str:
        """What is missing, said plainly ("12 approved CEUs needed, 8 counted")."""
        if self.requirement == "source":
            return f"{self.required} {self.source} CEUs needed, {self.counted} counted"
        if self.requirement == "fee":
            return f"{self.missing} cents short"
        return f"{self.missing} CEUs short"


class Assessment(msgspec.Struct, frozen=True, kw_only=True):
    program: str
    status: Status
    certified_on: date
    as_of: date
    focus: CycleFigures
    shortfalls: tuple[Shortfall, ...]
    renewal_ready: bool
    allocations: tuple[Allocation, ...]

    @property
    def ceus_remaining(self) -> Decimal:
        return max(self.focus.cycle.rules.required_ceus - self.focus.earned, ZERO)

    @property
    def categories(self) -> tuple[CategoryFigure, ...]:
        minimums = self.focus.cycle.rules.category_minimums
        names = sorted(minimums.keys() | self.focus.categories.keys())
        return tuple(
            CategoryFigure(
                category=name,
                earned=self.focus.categories.get(name, ZERO),
                required=minimums.get(name, ZERO),
                remaining=max(
                    minimums.get(name, ZERO) - self.focus.categories.get(name, ZERO), ZERO
                ),
            )
            for name in names
        )

    @property
    def sources(self) -> tuple[SourceFigure, ...]:
        """Every source counted or named by the cycle's rules, in a fixed order."""
        rules, counted = self.focus.cycle.rules, self.focus.sources
        named = counted.keys() | rules.source_minimums.keys() | rules.source_maximums.keys()
        return tuple(
            SourceFigure(
                source=source,
                counted=counted.get(source, ZERO),
                minimum=rules.source_minimums.get(source),
                maximum=rules.source_maximums.get(source),
            )
            for source in ("approved", "provider", "self")
            if source in named
        )

    @property
    def days_to_deadline(self) -> int:
        return (self.focus.deadline - self.as_of).days


def shortfalls(figures: CycleFigures) -> tuple[Shortfall, ...]:
    rules = figures.cycle.rules
    found: list[Shortfall] = []
    if figures.earned < rules.required_ceus:
        found.append(Shortfall(requirement="ceus", missing=rules.required_ceus - figures.earned))
    for category, minimum in sorted(rules.category_minimums.items()):
        earned = figures.categories.get(category, ZERO)
        if earned < minimum:
            found.append(
                Shortfall(requirement="category", category=category, missing=minimum - earned)
            )
    for source, minimum in sorted(rules.source_minimums.items()):
        counted = figures.sources.get(source, ZERO)
        if counted < minimum:
            found.append(
                Shortfall(
                    requirement="source", source=source, missing=minimum - counted,
                    required=minimum, counted=counted,
                )
            )  # fmt: skip
    if figures.fee_paid_cents < rules.fee_cents:
        found.append(
            Shortfall(requirement="fee", missing=Decimal(rules.fee_cents - figures.fee_paid_cents))
        )
    return tuple(found)


def _status(cert: Certification, focus: CycleFigures, as_of: date) -> Status:
    if cert.revoked:
        return "revoked"
    if focus.approved or as_of < focus.deadline:
        return "active"
    return "grace" if as_of < focus.grace_ends_on else "lapsed"


def assess(
    cert: Certification,
    completions: Sequence[Completion],
    versions: Sequence[Rules],
    as_of: date,
    approved: Set[str] = frozenset(),
) -> Assessment:
    """`approved`: the activities approved for the program (`Program.approved_activities`)."""
    figures, allocations = history(cert, completions, versions, as_of, approved)
    number = renewing(cert, versions, as_of).cycle.number
    focus = next(f for f in figures if f.cycle.number == number)
    status = _status(cert, focus, as_of)
    missing = shortfalls(focus)
    open_renewal = focus.renewal is not None and focus.renewal.state in ("filed", "approved")
    return Assessment(
        program=cert.program,
        status=status,
        certified_on=cert.certified_on,
        as_of=as_of,
        focus=focus,
        shortfalls=missing,
        renewal_ready=not missing and status in ("active", "grace") and not open_renewal,
        allocations=tuple(
            a
            if a.cycle is None
            else msgspec.structs.replace(
                a,
                counted=a.cycle == focus.cycle.number,
                reason=None if a.cycle == focus.cycle.number else "outside_cycle",
            )
            for a in allocations
        ),
    )
