"""Self-reports (SPEC 12): a manager reports credit with one file of evidence; an auditor
accepts or rejects it.  The rules are ledger/domain/self_reports.py.

The file goes to the evidence store (the port, ledger/evidence/store.py) before the event is
appended, so that no event ever names a file that is not stored; the event holds its hash,
size, type and name, never the bytes.  The report's fields are checked on the manager's
record first, so that a report the rules refuse stores no file either (a file stored for a
report whose append then fails is harmless: it is kept once by its hash, and the same upload
again stores nothing new).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.catalog import EvidenceFile, SelfReported
from events.codec import decode
from ledger.commands.base import write_enrolled
from ledger.domain import self_reports as rules
from ledger.domain.errors import NotFound

if TYPE_CHECKING:
    from uuid import UUID

    from events.catalog import Event
    from events.store import AppendResult, EventStore
    from ledger.commands.base import Context, Ledger
    from ledger.commands.messages import AcceptSelfReport, RejectSelfReport, ReportSelf
    from ledger.domain.record import ManagerRecord
    from ledger.evidence.store import EvidenceStore

__all__ = ["accept", "find_self_report", "reject", "report"]

_UNCHECKED = EvidenceFile(sha256="0" * 64, size=1, media_type="application/pdf", filename="")
"""Stands in for the file while the fields alone are checked."""


async def find_self_report(store: EventStore, report_id: UUID) -> SelfReported:
    """The report's own event (its id is the report's): whose it is and what it names."""
    recorded = await store.find(report_id)
    event = None if recorded is None else decode(recorded)
    if not isinstance(event, SelfReported):
        raise NotFound("self-report", report_id)
    return event


async def report(
    ledger: Ledger, ctx: Context, evidence: EvidenceStore, manager_id: str, *,
    message: ReportSelf, data: bytes, filename: str,
) -> tuple[SelfReported, AppendResult]:  # fmt: skip
    """Check the fields, store the file (refused unless a PDF, PNG or JPEG of at most 10 MB),
    then record the report."""
    known, report_id, today = await ledger.catalogue.programs(), ledger.new_id(), ledger.today()

    def decide(record: ManagerRecord | None, file: EvidenceFile) -> list[Event]:
        return rules.report(
            record, manager_id, report_id=report_id, title=message.title,
            provider_name=message.provider_name, completed_on=message.completed_on,
            ceus=message.ceus, category=message.category, programs=tuple(message.programs),
            evidence=file, known=known, today=today,
        )  # fmt: skip

    decide((await ledger.managers.current(manager_id))[0], _UNCHECKED)
    stored = await evidence.put(data, filename)
    file = EvidenceFile(
        sha256=stored.sha256, size=stored.size, media_type=stored.media_type, filename=filename
    )
    written = await write_enrolled(ledger, ctx, manager_id, lambda record: decide(record, file))
    [reported] = written.events
    assert isinstance(reported, SelfReported)
    return reported, written.result


async def accept(
    ledger: Ledger, ctx: Context, report_id: UUID, message: AcceptSelfReport
) -> AppendResult:
    reported = await find_self_report(ledger.store, report_id)
    known = await ledger.catalogue.programs()
    written = await write_enrolled(
        ledger,
        ctx,
        reported.manager_id,
        lambda record: rules.accept(
            record, reported.manager_id, report_id, ceus=message.ceus,
            category=message.category, known=known,
        ),
    )  # fmt: skip
    return written.result


async def reject(
    ledger: Ledger, ctx: Context, report_id: UUID, message: RejectSelfReport
) -> AppendResult:
    reported = await find_self_report(ledger.store, report_id)
    written = await write_enrolled(
        ledger,
        ctx,
        reported.manager_id,
        lambda record: rules.reject(record, reported.manager_id, report_id, reason=message.reason),
    )
    return written.result
