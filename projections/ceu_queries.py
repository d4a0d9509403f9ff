"""Reads of the `ceu` read model.  Answers that depend on today's date are left to the
caller, which applies the domain's pure functions to what these return."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from events.catalog import AuditSampleDrawn
from projections.ceu import decode_program, decode_record

if TYPE_CHECKING:
    import asyncpg

    from ledger.domain.catalogue import Program
    from ledger.domain.record import ManagerRecord

__all__ = [
    "DueCertification",
    "Finding",
    "RegisterRow",
    "audit",
    "audit_population",
    "due_certifications",
    "manager_record",
    "programs",
    "renewal_register",
]

_decode_drawn = msgspec.json.Decoder(AuditSampleDrawn).decode


class RegisterRow(msgspec.Struct, frozen=True, kw_only=True):
    renewal_id: UUID
    program: str
    manager_id: str
    cycle: int
    cycle_starts_on: date
    cycle_ends_on: date
    ceus: Decimal
    completions: int
    fee_paid_cents: int
    state: Literal["filed", "approved", "denied"]
    filed_at: datetime
    decided_at: datetime | None
    reason: str
    audit_outcome: Literal["passed", "failed"] | None


class DueCertification(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    program: str
    open_cycle: int
    deadline: date
    grace_ends_on: date


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    renewal_id: UUID
    manager_id: str
    outcome: Literal["passed", "failed"]
    note: str
    recorded_at: datetime


async def programs(conn: asyncpg.Connection) -> dict[str, Program]:
    rows = await conn.fetch("SELECT code, program FROM ceu_programs ORDER BY code")
    return {row[0]: decode_program(row[1]) for row in rows}


async def manager_record(conn: asyncpg.Connection, manager_id: str) -> ManagerRecord | None:
    raw = await conn.fetchval("SELECT record FROM ceu_managers WHERE manager_id = $1", manager_id)
    return None if raw is None else decode_record(raw)


_REGISTER = """
SELECT renewal_id, program, manager_id, cycle, cycle_starts_on, cycle_ends_on, ceus, completions,
       fee_paid_cents, state, filed_at, decided_at, reason, audit_outcome
FROM ceu_renewals
WHERE program = $1
  AND ($2::text IS NULL OR state = $2)
  AND ($3::date IS NULL OR cycle_ends_on >= $3)
  AND ($4::date IS NULL OR cycle_ends_on <= $4)
ORDER BY cycle_ends_on, filed_at, renewal_id
"""


async def renewal_register(
    conn: asyncpg.Connection,
    program: str,
    *,
    state: str | None = None,
    cycle_ends_from: date | None = None,
    cycle_ends_to: date | None = None,
) -> list[RegisterRow]:
    rows = await conn.fetch(_REGISTER, program, state, cycle_ends_from, cycle_ends_to)
    return [RegisterRow(**dict(row)) for row in rows]


async def due_certifications(
    conn: asyncpg.Connection, program: str, *, today: date, within_days: int
) -> list[DueCertification]:
    """Certifications whose open cycle's deadline falls within `within_days` of `today`,
    including those already past it but still in grace; not revoked, not lapsed."""
    rows = await conn.fetch(
        "SELECT manager_id, program, open_cycle, deadline, grace_ends_on FROM ceu_certifications"
        " WHERE program = $1 AND NOT revoked"
        " AND deadline <= $2::date + $3::int AND grace_ends_on > $2"
        " ORDER BY deadline, manager_id",
        program,
        today,
        within_days,
    )
    return [DueCertification(**dict(row)) for row in rows]


async def audit_population(
    conn: asyncpg.Connection, program: str, filed_from: date, filed_to: date
) -> list[UUID]:
    """Renewals of `program` filed `filed_from`..`filed_to` (UTC days, inclusive), not denied."""
    rows = await conn.fetch(
        "SELECT renewal_id FROM ceu_renewals WHERE program = $1 AND state <> 'denied'"
        " AND (filed_at AT TIME ZONE 'UTC')::date BETWEEN $2 AND $3 ORDER BY renewal_id",
        program,
        filed_from,
        filed_to,
    )
    return [row[0] for row in rows]


async def audit(
    conn: asyncpg.Connection, audit_id: UUID
) -> tuple[AuditSampleDrawn, list[Finding]] | None:
    raw = await conn.fetchval("SELECT drawn FROM ceu_audits WHERE audit_id = $1", audit_id)
    if raw is None:
        return None
    rows = await conn.fetch(
        "SELECT renewal_id, manager_id, outcome, note, recorded_at FROM ceu_findings"
        " WHERE audit_id = $1 ORDER BY recorded_at, renewal_id",
        audit_id,
    )
    return _decode_drawn(raw), [Finding(**dict(row)) for row in rows]
