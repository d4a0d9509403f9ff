"""What managers and associations read: a transcript and a renewal-cycle history.  Pure
functions of a record, the program's rule versions and a date, like `assess`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from events.catalog import CountedCompletion, Source  # at runtime: the response schema
from ledger.domain.history import Allocation, history
from ledger.domain.record import Change  # at runtime: part of the response schema
from ledger.domain.workshops.presence import SessionReason  # at runtime: likewise

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ledger.domain.catalogue import Program
    from ledger.domain.record import Completion, ManagerRecord, Renewal

__all__ = [
    "CycleReport",
    "FindingReport",
    "RenewalReport",
    "TranscriptLine",
    "cycle_reports",
    "renewal_report",
    "transcript",
]

LineState = Literal["counted", "amended", "voided", "not_counted"]


class TranscriptLine(msgspec.Struct, frozen=True, kw_only=True):
    completion_id: UUID
    provider_id: str
    external_id: str
    activity_id: str
    activity_title: str
    category: str
    programs: tuple[str, ...]
    completed_on: date
    ceus: Decimal
    posted_at: datetime
    state: LineState
    """voided, else amended, else counted (toward some cycle of the program), else not_counted."""
    counted: bool
    amended: bool
    voided: bool
    late: bool
    cycle: int | None
    reason: str | None
    history: tuple[Change, ...]
    sessions: tuple[SessionReason, ...] = ()
    """For a workshop's derived credit: every session of its agenda, counted or why not."""
    source: Source | None = None
    """Where its credit comes from (approved, provider or self): for the program asked for,
    or the one source of every program judged, if they agree."""
    sources: dict[str, Source] = {}
    """Its source for each program judged."""
    over_maximum: Decimal = Decimal(0)
    """CEUs beyond their source's maximum in the cycle, not counted."""


def transcript(
    record: ManagerRecord,
    programs: Mapping[str, Program],
    as_of: date,
    *,
    program: str | None = None,
    sessions: Mapping[str, tuple[SessionReason, ...]] | None = None,
) -> list[TranscriptLine]:
    """Every completion, in date order, with its state and source for `program` (or for every
    program the manager holds, when None); a workshop's derived credit with `sessions` of its
    activity (by activity id: the manager's sessions, counted or why not)."""
    allocations = _allocations(record, programs, as_of, program)
    ordered = sorted(
        record.completions.values(), key=lambda c: (c.completed_on, c.posted_at, c.completion_id)
    )
    told = sessions or {}
    return [
        _line(
            c,
            allocations.get(c.completion_id, []),
            told.get(c.activity_id, ()) if c.sessions else (),
        )
        for c in ordered
    ]


def _allocations(
    record: ManagerRecord, programs: Mapping[str, Program], as_of: date, program: str | None
) -> dict[UUID, list[tuple[str, Allocation]]]:
    """Each completion's allocations, one per certification judged (with its program)."""
    found: dict[UUID, list[tuple[str, Allocation]]] = {}
    for code, cert in record.certifications.items():
        if program in (None, code):
            completions = list(record.completions.values())
            p = programs[code]
            judged = history(cert, completions, p.versions, as_of, p.approved_activities)[1]
            for allocation in judged:
                found.setdefault(allocation.completion_id, []).append((code, allocation))
    return found


def _state(c: Completion, counted: bool) -> LineState:
    if c.voided:
        return "voided"
    if c.amended:
        return "amended"
    return "counted" if counted else "not_counted"


def _line(
    c: Completion, judged: list[tuple[str, Allocation]], sessions: tuple[SessionReason, ...]
) -> TranscriptLine:
    sources: dict[str, Source] = {code: a.source for code, a in judged}
    mine = [a for _, a in judged]
    counting = [a for a in mine if a.cycle is not None]
    reasons = sorted(a.reason for a in mine if a.cycle is None and a.reason)
    return TranscriptLine(
        completion_id=c.completion_id,
        provider_id=c.provider_id,
        external_id=c.external_id,
        activity_id=c.activity_id,
        activity_title=c.activity_title,
        category=c.category,
        programs=c.programs,
        completed_on=c.completed_on,
        ceus=c.ceus,
        posted_at=c.posted_at,
        state=_state(c, bool(counting)),
        counted=bool(counting),
        amended=c.amended,
        voided=c.voided,
        late=any(a.late for a in counting),
        cycle=counting[0].cycle if len(counting) == 1 else None,
        reason=None if counting or not reasons else reasons[0],
        history=c.history,
        sessions=sessions,
        source=next(iter(set(sources.values()))) if len(set(sources.values())) == 1 else None,
        sources=sources,
        over_maximum=max((a.over_maximum for a in mine), default=Decimal(0)),
    )


class FindingReport(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    outcome: Literal["passed", "failed"]
    note: str
    recorded_at: datetime


class RenewalReport(msgspec.Struct, frozen=True, kw_only=True):
    renewal_id: UUID
    state: Literal["filed", "approved", "denied"]
    filed_at: datetime
    decided_at: datetime | None
    outcome: Literal["approved", "denied"] | None
    reason: str
    ceus: Decimal
    completions: tuple[UUID, ...]
    counted: tuple[CountedCompletion, ...] = ()
    """The frozen evidence: each completion counted, with its CEUs, category and source."""


class CycleReport(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    starts_on: date
    ends_on: date
    deadline: date
    grace_ends_on: date
    rules_effective_from: date
    """Which rule version judges this cycle (the one in force when it started)."""
    ceus_earned: Decimal
    ceus_required: Decimal
    carried_in: Decimal
    categories: dict[str, Decimal]
    sources: dict[str, Decimal] = {}
    """CEUs counted per source (approved, provider, self)."""
    fee_paid: bool
    """The cycle's fee is paid in full."""
    fee_paid_cents: int
    fee_cents: int
    renewal: RenewalReport | None
    renewals: tuple[RenewalReport, ...]
    """Every filing for the cycle, denied ones included; `renewal` is the latest."""
    late_completions: tuple[UUID, ...]
    audit: tuple[FindingReport, ...]


def renewal_report(r: Renewal) -> RenewalReport:
    return RenewalReport(
        renewal_id=r.renewal_id,
        state=r.state,
        filed_at=r.filed_at,
        decided_at=r.decided_at,
        outcome=None if r.state == "filed" else r.state,
        reason=r.reason,
        ceus=r.ceus,
        completions=tuple(c.completion_id for c in r.completions),
        counted=r.completions,
    )


def cycle_reports(record: ManagerRecord, program: Program, as_of: date) -> list[CycleReport]:
    """The renewal-cycle history of one certification, up to the cycle holding `as_of`."""
    cert = record.certifications[program.code]
    completions = list(record.completions.values())
    figures, _ = history(cert, completions, program.versions, as_of, program.approved_activities)
    reports = []
    for f in figures:
        filings = tuple(renewal_report(r) for r in cert.renewals if r.cycle == f.cycle.number)
        reports.append(
            CycleReport(
                number=f.cycle.number,
                starts_on=f.cycle.starts_on,
                ends_on=f.cycle.ends_on,
                deadline=f.deadline,
                grace_ends_on=f.grace_ends_on,
                rules_effective_from=f.cycle.rules.effective_from,
                ceus_earned=f.earned,
                ceus_required=f.cycle.rules.required_ceus,
                carried_in=f.carried_in,
                categories=f.categories,
                sources=f.sources,
                fee_paid=f.fee_paid_cents >= f.cycle.rules.fee_cents,
                fee_paid_cents=f.fee_paid_cents,
                fee_cents=f.cycle.rules.fee_cents,
                renewal=filings[-1] if filings else None,
                renewals=filings,
                late_completions=f.late,
                audit=tuple(
                    FindingReport(
                        audit_id=x.audit_id,
                        outcome=x.outcome,
                        note=x.note,
                        recorded_at=x.recorded_at,
                    )
                    for r in cert.renewals
                    if r.cycle == f.cycle.number
                    for x in r.findings
                ),
            )
        )
    return reports
