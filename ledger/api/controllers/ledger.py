"""The log itself, for auditors: the event feed and the chain check; and the operations pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.openapi.spec import Operation
from litestar.params import QueryParameter

from events.store import RecordedEvent
from events.timeouts import ACQUIRE_TIMEOUT
from ledger.api import privacy
from ledger.api.errors import READ_PROBLEMS, problems
from ledger.api.metrics import Metrics, ProjectionHealth, projection_health
from ledger.commands.loaders import find_completions
from ledger.domain.values import MAX_INT
from ledger.http.guards import admin_or_auditor, public
from ledger.http.injected import CurrentPrincipal, LedgerDep, PoolDep
from projections.verification import VerificationReport, checkpoint_report

__all__ = ["LedgerController", "OperationsController"]

VERIFY_TAIL = 200_000
"""Events past the verification checkpoint that GET /v1/ledger/verify hashes itself (about
0.2 s): the projector keeps the checkpoint within a batch of the head."""


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


class LedgerController(Controller):
    tags = ("ledger",)
    guards = [admin_or_auditor]

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
        batch = await ledger.store.read_all(after=after, limit=limit)
        if principal.is_admin():
            return Feed(
                events=[_feed_event(e, full=True) for e in batch],
                next_after=batch[-1].position if batch else after,
            )
        scoped = {e.position: privacy.names(e.data) for e in batch}
        managers = {n.manager_id for n in scoped.values() if n.manager_id is not None}
        async with pool.acquire() as conn:
            held = await privacy.held_programs(conn, principal.programs, managers)
        corrected = {
            n.completion_id
            for n in scoped.values()
            if n.completion_id is not None and n.programs is None and n.manager_id in held
        }
        found = await find_completions(ledger.store, corrected) if corrected else {}
        counts = {cid: event.programs for cid, (event, _) in found.items()}
        return Feed(
            events=[
                _feed_event(e, full=privacy.inside(scoped[e.position], principal, held, counts))
                for e in batch
            ],
            next_after=batch[-1].position if batch else after,
        )

    @get("/v1/ledger/verify", operation_id="verifyLedger", responses=READ_PROBLEMS)
    async def verify_chain(
        self, principal: CurrentPrincipal, ledger: LedgerDep, pool: PoolDep
    ) -> VerificationReport:
        """The hash chain's check; names the first bad position if any.  Keep `head_hash`:
        a later report whose chain does not pass through it means history was rewritten.

        Answered from the verification projection's checkpoint (`checkpoint_position`, last
        advanced at `checked_at`) and the events past it, hashed here (at most
        `VERIFY_TAIL`: `checked_through` says how far); the whole log is walked here only
        while a re-check tripped by a changed stored event is under way."""
        async with pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
            return await checkpoint_report(conn, tail_limit=VERIFY_TAIL, store=ledger.store)


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
