"""Prometheus metrics: requests by route and status with latency (Litestar's middleware,
grouped by route template), events appended by this process, and each projection's lag."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import REGISTRY, Counter, Gauge, generate_latest

from events.postgres import fetch_head
from events.store import AppendResult, EventStore, Head, NewEvent, RecordedEvent
from projections.engine import read_checkpoint

if TYPE_CHECKING:
    from uuid import UUID

    import asyncpg

__all__ = ["CountingStore", "Metrics"]


def _metric(kind, name: str, doc: str, labels: Sequence[str] = ()):  # type: ignore[no-untyped-def]
    """The process-wide metric of that name (an app made twice in one process shares it)."""
    existing = REGISTRY._names_to_collectors.get(name)
    return existing if existing is not None else kind(name, doc, labels)


class Metrics:
    def __init__(self, projections: Sequence[str]) -> None:
        self.config = PrometheusConfig(app_name="ceu_ledger", prefix="ceu_ledger", group_path=True)
        self.projections = tuple(projections)
        self.appended = _metric(
            Counter, "ceu_ledger_events_appended", "Events appended by this process", ["type"]
        )
        self.head = _metric(
            Gauge, "ceu_ledger_log_head_position", "Position of the last event in the log"
        )
        self.lag = _metric(
            Gauge, "ceu_ledger_projection_lag_events", "Events not yet projected", ["projection"]
        )

    async def render(self, pool: asyncpg.Pool) -> str:
        async with pool.acquire() as conn:
            head = (await fetch_head(conn)).position
            self.head.set(head)
            for name in self.projections:
                self.lag.labels(projection=name).set(
                    head - (await read_checkpoint(conn, name)).position
                )
        return generate_latest(REGISTRY).decode()


class CountingStore(EventStore):
    """The store, counting what this process appends (for `ceu_ledger_events_appended_total`)."""

    def __init__(self, inner: EventStore, counter: Counter) -> None:
        self._inner = inner
        self._counter = counter

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], *, expected_version: int | None
    ) -> AppendResult:
        result = await self._inner.append(stream_id, events, expected_version=expected_version)
        if result.created:
            for event in events:
                self._counter.labels(type=event.type).inc()
        return result

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, known_at: datetime | None = None
    ) -> list[RecordedEvent]:
        return await self._inner.read_stream(
            stream_id, after_version=after_version, known_at=known_at
        )

    async def read_all(
        self, *, after: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        return await self._inner.read_all(after=after, limit=limit, types=types)

    async def head(self) -> Head:
        return await self._inner.head()

    async def find(self, event_id: UUID) -> RecordedEvent | None:
        return await self._inner.find(event_id)
