"""A manager's notices: what the ledger has told them, or is about to (reminders and news)."""

from __future__ import annotations

from ledger.access.policy import WHOLE, ManagerScope
from ledger.queries.reads import Reads
from ledger.queries.views import NoticesView
from projections.notices import manager_notices

__all__ = ["notices_of"]


async def notices_of(reads: Reads, manager_id: str, *, scope: ManagerScope = WHOLE) -> NoticesView:
    """The manager's outbox, once the `notices` projection has seen every event so far (a
    decision just recorded is listed), about the programs `scope` sees.  404 for an unknown
    manager."""
    await reads.profile(manager_id)
    async with reads.pool.acquire() as conn:
        await reads.caught_up(conn, "notices")
        rows = await manager_notices(conn, manager_id)
    return NoticesView(manager_id=manager_id, notices=[n for n in rows if scope.program(n.program)])
