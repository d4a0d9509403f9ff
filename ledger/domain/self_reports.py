"""Self-reported credit (SPEC 12): a manager reports an activity no provider posts, with a file
of evidence; an auditor of one of its programs accepts it (at most the reported CEUs, in a
category its programs name) or rejects it with a reason.  Accepted, it is a completion of the
manager's record (ledger/domain/record.py, `Completion.self_report_id`); rejected, it never
counts, and the manager may report again (a new report).

Who may accept is the route's and the handler's business (an auditor of one of the report's
programs); these rules check the state: the report exists, is pending, and the figures fit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from events.catalog import (
    Event,
    EvidenceFile,
    SelfReportAccepted,
    SelfReported,
    SelfReportRejected,
)
from ledger.domain.cycles import rules_in_force
from ledger.domain.errors import FieldError, Invalid, NotFound, WrongState
from ledger.domain.managers import require_manager
from ledger.domain.values import in_range, valid_ceus

if TYPE_CHECKING:
    from collections.abc import Mapping
    from uuid import UUID

    from ledger.domain.catalogue import Program
    from ledger.domain.record import ManagerRecord, SelfReport

__all__ = ["accept", "category_errors", "reject", "report", "self_report"]


def category_errors(
    category: str, codes: tuple[str, ...], programs: Mapping[str, Program], on: date
) -> list[FieldError]:
    """The category must be one that every program of the report names (in the rules in force
    on the day it was completed), spelled exactly, as for an activity."""
    refusing: dict[tuple[str, ...], list[str]] = {}
    for code in codes:
        allowed = rules_in_force(programs[code].versions, on).categories
        if category not in allowed:
            refusing.setdefault(allowed, []).append(code)
    return [
        FieldError("category", f"must be one of: {', '.join(allowed)} ({', '.join(c)})")
        for allowed, c in refusing.items()
    ]


def _report_errors(
    record: ManagerRecord, report: SelfReported, programs: Mapping[str, Program], today: date
) -> list[FieldError]:
    errors = [FieldError("ceus", why)] if (why := valid_ceus(report.ceus)) else []
    if report.completed_on > today:
        errors.append(FieldError("completed_on", "must not be in the future"))
    elif not in_range(report.completed_on):
        errors.append(FieldError("completed_on", "must be a date after 1970"))
    if not report.programs:
        return [*errors, FieldError("programs", "at least one program")]
    if len(set(report.programs)) != len(report.programs):
        return [*errors, FieldError("programs", "each program once")]
    if not_held := [p for p in report.programs if p not in record.certifications]:
        return [*errors, FieldError("programs", f"you hold no {', '.join(not_held)} certification")]
    return errors + category_errors(report.category, report.programs, programs, report.completed_on)


def report(
    record: ManagerRecord | None,
    manager_id: str,
    *,
    report_id: UUID,
    title: str,
    provider_name: str,
    completed_on: date,
    ceus: Decimal,
    category: str,
    programs: tuple[str, ...],
    evidence: EvidenceFile,
    known: Mapping[str, Program],
    today: date,
) -> list[Event]:
    """A new report: for programs the manager holds, a category each of them names, a day not
    after `today`, valid CEUs.  The evidence is already stored (its hash is its key)."""
    record = require_manager(record, manager_id)
    reported = SelfReported(
        report_id=report_id, manager_id=manager_id, title=title, provider_name=provider_name,
        completed_on=completed_on, ceus=ceus, category=category, programs=programs,
        evidence=evidence,
    )  # fmt: skip
    if errors := _report_errors(record, reported, known, today):
        raise Invalid(errors)
    return [reported]


def self_report(record: ManagerRecord, report_id: UUID) -> SelfReport:
    """The manager's report, or NotFound."""
    found = record.self_reports.get(report_id)
    if found is None:
        raise NotFound("self-report", report_id)
    return found


def _pending(record: ManagerRecord, report_id: UUID) -> SelfReport:
    found = self_report(record, report_id)
    if found.state != "pending":
        raise WrongState(f"self-report {report_id} is already {found.state}")
    return found


def accept(
    record: ManagerRecord | None,
    manager_id: str,
    report_id: UUID,
    *,
    ceus: Decimal,
    category: str,
    known: Mapping[str, Program],
) -> list[Event]:
    """It counts from now on, for at most the CEUs reported, in a category its programs name."""
    pending = _pending(require_manager(record, manager_id), report_id)
    errors = [FieldError("ceus", why)] if (why := valid_ceus(ceus)) else []
    if not errors and ceus > pending.ceus:
        errors.append(FieldError("ceus", f"at most the {pending.ceus} CEUs reported"))
    errors += category_errors(category, pending.programs, known, pending.completed_on)
    if errors:
        raise Invalid(errors)
    return [
        SelfReportAccepted(
            report_id=report_id, manager_id=manager_id, programs=pending.programs, ceus=ceus,
            category=category,
        )
    ]  # fmt: skip


def reject(
    record: ManagerRecord | None, manager_id: str, report_id: UUID, *, reason: str
) -> list[Event]:
    """It never counts; the reason is shown to the manager."""
    pending = _pending(require_manager(record, manager_id), report_id)
    if not reason.strip():
        raise Invalid([FieldError("reason", "must not be empty")])
    return [
        SelfReportRejected(
            report_id=report_id, manager_id=manager_id, programs=pending.programs, reason=reason
        )
    ]
