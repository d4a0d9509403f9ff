"""Where a certification stands on a given day, and why.

`history` allocates every completion to the cycle whose counting window contains its
`completed_on` (or says why it counts for nothing) and sums each cycle.  `assess` picks the
cycle that matters on `as_of` and derives the status:

* revoked  - an association revoked it (and has not reinstated it);
* active   - the first cycle without an approved renewal has not reached its deadline;
* grace    - past that deadline by fewer than `grace_days`;
* lapsed   - later than that.

A cycle's counting window is [previous window's end, deadline), where the deadline is the
cycle's anniversary end unless an association extended it, so windows partition time from the
certification date on and nothing counts twice for one credential.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from ledger.domain.cycles import Cycle, cycles

if TYPE_CHECKING:
    from collections.abc import Sequence

    from events.catalog import Rules
    from ledger.domain.record import Certification, Completion, Renewal

__all__ = [
    "Allocation",
    "Assessment",
    "CategoryFigure",
    "CycleFigures",
    "Shortfall",
    "Status",
    "assess",
    "history",
    "open_cycle",
    "shortfalls",
]

Status = Literal["active", "grace", "lapsed", "revoked"]
Reason = Literal[
    "outside_cycle", "voided", "program_not_covered", "before_certification", "after_as_of"
]
ZERO = Decimal(0)


class Allocation(msgspec.Struct, frozen=True, kw_only=True):
    completion_id: UUID
    activity_id: str
    activity_title: str
    completed_on: date
    ceus: Decimal
    category: str
    cycle: int | None
    """The cycle it counts toward, if any."""
    counted: bool = False
    """Counted toward the cycle being assessed."""
    reason: Reason | None = None
    late: bool = False
    amended: bool = False


class CategoryFigure(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    earned: Decimal
    required: Decimal
    remaining: Decimal


class CycleFigures(msgspec.Struct, frozen=True, kw_only=True):
    cycle: Cycle
    counts_from: date
    deadline: date
    """The anniversary end, or the extended one."""
    earned: Decimal
    """CEUs counted in the window plus any carried in."""
    carried_in: Decimal
    categories: dict[str, Decimal]
    fee_paid_cents: int
    counted: tuple[UUID, ...]
    late: tuple[UUID, ...]
    renewal: Renewal | None

    @property
    def grace_ends_on(self) -> date:
        return self.deadline + timedelta(days=self.cycle.rules.grace_days)

    @property
    def approved(self) -> bool:
        return self.renewal is not None and self.renewal.state == "approved"


class Shortfall(msgspec.Struct, frozen=True, kw_only=True):
    requirement: Literal["ceus", "category", "fee"]
    missing: Decimal
    """CEUs for `ceus` and `category`, cents for `fee`."""
    category: str | None = None


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
    def days_to_deadline(self) -> int:
        return (self.focus.deadline - self.as_of).days


def _windows(
    cert: Certification, versions: Sequence[Rules], as_of: date
) -> list[tuple[Cycle, date, date]]:
    """(cycle, counts_from, deadline) for cycles 1.. up to the one whose window holds `as_of`."""
    found: list[tuple[Cycle, date, date]] = []
    counts_from = cert.certified_on
    for cycle in cycles(cert.certified_on, versions):
        deadline = max(cert.extensions.get(cycle.number, cycle.ends_on), cycle.ends_on)
        found.append((cycle, counts_from, deadline))
        counts_from = deadline
        if as_of < deadline:
            return found
    raise AssertionError("unreachable: cycles() never ends")


def _allocate(
    completion: Completion,
    program: str,
    cert: Certification,
    windows: list[tuple[Cycle, date, date]],
    as_of: date,
) -> Allocation:
    base = Allocation(
        completion_id=completion.completion_id,
        activity_id=completion.activity_id,
        activity_title=completion.activity_title,
        completed_on=completion.completed_on,
        ceus=completion.ceus,
        category=completion.category,
        cycle=None,
        amended=completion.amended,
    )
    reason: Reason | None = None
    if program not in completion.programs:
        reason = "program_not_covered"
    elif completion.voided:
        reason = "voided"
    elif completion.completed_on > as_of:
        reason = "after_as_of"
    elif completion.completed_on < cert.certified_on:
        reason = "before_certification"
    if reason is not None:
        return msgspec.structs.replace(base, reason=reason)
    cycle, _, deadline = next(w for w in windows if w[1] <= completion.completed_on < w[2])
    return msgspec.structs.replace(
        base, cycle=cycle.number, late=completion.posted_at.date() >= deadline
    )


def history(
    cert: Certification, completions: Sequence[Completion], versions: Sequence[Rules], as_of: date
) -> tuple[list[CycleFigures], list[Allocation]]:
    """Each cycle up to the one holding `as_of` with its figures, and every allocation."""
    windows = _windows(cert, versions, as_of)
    ordered = sorted(completions, key=lambda c: (c.completed_on, c.posted_at, c.completion_id))
    allocations = [_allocate(c, cert.program, cert, windows, as_of) for c in ordered]
    figures: list[CycleFigures] = []
    carried_in = ZERO
    for cycle, counts_from, deadline in windows:
        mine = [a for a in allocations if a.cycle == cycle.number]
        categories: dict[str, Decimal] = {}
        for a in mine:
            categories[a.category] = categories.get(a.category, ZERO) + a.ceus
        earned = sum((a.ceus for a in mine), ZERO) + carried_in
        renewals = [r for r in cert.renewals if r.cycle == cycle.number]
        figures.append(
            CycleFigures(
                cycle=cycle,
                counts_from=counts_from,
                deadline=deadline,
                earned=earned,
                carried_in=carried_in,
                categories=categories,
                fee_paid_cents=sum(f.amount_cents for f in cert.fees if f.cycle == cycle.number),
                counted=tuple(a.completion_id for a in mine),
                late=tuple(a.completion_id for a in mine if a.late),
                renewal=renewals[-1] if renewals else None,
            )
        )
        excess = max(earned - cycle.rules.required_ceus, ZERO)
        carried_in = min(excess, cycle.rules.carryover_max_ceus)
    return figures, allocations


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
    if figures.fee_paid_cents < rules.fee_cents:
        found.append(
            Shortfall(requirement="fee", missing=Decimal(rules.fee_cents - figures.fee_paid_cents))
        )
    return tuple(found)


def open_cycle(cert: Certification, versions: Sequence[Rules]) -> tuple[Cycle, date]:
    """The first cycle without an approved renewal, and its deadline.  Unlike `assess`, this
    needs no date: it changes only when events do, so a read model can keep it."""
    approved = {r.cycle for r in cert.renewals if r.state == "approved"}
    for cycle in cycles(cert.certified_on, versions):
        if cycle.number not in approved:
            return cycle, max(cert.extensions.get(cycle.number, cycle.ends_on), cycle.ends_on)
    raise AssertionError("unreachable: cycles() never ends")


def _status(cert: Certification, focus: CycleFigures, as_of: date) -> Status:
    if cert.revoked:
        return "revoked"
    if focus.approved or as_of < focus.deadline:
        return "active"
    return "grace" if as_of < focus.grace_ends_on else "lapsed"


def assess(
    cert: Certification, completions: Sequence[Completion], versions: Sequence[Rules], as_of: date
) -> Assessment:
    figures, allocations = history(cert, completions, versions, as_of)
    # The cycle that matters: the first one not yet renewed; the current one if all are.
    focus = next((f for f in figures if not f.approved), figures[-1])
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
