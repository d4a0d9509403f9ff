"""The operations pages: /health and /metrics, open to anybody."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.openapi.spec import Operation

from events.timeouts import ACQUIRE_TIMEOUT
from ledger.api.errors import problems
from ledger.api.metrics import Metrics, ProjectionHealth, projection_health
from ledger.http.guards import public

__all__ = ["OperationsController"]


@dataclass
class PublicOperation(Operation):
    """A route anyone may call (/health, /metrics): `security: []` overrides the document's
    bearer requirement in the OpenAPI."""

    def __post_init__(self) -> None:
        self.security = []


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    """`ok`, or `degraded` when a projection is far behind or its runner is failing."""
    database: str
    head_position: int
    projections: dict[str, ProjectionHealth]


class OperationsController(Controller):
    tags = ("operations",)
    guards = [public]

    @get(
        "/health",
        operation_id="health",
        responses=problems(503),
        operation_class=PublicOperation,
    )
    async def health(self, state: State) -> Health:
        """Liveness, with a round trip to the database (a 503 problem while it is
        unreachable), and each projection's lag and last error."""
        async with state.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
            head, projections = await projection_health(
                conn, state.metrics.projections, state.get("projectors", ())
            )
        degraded = any(p.degraded for p in projections.values())
        return Health(
            status="degraded" if degraded else "ok",
            database="ok",
            head_position=head,
            projections=projections,
        )

    @get(
        "/metrics",
        operation_id="metrics",
        media_type="text/plain; version=0.0.4",
        responses=problems(503),
        operation_class=PublicOperation,
    )
    async def metrics(self, state: State) -> str:
        """Prometheus text: requests by route and status, latency, appends, and per
        projection its lag, consecutive failures and last error time."""
        metrics: Metrics = state.metrics
        return await metrics.render(state.pool, state.get("projectors", ()))
