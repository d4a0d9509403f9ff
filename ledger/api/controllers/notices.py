"""A manager's notices: what the ledger has told them, or is about to (reminders and news)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from ledger.api.errors import READ_PROBLEMS
from ledger.http.guards import manager_of_path
from ledger.http.injected import CurrentPrincipal, ReadsDep, SeenDep
from ledger.queries.notices import notices_of
from ledger.queries.views import NoticesView

__all__ = ["NoticesController"]


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
