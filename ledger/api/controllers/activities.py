"""Activities: the catalogue of what providers offer, across providers."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from ledger.api.errors import READ_PROBLEMS
from ledger.http.guards import authenticated
from ledger.http.injected import CurrentPrincipal, ReadsDep
from ledger.queries.views import ActivityView

__all__ = ["ActivitiesController"]

Filter = Annotated[str | None, QueryParameter(max_length=200)]


class ActivitiesController(Controller):
    path = "/v1/activities"
    tags = ("providers",)

    @get("/", operation_id="listActivities", responses=READ_PROBLEMS, guards=[authenticated])
    async def list_activities(
        self,
        principal: CurrentPrincipal,
        reads: ReadsDep,
        program: Filter = None,
        category: Filter = None,
        q: Filter = None,
    ) -> list[ActivityView]:
        """The catalogue: what counts toward which program and category (any role)."""
        return await reads.activities(program=program, category=category, q=q)
