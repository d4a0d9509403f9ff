"""`notices`: the event-driven notices into the outbox, and the outbox's reads.

The projection turns decisions (RenewalApproved, RenewalDenied) and audit draws
(AuditSampleDrawn, with the RenewalFiled facts of the renewals it drew, read from the log by
their event id, which is the renewal id) into notices, by the pure functions of
ledger/domain/notices.py, and `enqueue`s them.  Date-driven notices need a clock, which a
projection must not read (a rebuild has to give the same rows); the reminder scheduler
(ledger/infra/reminders.py) enqueues those, through the same `enqueue`.

The outbox is not one of the projection's `tables`: it is a record of what was (or is to be)
sent, not a view that may be thrown away.  A rebuild therefore re-derives every event-driven
notice, finds its key already there (`ON CONFLICT DO NOTHING`), and sends nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from events.catalog import AuditSampleDrawn, RenewalApproved, RenewalDenied, RenewalFiled
from events.codec import decode
from events.store import RecordedEvent
from events.timeouts import WORKER_STATEMENT_TIMEOUT
from ledger.domain.notices import Kind, Notice, on_decision, on_selection

if TYPE_CHECKING:
    from collections.abc import Sequence

    import asyncpg

    from events.connections import Conn

__all__ = ["NoticeProjection", "NoticeRow", "enqueue", "manager_notices"]

_ENQUEUE = """
INSERT INTO notice_outbox (notice_id, manager_id, program, cycle, kind, due_on, deadline,
    grace_ends_on, renewal_id, audit_id, reason, created_at, claim_id, next_attempt_at)
SELECT *, created_at FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[],
    $6::date[], $7::date[], $8::date[], $9::uuid[], $10::uuid[], $11::text[],
    $12::timestamptz[], $13::uuid[]) AS n(notice_id, manager_id, program, cycle, kind, due_on,
    deadline, grace_ends_on, renewal_id, audit_id, reason, created_at, claim_id)
ON CONFLICT DO NOTHING
"""
# ON CONFLICT without a target: a notice's key is (manager, program, cycle, kind), or its claim
# for a claim's (migration 0020's two partial unique indexes), and its id is the uuid5 of that
# key (the primary key); a notice found again meets one of them and is not added twice.


async def enqueue(conn: asyncpg.Connection, notices: Sequence[Notice], at: datetime) -> int:
    """Add the notices not yet in the outbox, due to be sent from `at`; how many were new."""
    if not notices:
        return 0
    rows = [
        (n.notice_id, n.manager_id, n.program, n.cycle, n.kind, n.due_on, n.deadline,
         n.grace_ends_on, n.renewal_id, n.audit_id, n.reason, at, n.claim_id)
        for n in notices
    ]  # fmt: skip
    status = await conn.execute(
        _ENQUEUE, *zip(*rows, strict=True), timeout=WORKER_STATEMENT_TIMEOUT
    )
    return int(status.split()[-1])


async def _filings(conn: asyncpg.Connection, renewal_ids: Sequence[UUID]) -> list[RenewalFiled]:
    rows = await conn.fetch(
        "SELECT position, event_id, stream_id, version, type, schema_version, data, metadata,"
        " recorded_at, prev_hash, hash FROM events"
        " WHERE event_id = ANY($1::uuid[]) AND type = 'renewal_filed'",
        list(renewal_ids),
        timeout=WORKER_STATEMENT_TIMEOUT,
    )
    found = [decode(RecordedEvent(*row)) for row in rows]
    return [f for f in found if isinstance(f, RenewalFiled)]


class NoticeProjection:
    name = "notices"
    handles: frozenset[str] | None = frozenset(
        {"renewal_approved", "renewal_denied", "audit_sample_drawn"}
    )
    tables: tuple[str, ...] = ()
    """None: the outbox outlives rebuilds (see the module's docstring)."""

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        for recorded in events:
            event, day = decode(recorded), recorded.recorded_at.date()
            match event:
                case RenewalApproved() | RenewalDenied():
                    notices = [on_decision(event, day)]
                case AuditSampleDrawn(selected=selected):
                    notices = on_selection(event, day, await _filings(conn, selected))
                case _:
                    continue
            await enqueue(conn, notices, recorded.recorded_at)


# -- reads ------------------------------------------------------------------------------------


class NoticeRow(msgspec.Struct, frozen=True, kw_only=True):
    notice_id: UUID
    program: str
    cycle: int
    kind: Kind
    due_on: date
    deadline: date | None
    grace_ends_on: date | None
    renewal_id: UUID | None
    audit_id: UUID | None
    reason: str
    created_at: datetime
    claim_id: UUID | None
    status: Literal["pending", "sent", "failed"]
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None


async def manager_notices(conn: Conn, manager_id: str) -> list[NoticeRow]:
    """A manager's notices, oldest due first."""
    rows = await conn.fetch(
        "SELECT notice_id, program, cycle, kind, due_on, deadline, grace_ends_on, renewal_id,"
        " audit_id, reason, created_at, claim_id, status, attempts, next_attempt_at, sent_at"
        " FROM notice_outbox WHERE manager_id = $1 ORDER BY due_on, created_at, program, kind",
        manager_id,
        timeout=WORKER_STATEMENT_TIMEOUT,
    )
    return [NoticeRow(**dict(row)) for row in rows]
