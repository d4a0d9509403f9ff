"""Which completion counts toward which cycle, and why not.

`history` allocates every completion to the cycle whose counting window contains its
`completed_on` (or says why it counts for nothing) and sums each cycle, so nothing counts
twice for one credential: the windows partition time (ledger/domain/cycles.py), and an
activity counts at most once per cycle (a later completion of it is a `repeat`; a workshop's
credit derived per category counts as one completion).

Sources of credit (SPEC 12): each completion has a source for the program (`source_of`:
`approved`, `provider` or `self`), and a cycle's rules may cap a source
(`source_maximums`): the credit of that source beyond its maximum, in date order, does not
count (`over_maximum`, or `over_source_maximum` when none of it counts).  Each cycle is judged
by its own rule version, so a cap changes nothing in cycles that started before it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from events.catalog import Source  # at runtime: part of the response schema (explain)
from ledger.domain.approvals import source_of
from ledger.domain.cycles import Cycle, Window, windows_until

if TYPE_CHECKING:
    from collections.abc import Sequence, Set

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
    "over_source_maximum",
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
    source: Source = "provider"
    """Where its credit comes from for this program (ledger/domain/approvals.py)."""
    over_maximum: Decimal = Decimal(0)
    """Of its CEUs, those beyond its source's maximum in the cycle: they do not count."""

    @property
    def counted_ceus(self) -> Decimal:
        """The CEUs that count toward its cycle."""
        return self.ceus - self.over_maximum


class CycleFigures(msgspec.Struct, frozen=True, kw_only=True):
    cycle: Cycle
    counts_from: date
    deadline: date
    """The anniversary end, or the extended one."""
    earned: Decimal
    """CEUs counted in the window plus any carried in."""
    carried_in: Decimal
    categories: dict[str, Decimal]
    sources: dict[str, Decimal]
    """CEUs counted per source (`approved`, `provider`, `self`)."""
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
    approved: Set[str],
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
        source=source_of(completion, approved),
    )
    if (reason := _not_counted(completion, cert, as_of)) is not None:
        return msgspec.structs.replace(base, reason=reason)
    window = next(w for w in found if w.counts_from <= completion.completed_on < w.deadline)
    key, posting = (completion.activity_id, window.cycle.number), _posting(completion)
    if seen.setdefault(key, posting) != posting:
        return msgspec.structs.replace(base, reason="repeat")
    late = completion.posted_at.date() >= window.deadline
    return msgspec.structs.replace(base, cycle=window.cycle.number, late=late)


def _capped(mine: list[Allocation], maximums: dict[Source, Decimal]) -> list[Allocation]:
    """The cycle's allocations with each source's credit beyond its maximum not counted:
    the earliest count first (`mine` is in date order)."""
    used: dict[str, Decimal] = {}
    capped = []
    for a in mine:
        if (maximum := maximums.get(a.source)) is not None:
            counts = min(a.ceus, max(maximum - used.get(a.source, ZERO), ZERO))
            used[a.source] = used.get(a.source, ZERO) + counts
            if counts == ZERO:
                a = msgspec.structs.replace(a, cycle=None, reason="over_source_maximum")
            a = msgspec.structs.replace(a, over_maximum=a.ceus - counts)
        capped.append(a)
    return capped


def _figures(
    cert: Certification, window: Window, mine: list[Allocation], carried_in: Decimal
) -> CycleFigures:
    categories: dict[str, Decimal] = {}
    sources: dict[str, Decimal] = {}
    for a in mine:
        categories[a.category] = categories.get(a.category, ZERO) + a.counted_ceus
        sources[a.source] = sources.get(a.source, ZERO) + a.counted_ceus
    renewals = [r for r in cert.renewals if r.cycle == window.cycle.number]
    return CycleFigures(
        cycle=window.cycle,
        counts_from=window.counts_from,
        deadline=window.deadline,
        earned=sum((a.counted_ceus for a in mine), ZERO) + carried_in,
        carried_in=carried_in,
        categories=categories,
        sources=sources,
        fee_paid_cents=cert.fee_paid_cents(window.cycle.number),
        counted=tuple(a.completion_id for a in mine),
        late=tuple(a.completion_id for a in mine if a.late),
        renewal=renewals[-1] if renewals else None,
    )


def history(
    cert: Certification,
    completions: Sequence[Completion],
    versions: Sequence[Rules],
    as_of: date,
    approved: Set[str] = frozenset(),
) -> tuple[list[CycleFigures], list[Allocation]]:
    """Each cycle up to the one holding `as_of` with its figures, and every allocation.  An
    activity counts once per cycle: the earliest completion of it (by completed_on, then
    posted_at, then id) counts, later ones are explained as `repeat`.  `approved`: the
    activities approved for the program (`Program.approved_activities`)."""
    found = windows_until(cert, versions, as_of)
    ordered = sorted(completions, key=lambda c: (c.completed_on, c.posted_at, c.completion_id))
    seen: dict[tuple[str, int], object] = {}
    allocations = [_allocate(c, cert, found, as_of, seen, approved) for c in ordered]
    for window in found:
        if maximums := window.cycle.rules.source_maximums:
            number = window.cycle.number
            capped = iter(_capped([a for a in allocations if a.cycle == number], maximums))
            allocations = [next(capped) if a.cycle == number else a for a in allocations]
    figures: list[CycleFigures] = []
    carried_in = ZERO
    for window in found:
        mine = [a for a in allocations if a.cycle == window.cycle.number]
        figures.append(cycle_figures := _figures(cert, window, mine, carried_in))
        excess = max(cycle_figures.earned - window.cycle.rules.required_ceus, ZERO)
        carried_in = min(excess, window.cycle.rules.carryover_max_ceus)
    return figures, allocations
