"""The log itself, for auditors: the event feed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter

from events.store import RecordedEvent
from ledger.api import privacy
from ledger.api.errors import READ_PROBLEMS
from ledger.commands.loaders import find_completions
from ledger.domain.values import MAX_INT
from ledger.http.guards import admin_or_auditor
from ledger.http.injected import CurrentPrincipal, LedgerDep, PoolDep

__all__ = ["EventsController"]


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


class EventsController(Controller):
    path = "/v1/events"
    tags = ("ledger",)
    guards = [admin_or_auditor]

    @get("/", operation_id="eventFeed", responses=READ_PROBLEMS)
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
