"""What an association's program page reads beyond the API's views: the due list with names
and renewal states (lapsed certifications included), the managers' names, a renewal with its
line of the register, and the ledger's own check."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from events.catalog import RenewalFiled
from events.chain import ChainReport, verify
from events.store import EventStore
from ledger.commands.loaders import find_renewal
from ledger.domain.reports import RenewalReport
from ledger.queries.reads import Reads
from ledger.queries.views import DueView
from projections.ceu_queries import RegisterRow

__all__ = [
    "DueLine",
    "due_lines",
    "manager_names",
    "renewal_evidence",
    "renewal_register",
    "verify_ledger",
]


class DueLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line of the association's due list: the API's due view (or, for a lapsed
    certification, the same figures from the status), with the name and the renewal's state."""

    manager_id: str
    name: str
    status: str
    deadline: date
    days_to_deadline: int
    ceus_earned: Decimal
    ceus_required: Decimal
    shortfalls: tuple[Any, ...]
    renewal_state: str | None
    renewal_at: datetime | None


async def renewal_register(
    reads: Reads, code: str, *, state: str | None = None,
    cycle_ends_from: date | None = None, cycle_ends_to: date | None = None,
) -> list[RegisterRow]:  # fmt: skip
    """GET /v1/programs/{code}/renewals."""
    return await reads.register(
        code, state=state, cycle_ends_from=cycle_ends_from, cycle_ends_to=cycle_ends_to
    )


async def renewal_evidence(
    reads: Reads, renewal_id: UUID
) -> tuple[RenewalFiled, RegisterRow | None]:
    """The filing with its frozen evidence, and its line of the register (state, decision)."""
    filed = await find_renewal(reads.store, renewal_id)
    rows = await renewal_register(reads, filed.program)
    return filed, next((r for r in rows if r.renewal_id == renewal_id), None)


async def verify_ledger(store: EventStore) -> ChainReport:
    """GET /v1/ledger/verify."""
    return await verify(store)


async def manager_names(reads: Reads, code: str) -> dict[str, str]:
    """Manager id -> name, of every manager certified in `code`: GET /v1/managers?program=,
    the read that shows an association the managers of its program, page by page."""
    names: dict[str, str] = {}
    after = 0
    while True:
        page = await reads.managers_list(program=code, q=None, status=None, after=after, limit=500)
        names.update((m.manager_id, m.name) for m in page.managers)
        if page.next_after is None:
            return names
        after = page.next_after


async def due_lines(reads: Reads, code: str, within_days: int = 90) -> list[DueLine]:
    """GET /v1/programs/{code}/due, then the program's lapsed certifications (which the due
    read leaves out), each with the manager's name and its renewal's state."""
    lines = []
    for d in await reads.due(code, within_days=within_days):
        record = await reads.record(d.manager_id)
        lines.append(_due_line(d, record.name, await _focus_renewal(reads, d.manager_id, code)))
    seen = {line.manager_id for line in lines}
    lapsed = await reads.managers_list(program=code, q=None, status="lapsed", after=0, limit=500)
    for row in lapsed.managers:
        if row.manager_id in seen:
            continue
        status = await reads.status(row.manager_id)
        cert = next(c for c in status.certifications if c.program == code)
        due = DueView(
            manager_id=row.manager_id, program=code, status=cert.status, cycle=cert.cycle.number,
            deadline=cert.cycle.deadline, grace_ends_on=cert.cycle.grace_ends_on,
            days_to_deadline=cert.days_to_deadline, ceus_earned=cert.ceus_earned,
            ceus_required=cert.ceus_required, renewal_ready=cert.renewal_ready,
            shortfalls=cert.shortfalls,
        )  # fmt: skip
        lines.append(_due_line(due, row.name, cert.renewal))
    return lines


async def _focus_renewal(reads: Reads, manager_id: str, code: str) -> RenewalReport | None:
    status = await reads.status(manager_id)
    return next(c.renewal for c in status.certifications if c.program == code)


def _due_line(d: DueView, name: str, renewal: RenewalReport | None) -> DueLine:
    return DueLine(
        manager_id=d.manager_id, name=name, status=d.status, deadline=d.deadline,
        days_to_deadline=d.days_to_deadline, ceus_earned=d.ceus_earned,
        ceus_required=d.ceus_required, shortfalls=tuple(d.shortfalls),
        renewal_state=None if renewal is None else renewal.state,
        renewal_at=None if renewal is None else (renewal.decided_at or renewal.filed_at),
    )  # fmt: skip
