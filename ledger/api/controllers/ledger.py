"""The log itself, for auditors: the event feed and the chain check; and the operations pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from events.chain import ChainReport, verify
from events.postgres import fetch_head
from ledger.api.deps import CurrentPrincipal, LedgerDep, allow
from ledger.api.errors import READ_PROBLEMS
from ledger.api.metrics import Metrics

__all__ = ["LedgerController", "OperationsController"]


class FeedEvent(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    event_id: UUID
    stream_id: str
    version: int
    type: str
    schema_version: int
    recorded_at: datetime
    data: msgspec.Raw
    metadata: msgspec.Raw
    prev_hash: str
    hash: str


class Feed(msgspec.Struct, frozen=True, kw_only=True):
    events: list[FeedEvent]
    next_after: int
    """Pass as `after` to continue; positions are dense, so nothing between is ever missing."""


def _auditor_or_admin(principal: CurrentPrincipal) -> None:
    allow(
        principal.is_admin() or principal.role == "auditor", "only auditors and admins read the log"
    )


class LedgerController(Controller):
    tags = ("ledger",)

    @get("/v1/events", operation_id="eventFeed", responses=READ_PROBLEMS)
    async def events(
        self,
        principal: CurrentPrincipal,
        ledger: LedgerDep,
        after: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> Feed:
        """Events in position order after `after`, with their hashes."""
        _auditor_or_admin(principal)
        batch = await ledger.store.read_all(after=after, limit=limit)
        return Feed(
            events=[
                FeedEvent(
                    position=e.position,
                    event_id=e.event_id,
                    stream_id=e.stream_id,
                    version=e.version,
                    type=e.type,
                    schema_version=e.schema_version,
                    recorded_at=e.recorded_at,
                    data=msgspec.Raw(e.data),
                    metadata=msgspec.Raw(e.metadata),
                    prev_hash=e.prev_hash.hex(),
                    hash=e.hash.hex(),
                )
                for e in batch
            ],
            next_after=batch[-1].position if batch else after,
        )

    @get("/v1/ledger/verify", operation_id="verifyLedger", responses=READ_PROBLEMS)
    async def verify_chain(self, principal: CurrentPrincipal, ledger: LedgerDep) -> ChainReport:
        """Recompute the hash chain; names the first bad position if any.  Keep `head_hash`:
        a later report whose chain does not pass through it means history was rewritten."""
        _auditor_or_admin(principal)
        return await verify(ledger.store)


class OperationsController(Controller):
    tags = ("operations",)

    @get("/health", operation_id="health")
    async def health(self, state: State) -> Response[dict[str, object]]:
        """Liveness, with a round trip to the database (503 if it is unreachable)."""
        try:
            async with state.pool.acquire(timeout=5) as conn:
                head = await fetch_head(conn)
        except (OSError, TimeoutError) as exc:
            return Response(
                {"status": "unavailable", "database": type(exc).__name__}, status_code=503
            )
        return Response({"status": "ok", "database": "ok", "head_position": head.position})

    @get("/metrics", operation_id="metrics", media_type="text/plain; version=0.0.4")
    async def metrics(self, state: State) -> str:
        """Prometheus text: requests by route and status, latency, appends, projection lag."""
        metrics: Metrics = state.metrics
        return await metrics.render(state.pool)
