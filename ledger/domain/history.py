"""Which completion counts toward which cycle, and why not.

`history` allocates every completion to the cycle whose counting window contains its
`completed_on` (or says why it counts for nothing) and sums each cycle, so nothing counts
twice for one credential: the windows partition time (ledger/domain/cycles.py), and an
activity counts at most once per cycle (a later completion of it is a `repeat`; a workshop's
credit derived per category counts as one completion).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from ledger.domain.cycles import Cycle, Window, windows_until

if TYPE_CHECKING:
    from collections.abc import Sequence

    from events.catalog import Rules
    from ledger.domain.record import Certification, Completion, Renewal

__all__ = ["ZERO", "Allocation", "CycleFigures", "Reason", "history"]

Reason = Literal[
    "outside_cycle",
    "voided",
    "program_not_covered",
    "before_certification",
    "after_as_of",
    "repeat",
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


def _not_counted(completion: Completion, cert: Certification, as_of: date) -> Reason | None:
    if cert.program not in completion.programs:
        return "program_not_covered"
    if completion.voided:
        return "voided"
    if completion.completed_on > as_of:
        return "after_as_of"
    if completion.completed_on < cert.certified_on:
        return "before_certification"
    return None


def _posting(completion: Completion) -> object:
    """What the repeat rule counts once: a completion, except that a workshop's credit derived
    at its close (CompletionRecorded naming its sessions, one per category) is one completion
    split by category, so its parts are not repeats of each other (SPEC 11)."""
    if completion.sessions:
        return ("workshop", completion.provider_id, completion.activity_id)
    return completion.completion_id


def _allocate(
    completion: Completion,
    cert: Certification,
    found: list[Window],
    as_of: date,
    seen: dict[tuple[str, int], object],
) -> Allocation:
    """Where `completion` counts; `seen` holds the (activity, cycle) pairs already counted,
    each with the posting (`_posting`) that counted there."""
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
    if (reason := _not_counted(completion, cert, as_of)) is not None:
        return msgspec.structs.replace(base, reason=reason)
    window = next(w for w in found if w.counts_from <= completion.completed_on < w.deadline)
    key, posting = (completion.activity_id, window.cycle.number), _posting(completion)
    if seen.setdefault(key, posting) != posting:
        return msgspec.structs.replace(base, reason="repeat")
    late = completion.posted_at.date() >= window.deadline
    return msgspec.structs.replace(base, cycle=window.cycle.number, late=late)


def _figures(
    cert: Certification, window: Window, mine: list[Allocation], carried_in: Decimal
) -> CycleFigures:
    categories: dict[str, Decimal] = {}
    for a in mine:
        categories[a.category] = categories.get(a.category, ZERO) + a.ceus
    renewals = [r for r in cert.renewals if r.cycle == window.cycle.number]
    return CycleFigures(
        cycle=window.cycle,
        counts_from=window.counts_from,
        deadline=window.deadline,
        earned=sum((a.ceus for a in mine), ZERO) + carried_in,
        carried_in=carried_in,
        categories=categories,
        fee_paid_cents=cert.fee_paid_cents(window.cycle.number),
        counted=tuple(a.completion_id for a in mine),
        late=tuple(a.completion_id for a in mine if a.late),
        renewal=renewals[-1] if renewals else None,
    )


def history(
    cert: Certification, completions: Sequence[Completion], versions: Sequence[Rules], as_of: date
) -> tuple[list[CycleFigures], list[Allocation]]:
    """Each cycle up to the one holding `as_of` with its figures, and every allocation.  An
    activity counts once per cycle: the earliest completion of it (by completed_on, then
    posted_at, then id) counts, later ones are explained as `repeat`."""
    found = windows_until(cert, versions, as_of)
    ordered = sorted(completions, key=lambda c: (c.completed_on, c.posted_at, c.completion_id))
    seen: dict[tuple[str, int], object] = {}
    allocations = [_allocate(c, cert, found, as_of, seen) for c in ordered]
    figures: list[CycleFigures] = []
    carried_in = ZERO
    for window in found:
        mine = [a for a in allocations if a.cycle == window.cycle.number]
        figures.append(cycle_figures := _figures(cert, window, mine, carried_in))
        excess = max(cycle_figures.earned - window.cycle.rules.required_ceus, ZERO)
        carried_in = min(excess, window.cycle.rules.carryover_max_ceus)
    return figures, allocations
