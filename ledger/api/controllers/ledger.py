"""The log itself, for auditors: the event feed and the chain check; and the operations pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi.spec import Operation
from litestar.params import QueryParameter

from events.chain import ChainReport, verify
from events.postgres import fetch_head
from events.store import RecordedEvent
from ledger.api import privacy
from ledger.api.deps import CurrentPrincipal, LedgerDep, PoolDep, allow
from ledger.api.errors import READ_PROBLEMS
from ledger.api.metrics import Metrics
from ledger.api.schemas import MAX_INT

__all__ = ["LedgerController", "OperationsController"]


@dataclass
class PublicOperation(Operation):
    """A route anyone may call (/health, /metrics): `security: []` overrides the document's
    bearer requirement in the OpenAPI."""

    def __post_init__(self) -> None:
        self.security = []


class FeedEvent(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    event_id: UUID
    stream_id: str
    version: int
    type: str
    schema_version: int
    recorded_at: datetime
    data: msgspec.Raw
    """The event's stored JSON; null when `redacted`."""
    metadata: msgspec.Raw
    """The stored JSON; null when `redacted`."""
    prev_hash: str
    hash: str
    redacted: bool = False
    """Outside the auditor's programs: everything but `data` and `metadata` is kept."""


class Feed(msgspec.Struct, frozen=True, kw_only=True):
    events: list[FeedEvent]
    next_after: int
    """Pass as `after` to continue; positions are dense, so nothing between is ever missing."""


def _feed_event(e: RecordedEvent, *, full: bool) -> FeedEvent:
    return FeedEvent(
        position=e.position,
        event_id=e.event_id,
        stream_id=e.stream_id,
        version=e.version,
        type=e.type,
        schema_version=e.schema_version,
        recorded_at=e.recorded_at,
        data=msgspec.Raw(e.data if full else b"null"),
        metadata=msgspec.Raw(e.metadata if full else b"null"),
        prev_hash=e.prev_hash.hex(),
        hash=e.hash.hex(),
        redacted=not full,
    )


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
        pool: PoolDep,
        after: Annotated[int, QueryParameter(ge=0, le=MAX_INT)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> Feed:
        """Events in position order after `after`, with their hashes.  An admin reads every
        event in full; an auditor reads in full the events inside its programs, and of the
        others only position, ids, type, time and hashes (`redacted: true`): the scope rule is
        in ledger/api/privacy.py.  Positions stay dense and each `prev_hash` is the `hash`
        before it, so the chain's linkage is checkable on any page."""
        _auditor_or_admin(principal)
        batch = await ledger.store.read_all(after=after, limit=limit)
        scoped = {e.position: privacy.names(e.data) for e in batch}
        certified: set[str] = set()
        if not principal.is_admin():
            managers = {n.manager_id for n in scoped.values() if n.manager_id is not None}
            async with pool.acquire() as conn:
                certified = await privacy.certified_managers(conn, principal.programs, managers)
        return Feed(
            events=[
                _feed_event(
                    e,
                    full=principal.is_admin()
                    or privacy.inside(scoped[e.position], principal.programs, certified),
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

    @get("/health", operation_id="health", operation_class=PublicOperation)
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

    @get(
        "/metrics",
        operation_id="metrics",
        media_type="text/plain; version=0.0.4",
        operation_class=PublicOperation,
    )
    async def metrics(self, state: State) -> str:
        """Prometheus text: requests by route and status, latency, appends, projection lag."""
        metrics: Metrics = state.metrics
        return await metrics.render(state.pool)
