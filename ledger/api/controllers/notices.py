"""A manager's notices: what the ledger has told them, or is about to (reminders and news)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from ledger.access.policy import WHOLE, ManagerScope
from ledger.api.deps import CurrentPrincipal, ReadsDep, SeenDep
from ledger.api.errors import READ_PROBLEMS
from ledger.http.guards import manager_of_path
from ledger.queries.reads import Reads
from ledger.queries.views import NoticesView
from projections.notices import manager_notices

__all__ = ["NoticesController", "notices_of"]


async def notices_of(reads: Reads, manager_id: str, *, scope: ManagerScope = WHOLE) -> NoticesView:
    """The manager's outbox, once the `notices` projection has seen every event so far (a
    decision just recorded is listed), about the programs `scope` sees.  404 for an unknown
    manager."""
    await reads.profile(manager_id)
    async with reads.pool.acquire() as conn:
        await reads.caught_up(conn, "notices")
        rows = await manager_notices(conn, manager_id)
    return NoticesView(manager_id=manager_id, notices=[n for n in rows if scope.program(n.program)])


class NoticesController(Controller):
    path = "/v1/managers/{manager_id:str}"
    tags = ("managers",)
    guards = [manager_of_path]

    @get("/notices", operation_id="listNotices", responses=READ_PROBLEMS)
    async def notices(
        self, manager_id: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep, seen: SeenDep
    ) -> NoticesView:
        """Reminders (deadline in 90/45/15/1 days, grace started, lapsed) and news (renewal
        approved or denied, selected for audit), with whether and when each was sent."""
        return await notices_of(reads, manager_id, scope=seen)
