"""The providers' notices (migration 0021): queued by the reminder scheduler, read by the
provider's page and GET /v1/providers/{id}/notices.  Not a projection: like the managers'
outbox, a record of what was (or is to be) sent, never rebuilt."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from events.timeouts import WORKER_STATEMENT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Sequence

    from events.connections import Conn
    from ledger.domain.approvals import LapseReminder

__all__ = ["ProviderNoticeRow", "enqueue_provider_notices", "provider_notices"]

_ENQUEUE = """
INSERT INTO provider_notices (notice_id, provider_id, program, kind, approval_number,
    valid_until, due_on, email, created_at, next_attempt_at)
SELECT *, created_at FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::date[], $7::date[], $8::text[], $9::timestamptz[])
    AS n(notice_id, provider_id, program, kind, approval_number, valid_until, due_on, email,
         created_at)
ON CONFLICT (provider_id, program, valid_until, kind) DO NOTHING
"""


async def enqueue_provider_notices(
    conn: Conn, reminders: Sequence[LapseReminder], at: datetime
) -> int:
    """Queue the reminders not queued yet; how many were new."""
    if not reminders:
        return 0
    rows = [
        (r.notice_id, r.provider_id, r.program, r.kind, r.approval_number, r.valid_until,
         r.due_on, r.email, at)
        for r in reminders
    ]  # fmt: skip
    status = await conn.execute(
        _ENQUEUE, *zip(*rows, strict=True), timeout=WORKER_STATEMENT_TIMEOUT
    )
    return int(status.split()[-1])


class ProviderNoticeRow(msgspec.Struct, frozen=True, kw_only=True):
    notice_id: UUID
    program: str
    kind: Literal["approval_lapses_120", "approval_lapses_30"]
    approval_number: str
    valid_until: date
    due_on: date
    email: str
    created_at: datetime
    status: Literal["pending", "sent", "failed"]
    sent_at: datetime | None


async def provider_notices(conn: Conn, provider_id: str) -> list[ProviderNoticeRow]:
    """A provider's notices, newest due first."""
    rows = await conn.fetch(
        "SELECT notice_id, program, kind, approval_number, valid_until, due_on, email,"
        " created_at, status, sent_at FROM provider_notices WHERE provider_id = $1"
        " ORDER BY due_on DESC, program, kind",
        provider_id,
        timeout=WORKER_STATEMENT_TIMEOUT,
    )
    return [ProviderNoticeRow(**dict(row)) for row in rows]
