"""Reads of the `claims` read model: claims by manager, provider or program, and the providers'
timeliness.  "Overdue" is a claim still open on or after its `overdue_on`, as of the `today`
the caller gives."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from events.timeouts import WORKER_STATEMENT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Sequence

    import asyncpg

    from events.connections import Conn
    from ledger.domain.notices import AssociationNotice

__all__ = [
    "ClaimRow",
    "ClaimCounts",
    "claim_counts",
    "claims_of_manager",
    "claims_of_provider",
    "days_histograms",
    "enqueue_association",
    "median_days",
    "overdue_of_program",
    "overdue_unnoticed",
]

_TIMEOUT = WORKER_STATEMENT_TIMEOUT
ClaimState = Literal["open", "fulfilled", "disputed"]


class ClaimRow(msgspec.Struct, frozen=True, kw_only=True):
    """A claim as GET /v1/managers/{id}/claims and /v1/providers/{id}/claims answer it."""

    claim_id: UUID
    manager_id: str
    activity_id: str
    provider_id: str
    programs: list[str]
    completed_on: date
    note: str
    filed_at: datetime
    state: ClaimState
    overdue_on: date
    """The day it is overdue if still open."""
    overdue: bool
    """Open on or after `overdue_on`, as of today."""
    decided_at: datetime | None
    completion_id: UUID | None
    """The completion that fulfilled it."""
    reason: str
    """Why the provider disputed it."""
    activity_title: str = ""
    association_told_on: date | None = None
    """On a program's list: the day its association's notice was due (None: not yet)."""


_COLUMNS = """
c.claim_id, c.manager_id, c.activity_id, c.provider_id, c.programs, c.completed_on, c.note,
c.filed_at, c.state, c.overdue_on, (c.state = 'open' AND c.overdue_on <= $1::date) AS overdue,
c.decided_at, c.completion_id, c.reason, coalesce(a.title, c.activity_id) AS activity_title
"""
_FROM = "FROM claims c LEFT JOIN claim_activities a ON a.activity_id = c.activity_id"


def _rows(rows: Sequence[asyncpg.Record]) -> list[ClaimRow]:
    return [ClaimRow(**dict(row)) for row in rows]


async def claims_of_manager(conn: Conn, manager_id: str, today: date) -> list[ClaimRow]:
    """Every claim of the manager, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE c.manager_id = $2 ORDER BY c.position",
        today,
        manager_id,
        timeout=_TIMEOUT,
    )
    return _rows(rows)


async def claims_of_provider(
    conn: Conn, provider_id: str, today: date, *, state: str | None = "open", overdue: bool = False
) -> list[ClaimRow]:
    """The provider's claims in `state` (None: all), only the overdue ones if `overdue`,
    oldest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE c.provider_id = $2"
        " AND ($3::text IS NULL OR c.state = $3)"
        " AND (NOT $4 OR (c.state = 'open' AND c.overdue_on <= $1::date))"
        " ORDER BY c.position",
        today,
        provider_id,
        state,
        overdue,
        timeout=_TIMEOUT,
    )
    return _rows(rows)


async def overdue_of_program(conn: Conn, code: str, today: date) -> list[ClaimRow]:
    """The overdue claims on activities counting for the program, of managers holding it,
    oldest overdue first, with the day the association's notice of each was due."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, n.due_on AS association_told_on {_FROM}"
        " LEFT JOIN association_notices n"
        "   ON n.claim_id = c.claim_id AND n.program = $2 AND n.kind = 'claim_overdue'"
        " WHERE c.programs @> ARRAY[$2::text] AND c.state = 'open' AND c.overdue_on <= $1::date"
        # Only managers holding the program: an association sees nothing of the others.
        " AND EXISTS (SELECT 1 FROM ceu_certifications h"
        "   WHERE h.manager_id = c.manager_id AND h.program = $2)"
        " ORDER BY c.overdue_on, c.position",
        today,
        code,
        timeout=_TIMEOUT,
    )
    return _rows(rows)


class ClaimCounts(msgspec.Struct, frozen=True, kw_only=True):
    open: int = 0
    overdue: int = 0
    """Of the open ones."""
    fulfilled: int = 0
    disputed: int = 0


async def claim_counts(conn: Conn, code: str, today: date) -> dict[str, ClaimCounts]:
    """Per provider, its claims on activities counting for the program, by state."""
    rows = await conn.fetch(
        "SELECT provider_id,"
        " count(*) FILTER (WHERE state = 'open') AS open,"
        " count(*) FILTER (WHERE state = 'open' AND overdue_on <= $2::date) AS overdue,"
        " count(*) FILTER (WHERE state = 'fulfilled') AS fulfilled,"
        " count(*) FILTER (WHERE state = 'disputed') AS disputed"
        " FROM claims WHERE programs @> ARRAY[$1::text] GROUP BY provider_id",
        code,
        today,
        timeout=_TIMEOUT,
    )
    return {row[0]: ClaimCounts(**{k: v for k, v in dict(row).items() if k != "provider_id"}) for row in rows}  # fmt: skip  # noqa: E501


async def days_histograms(conn: Conn, code: str) -> dict[str, list[tuple[int, int]]]:
    """Per provider, (days from completed_on to posting, postings) for the program, by days."""
    rows = await conn.fetch(
        "SELECT provider_id, days, postings FROM provider_timeliness WHERE program = $1"
        " ORDER BY provider_id, days",
        code,
        timeout=_TIMEOUT,
    )
    found: dict[str, list[tuple[int, int]]] = {}
    for provider_id, days, postings in rows:
        found.setdefault(provider_id, []).append((days, postings))
    return found


def median_days(histogram: Sequence[tuple[int, int]]) -> float | None:
    """The median of the days a histogram counts (the mean of the two middle ones for an
    even count); None for no posting."""
    total = sum(n for _, n in histogram)
    if total == 0:
        return None
    middle = ((total - 1) // 2, total // 2)  # 0-based ranks of the middle one or two
    found: list[int] = []
    seen = 0
    for days, n in histogram:
        found += [days for rank in middle if seen <= rank < seen + n]
        seen += n
    return sum(found) / 2


async def overdue_unnoticed(
    conn: Conn, today: date, *, after: UUID | None, limit: int
) -> list[tuple[UUID, str, str, list[str], date, list[str]]]:
    """Open claims overdue by `today` whose manager has no notice of it yet, by claim id from
    `after`: (claim, manager, activity, programs, overdue_on, the programs the manager holds
    as the `ceu` read model has them)."""
    rows = await conn.fetch(
        "SELECT c.claim_id, c.manager_id, c.activity_id, c.programs, c.overdue_on,"
        " ARRAY(SELECT h.program FROM ceu_certifications h WHERE h.manager_id = c.manager_id)"
        " FROM claims c"
        " WHERE c.state = 'open' AND c.overdue_on <= $1::date"
        " AND ($2::uuid IS NULL OR c.claim_id > $2)"
        " AND NOT EXISTS (SELECT 1 FROM notice_outbox o"
        "   WHERE o.claim_id = c.claim_id AND o.kind = 'claim_overdue')"
        " ORDER BY c.claim_id LIMIT $3",
        today,
        after,
        limit,
        timeout=_TIMEOUT,
    )
    return [(r[0], r[1], r[2], list(r[3]), r[4], list(r[5])) for r in rows]


_ASSOCIATION = """
INSERT INTO association_notices (notice_id, program, kind, claim_id, manager_id, due_on,
    created_at)
SELECT *, $7::timestamptz FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[],
    $5::text[], $6::date[])
ON CONFLICT DO NOTHING
"""


async def enqueue_association(
    conn: asyncpg.Connection, notices: Sequence[AssociationNotice], at: datetime
) -> int:
    """Add the associations' notices not yet there; how many were new."""
    if not notices:
        return 0
    rows = [(n.notice_id, n.program, n.kind, n.claim_id, n.manager_id, n.due_on) for n in notices]
    status = await conn.execute(_ASSOCIATION, *zip(*rows, strict=True), at, timeout=_TIMEOUT)
    return int(status.split()[-1])
