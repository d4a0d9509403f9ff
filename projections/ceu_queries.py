"""Reads of the `ceu` read model.  Answers that depend on today's date are left to the
caller, which applies the domain's pure functions to what these return."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from events.catalog import AuditSampleDrawn
from ledger.domain.record import SelfReport
from projections.ceu import decode_program, load_records

if TYPE_CHECKING:
    from events.connections import Conn
    from ledger.domain.catalogue import Program
    from ledger.domain.record import ManagerRecord

__all__ = [
    "DueCertification",
    "Finding",
    "HeldCertification",
    "ManagerRow",
    "PostingRow",
    "RegisterRow",
    "SelfReportRow",
    "audit",
    "audit_population",
    "audits",
    "due_certifications",
    "findings",
    "managers",
    "postings",
    "manager_record",
    "programs",
    "renewal_register",
    "self_reports",
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
    approved_ceus: Decimal = Decimal(0)
    """Of the CEUs counted, those from activities approved for the program (SPEC 12)."""
    provider_ceus: Decimal = Decimal(0)
    """From providers' postings of activities not approved for it."""
    self_ceus: Decimal = Decimal(0)
    """Reported by the manager and accepted."""


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


class HeldCertification(msgspec.Struct, frozen=True, kw_only=True):
    program: str
    status: Literal["active", "grace", "lapsed", "revoked"]
    deadline: date


class ManagerRow(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    name: str
    email: str
    enrolled_position: int
    certifications: list[HeldCertification]


class PostingRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    external_id: str
    manager_id: str
    activity_id: str
    activity_title: str
    completed_on: date
    ceus: Decimal
    position: int
    recorded_at: datetime
    voided: bool
    amended: bool


async def programs(conn: Conn) -> dict[str, Program]:
    rows = await conn.fetch("SELECT code, program FROM ceu_programs ORDER BY code")
    return {row[0]: decode_program(row[1]) for row in rows}


async def manager_record(conn: Conn, manager_id: str) -> ManagerRecord | None:
    return (await load_records(conn, [manager_id])).get(manager_id)


_REGISTER = """
SELECT renewal_id, program, manager_id, cycle, cycle_starts_on, cycle_ends_on, ceus, completions,
       fee_paid_cents, state, filed_at, decided_at, reason, audit_outcome,
       approved_ceus, provider_ceus, self_ceus
FROM ceu_renewals
WHERE program = $1
  AND ($2::text IS NULL OR state = $2)
  AND ($3::date IS NULL OR cycle_ends_on >= $3)
  AND ($4::date IS NULL OR cycle_ends_on <= $4)
ORDER BY cycle_ends_on, filed_at, renewal_id
"""


async def renewal_register(
    conn: Conn,
    program: str,
    *,
    state: str | None = None,
    cycle_ends_from: date | None = None,
    cycle_ends_to: date | None = None,
) -> list[RegisterRow]:
    rows = await conn.fetch(_REGISTER, program, state, cycle_ends_from, cycle_ends_to)
    return [RegisterRow(**dict(row)) for row in rows]


async def due_certifications(
    conn: Conn, program: str, *, today: date, within_days: int
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
    conn: Conn, program: str, filed_from: date, filed_to: date
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


async def audit(conn: Conn, audit_id: UUID) -> tuple[AuditSampleDrawn, list[Finding]] | None:
    raw = await conn.fetchval("SELECT drawn FROM ceu_audits WHERE audit_id = $1", audit_id)
    if raw is None:
        return None
    rows = await conn.fetch(
        "SELECT renewal_id, manager_id, outcome, note, recorded_at FROM ceu_findings"
        " WHERE audit_id = $1 ORDER BY recorded_at, renewal_id",
        audit_id,
    )
    return _decode_drawn(raw), [Finding(**dict(row)) for row in rows]


async def audits(conn: Conn, program: str) -> list[AuditSampleDrawn]:
    """The program's audit draws, newest first."""
    rows = await conn.fetch(
        "SELECT drawn FROM ceu_audits WHERE program = $1 ORDER BY drawn_at DESC, audit_id", program
    )
    return [_decode_drawn(row[0]) for row in rows]


async def findings(conn: Conn, audit_id: UUID) -> list[Finding]:
    rows = await conn.fetch(
        "SELECT renewal_id, manager_id, outcome, note, recorded_at FROM ceu_findings"
        " WHERE audit_id = $1 ORDER BY recorded_at, renewal_id",
        audit_id,
    )
    return [Finding(**dict(row)) for row in rows]


# A certification's status on a day, from its open cycle (the first without an approved
# renewal): the same rule as ledger.domain.assess, which the tests hold it to.
_STATUS = """
CASE WHEN c.revoked THEN 'revoked'
     WHEN $1::date < c.deadline THEN 'active'
     WHEN $1::date < c.grace_ends_on THEN 'grace'
     ELSE 'lapsed' END
"""

_MANAGERS = f"""
SELECT m.manager_id, m.name, m.email, m.enrolled_position,
       coalesce(json_agg(json_build_object('program', c.program, 'status', {_STATUS},
                                           'deadline', c.deadline) ORDER BY c.program)
                FILTER (WHERE c.program IS NOT NULL), '[]')::text AS certifications
FROM ceu_manager_index m
LEFT JOIN ceu_certifications c
       ON c.manager_id = m.manager_id AND ($4::text IS NULL OR c.program = $4)
WHERE m.enrolled_position > $2
  AND ($3::text IS NULL OR m.manager_id ILIKE $3 OR m.name ILIKE $3 OR m.email ILIKE $3)
GROUP BY m.manager_id
HAVING ($4::text IS NULL OR count(c.program) > 0)
   AND ($5::text IS NULL OR coalesce(bool_or({_STATUS} = $5), false))
ORDER BY m.enrolled_position
LIMIT $6
"""

_decode_held = msgspec.json.Decoder(list[HeldCertification]).decode


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def managers(
    conn: Conn,
    *,
    program: str | None,
    q: str | None,
    status: str | None,
    today: date,
    after: int,
    limit: int,
) -> list[ManagerRow]:
    """Managers enrolled after position `after`, in enrolment order: those certified in
    `program` (if given, and then only that certification is shown) whose id, name or email
    contains `q`, and whose status (in `program`, or in any program) is `status`."""
    rows = await conn.fetch(
        _MANAGERS, today, after, None if not q else _like(q), program, status, limit
    )
    return [
        ManagerRow(
            manager_id=row["manager_id"],
            name=row["name"],
            email=row["email"],
            enrolled_position=row["enrolled_position"],
            certifications=_decode_held(row["certifications"]),
        )
        for row in rows
    ]


async def postings(
    conn: Conn, provider_id: str, *, manager_id: str | None, after: int, limit: int
) -> list[PostingRow]:
    rows = await conn.fetch(
        "SELECT completion_id AS id, external_id, manager_id, activity_id, activity_title,"
        " completed_on, ceus,"
        " position, recorded_at, voided, amended FROM ceu_postings"
        " WHERE provider_id = $1 AND position > $2 AND ($3::text IS NULL OR manager_id = $3)"
        " ORDER BY position LIMIT $4",
        provider_id,
        after,
        manager_id,
        limit,
    )
    return [PostingRow(**dict(row)) for row in rows]


class SelfReportRow(msgspec.Struct, frozen=True, kw_only=True):
    """A line of a program's review queue: the report as the manager's record holds it."""

    manager_id: str
    name: str
    report: SelfReport
    position: int


_decode_report = msgspec.json.Decoder(SelfReport).decode

_SELF_REPORTS = """
SELECT r.manager_id, coalesce(i.name, r.manager_id) AS name, r.report, r.position
FROM ceu_self_reports r LEFT JOIN ceu_manager_index i USING (manager_id)
WHERE $1 = ANY (r.programs) AND ($2::text IS NULL OR r.state = $2)
ORDER BY r.position
"""


async def self_reports(conn: Conn, program: str, *, state: str | None) -> list[SelfReportRow]:
    """The self-reports that name `program`, oldest first (in `state`, if given)."""
    return [
        SelfReportRow(
            manager_id=row[0], name=row[1], report=_decode_report(row[2]), position=row[3]
        )
        for row in await conn.fetch(_SELF_REPORTS, program, state)
    ]
