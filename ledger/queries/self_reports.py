"""The reads of self-reports (SPEC 12): a manager's reports, one report with whose it is, a
program's review queue, a report's file, and the evidence behind a renewal's completions.

One manager's reports come from the record (the loader's fold: a manager reads their own
report at once); the review queue, across managers, from the `ceu` read model's
`ceu_self_reports` once it has caught up, as every read across managers does
(ledger/queries/reads.py).  Who sees a report is the scope policy's `completion` rule over its
programs: the manager and admins all, an auditor those naming a program it audits that the
manager holds.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from events.catalog import EvidenceFile, SelfReported
from events.store import AppendResult
from ledger.access.policy import WHOLE, ManagerScope, scope_of
from ledger.commands.loaders import find_renewal
from ledger.commands.self_reports import find_self_report
from ledger.queries.views import AuditView
from projections import ceu_queries

if TYPE_CHECKING:
    from ledger.access.policy import Caller
    from ledger.domain.record import SelfReport
    from ledger.evidence.store import EvidenceStore
    from ledger.queries.reads import Reads

__all__ = [
    "AuditEvidenceView",
    "CountedLine",
    "EvidenceView",
    "RenewalEvidence",
    "audit_evidence",
    "QueueView",
    "SelfReportView",
    "evidence_file",
    "evidence_url",
    "manager_reports",
    "review_queue",
    "renewal_lines",
    "report_categories",
    "seen_report",
]


def evidence_url(report_id: UUID) -> str:
    """Where the API serves a report's file."""
    return f"/v1/self-reports/{report_id}/evidence"


class EvidenceView(msgspec.Struct, frozen=True, kw_only=True):
    sha256: str
    size: int
    media_type: str
    """Sniffed from the bytes when uploaded."""
    filename: str
    url: str

    @classmethod
    def of(cls, report_id: UUID, file: EvidenceFile) -> EvidenceView:
        return cls(**msgspec.structs.asdict(file), url=evidence_url(report_id))


class SelfReportView(msgspec.Struct, frozen=True, kw_only=True):
    report_id: UUID
    manager_id: str
    state: Literal["pending", "accepted", "rejected"]
    title: str
    provider_name: str
    completed_on: date
    ceus: Decimal
    """As reported."""
    category: str
    programs: tuple[str, ...]
    evidence: EvidenceView
    reported_at: datetime
    decided_at: datetime | None = None
    reason: str = ""
    """Why it was rejected."""
    accepted_ceus: Decimal | None = None
    accepted_category: str | None = None
    """What counts (once accepted): at most the CEUs reported."""
    position: int | None = None
    """Where the answer's write landed in the log (after a report or a decision)."""

    @classmethod
    def of(
        cls, manager_id: str, report: SelfReport, result: AppendResult | None = None
    ) -> SelfReportView:
        fields = msgspec.structs.asdict(report)
        del fields["evidence"]
        return cls(
            **fields, manager_id=manager_id,
            evidence=EvidenceView.of(report.report_id, report.evidence),
            position=None if result is None else result.last_position,
        )  # fmt: skip

    @classmethod
    def reported(cls, event: SelfReported, result: AppendResult) -> SelfReportView:
        """A report just recorded (pending)."""
        fields = msgspec.structs.asdict(event)
        del fields["evidence"]
        return cls(
            **fields, state="pending",
            evidence=EvidenceView.of(event.report_id, event.evidence),
            reported_at=result.recorded_at, position=result.last_position,
        )  # fmt: skip


class QueueView(msgspec.Struct, frozen=True, kw_only=True):
    """A program's review queue, oldest first; `names` of the reports' managers."""

    program: str
    state: str | None
    self_reports: list[SelfReportView]
    names: dict[str, str]


async def manager_reports(
    reads: Reads, manager_id: str, *, scope: ManagerScope = WHOLE
) -> list[SelfReportView]:
    """The manager's reports that `scope` sees, newest first."""
    record = await reads.record(manager_id)
    return [
        SelfReportView.of(manager_id, r)
        for r in reversed(record.self_reports.values())  # in the order reported
        if scope.completion(r.programs)
    ]


async def seen_report(
    reads: Reads, caller: Caller, report_id: UUID
) -> tuple[SelfReported, SelfReportView] | None:
    """The report (its event and its view now), or None when `caller` may not see it; a
    report that does not exist is NotFound."""
    reported = await find_self_report(reads.store, report_id)
    record = await reads.record(reported.manager_id)
    scope = scope_of(caller, reported.manager_id, record.certifications)
    if not scope.completion(reported.programs):
        return None
    return reported, SelfReportView.of(reported.manager_id, record.self_reports[report_id])


async def report_categories(reads: Reads, held: tuple[str, ...]) -> list[str]:
    """The categories a report for the programs `held` may name (the form's choices)."""
    programs = await reads.catalogue.programs()
    found = {c for code in held if code in programs for c in programs[code].versions[-1].categories}
    return sorted(found)


async def evidence_file(evidence: EvidenceStore, view: SelfReportView) -> bytes:
    return await evidence.get(view.evidence.sha256)


async def review_queue(reads: Reads, code: str, *, state: str | None) -> QueueView:
    """GET /v1/programs/{code}/self-reports: the reports naming `code`."""
    await reads.catalogue.program(code)
    async with reads.pool.acquire() as conn:
        await reads.caught_up(conn)
        rows = await ceu_queries.self_reports(conn, code, state=state)
    return QueueView(
        program=code,
        state=state,
        self_reports=[SelfReportView.of(r.manager_id, r.report) for r in rows],
        names={r.manager_id: r.name for r in rows},
    )


# -- evidence in audits -------------------------------------------------------------------------


class CountedLine(msgspec.Struct, frozen=True, kw_only=True):
    """One completion a renewal counted (its frozen CEUs and category), what it was, and for
    a self-report, its report and file."""

    completion_id: UUID
    ceus: Decimal
    category: str
    activity_title: str
    provider_id: str
    """"" for a self-report: no provider posted it (its `provider_name` says who gave it)."""
    completed_on: date | None
    self_report_id: UUID | None = None
    provider_name: str | None = None
    evidence: EvidenceView | None = None


class RenewalEvidence(msgspec.Struct, frozen=True, kw_only=True):
    renewal_id: UUID
    manager_id: str
    cycle: int
    completions: tuple[CountedLine, ...]


class AuditEvidenceView(AuditView, frozen=True, kw_only=True):
    """GET /v1/audits/{id}: the draw, its findings, and each selected renewal's counted
    completions with the evidence of those a manager reported (SPEC 12)."""

    renewals: tuple[RenewalEvidence, ...] = ()


async def renewal_lines(reads: Reads, renewal_id: UUID) -> RenewalEvidence:
    """The completions a renewal froze, each as the manager's record holds it now."""
    filed = await find_renewal(reads.store, renewal_id)
    record = await reads.record(filed.manager_id)
    lines = []
    for counted in filed.completions:
        completion = record.completions.get(counted.completion_id)
        report = record.self_reports.get(counted.completion_id)
        lines.append(
            CountedLine(
                completion_id=counted.completion_id, ceus=counted.ceus, category=counted.category,
                activity_title=completion.activity_title if completion else "",
                provider_id=completion.provider_id if completion else "",
                completed_on=completion.completed_on if completion else None,
                self_report_id=None if report is None else report.report_id,
                provider_name=None if report is None else report.provider_name,
                evidence=None if report is None else EvidenceView.of(
                    report.report_id, report.evidence
                ),
            )
        )  # fmt: skip
    return RenewalEvidence(
        renewal_id=renewal_id, manager_id=filed.manager_id, cycle=filed.cycle,
        completions=tuple(lines),
    )  # fmt: skip


async def audit_evidence(reads: Reads, audit: AuditView) -> AuditEvidenceView:
    renewals = tuple([await renewal_lines(reads, rid) for rid in audit.selected])
    return AuditEvidenceView(**msgspec.structs.asdict(audit), renewals=renewals)
