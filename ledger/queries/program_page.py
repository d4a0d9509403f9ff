"""The program page's reads, fast at a million events (SPEC 9, 10): a page of the renewal
register and a page of the due list, each with its totals counted by the database, the
managers' names and records looked up for the shown rows only (from the read models, not by
folding streams), and the chain's verification from its checkpoint (never a walk of the log).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from events.connections import Conn
from ledger.domain.assess import assess
from ledger.domain.reports import renewal_report
from ledger.queries.views import DueView
from projections.ceu import load_records
from projections.ceu_queries import RegisterRow
from projections.verification import VerificationReport, checkpoint_report

if TYPE_CHECKING:
    from ledger.domain.catalogue import Program
    from ledger.domain.record import ManagerRecord
    from ledger.queries.reads import Reads

__all__ = [
    "PAGE_SIZE",
    "PAGE_TAIL",
    "DuePage",
    "DueRow",
    "RegisterPage",
    "due_page",
    "register_page",
    "verification",
]

PAGE_SIZE = 50
"""Rows of the register, and of the due list, on one page."""
PAGE_TAIL = 2_000
"""Events past the verification checkpoint a page view hashes (a few milliseconds)."""


class RegisterPage(msgspec.Struct, frozen=True, kw_only=True):
    rows: list[RegisterRow]
    names: dict[str, str]
    """Manager id -> name, of the shown rows' managers."""
    counts: dict[str, int]
    """Renewals of the program by state (filters aside)."""
    total: int
    matching: int
    """Renewals the filters match (every page of them)."""
    page: int
    pages: int


class DueRow(msgspec.Struct, frozen=True, kw_only=True):
    """A line of the association's due list: the due view's figures (a lapsed
    certification's too), with the manager's name and the focus renewal's state."""

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


class DuePage(msgspec.Struct, frozen=True, kw_only=True):
    lines: list[DueRow]
    due: int
    """Certifications due within the window (GET /v1/programs/{code}/due's count)."""
    lapsed: int
    page: int
    pages: int


def _pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


_REGISTER_WHERE = """
WHERE program = $1
  AND ($2::text IS NULL OR state = $2)
  AND ($3::date IS NULL OR cycle_ends_on >= $3)
  AND ($4::date IS NULL OR cycle_ends_on <= $4)
"""

_REGISTER_PAGE = f"""
SELECT renewal_id, program, manager_id, cycle, cycle_starts_on, cycle_ends_on, ceus, completions,
       fee_paid_cents, state, filed_at, decided_at, reason, audit_outcome,
       approved_ceus, provider_ceus, self_ceus
FROM ceu_renewals {_REGISTER_WHERE}
ORDER BY cycle_ends_on, filed_at, renewal_id
LIMIT $5 OFFSET $6
"""

_REGISTER_MATCHING = f"SELECT count(*) FROM ceu_renewals {_REGISTER_WHERE}"

_REGISTER_COUNTS = "SELECT state, count(*) FROM ceu_renewals WHERE program = $1 GROUP BY state"

_NAMES = "SELECT manager_id, name FROM ceu_manager_index WHERE manager_id = ANY($1::text[])"


async def register_page(
    reads: Reads, code: str, *, page: int = 1, state: str | None = None,
    cycle_ends_from: date | None = None, cycle_ends_to: date | None = None,
) -> RegisterPage:  # fmt: skip
    """One page of GET /v1/programs/{code}/renewals (the same rows in the same order)."""
    await reads.catalogue.program(code)
    filters = (code, state, cycle_ends_from, cycle_ends_to)
    async with reads.pool.acquire() as conn:
        await reads.caught_up(conn)
        matching = await conn.fetchval(_REGISTER_MATCHING, *filters)
        page = min(max(page, 1), _pages(matching))
        rows = await conn.fetch(_REGISTER_PAGE, *filters, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        counts = dict.fromkeys(("filed", "approved", "denied"), 0)
        counts.update({r[0]: r[1] for r in await conn.fetch(_REGISTER_COUNTS, code)})
        shown = [RegisterRow(**dict(row)) for row in rows]
        names = await _names(conn, sorted({r.manager_id for r in shown}))
    return RegisterPage(
        rows=shown, names=names, counts=counts, total=sum(counts.values()), matching=matching,
        page=page, pages=_pages(matching),
    )  # fmt: skip


async def _names(conn: Conn, ids: list[str]) -> dict[str, str]:
    return {row[0]: row[1] for row in await conn.fetch(_NAMES, ids)} if ids else {}


# The due list and the lapsed certifications, in one order: due (deadline within the window,
# grace not over) by deadline, then lapsed.  The same rule as ceu_queries.due_certifications
# and the `lapsed` status of its managers read (a certification lapses when its grace ends).
_DUE_WHERE = "WHERE program = $1 AND NOT revoked AND deadline <= $2::date + $3::int"

_DUE_COUNTS = f"""
SELECT count(*) FILTER (WHERE grace_ends_on > $2), count(*) FILTER (WHERE grace_ends_on <= $2)
FROM ceu_certifications {_DUE_WHERE}
"""

_DUE_PAGE = f"""
SELECT manager_id FROM ceu_certifications {_DUE_WHERE}
ORDER BY grace_ends_on <= $2, deadline, manager_id
LIMIT $4 OFFSET $5
"""


async def due_page(reads: Reads, code: str, *, page: int = 1, within_days: int = 90) -> DuePage:
    """One page of the due list (GET /v1/programs/{code}/due) followed by the program's
    lapsed certifications, each assessed from the manager's record as the read model holds
    it (the shown rows' only)."""
    program, today = await reads.catalogue.program(code), reads.today()
    async with reads.pool.acquire() as conn:
        await reads.caught_up(conn)
        counted = await conn.fetchrow(_DUE_COUNTS, code, today, within_days)
        assert counted is not None, "an aggregate without GROUP BY returns one row"
        due, lapsed = counted
        page = min(max(page, 1), _pages(due + lapsed))
        ids = [
            row[0]
            for row in await conn.fetch(
                _DUE_PAGE, code, today, within_days, PAGE_SIZE, (page - 1) * PAGE_SIZE
            )
        ]
        records = await load_records(conn, ids)
    lines = [_line(program, records[m], m, today) for m in ids if m in records]
    return DuePage(lines=lines, due=due, lapsed=lapsed, page=page, pages=_pages(due + lapsed))


def _line(program: Program, record: ManagerRecord, manager_id: str, today: date) -> DueRow:
    a = assess(
        record.certifications[program.code],
        list(record.completions.values()),
        program.versions,
        today,
        program.approved_activities,
    )
    d = DueView.of(manager_id, a)
    renewal = None if a.focus.renewal is None else renewal_report(a.focus.renewal)
    return DueRow(
        manager_id=manager_id, name=record.name, status=d.status, deadline=d.deadline,
        days_to_deadline=d.days_to_deadline, ceus_earned=d.ceus_earned,
        ceus_required=d.ceus_required, shortfalls=tuple(d.shortfalls),
        renewal_state=None if renewal is None else renewal.state,
        renewal_at=None if renewal is None else (renewal.decided_at or renewal.filed_at),
    )  # fmt: skip


async def verification(reads: Reads) -> VerificationReport:
    """The chain's check as the verification projection's checkpoint has it, and the few
    events past it: never a walk of the whole log on a page view."""
    async with reads.pool.acquire() as conn:
        return await checkpoint_report(conn, tail_limit=PAGE_TAIL)
