"""A store that tells observers of every append: one wrapper for what the service learns from
its own writes (the metrics' count of appended events, the position a request wrote for its
`Ledger-Position` header), instead of one hand-forwarding wrapper each.

It is the store it wraps in every other respect, and is held to the same contract suite
(tests/contract/test_event_store.py) as the adapters.  An observer runs after the append has
answered, on the outcomes the caller gets, and must not raise: it only counts or notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from events.store import AppendItem, AppendResult, EventStore, EventStoreError

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from events.store import Head, RecordedEvent

__all__ = ["AppendObserver", "ObservedStore"]

AppendObserver = Callable[[Sequence[AppendItem], Sequence[AppendResult | EventStoreError]], None]
"""Called with each `append_many`'s items and their outcomes, in the same order."""


class ObservedStore(EventStore):
    def __init__(self, inner: EventStore, *observers: AppendObserver) -> None:
        self._inner = inner
        self._observers = observers

    async def append_many(
        self, items: Sequence[AppendItem], *, atomic: bool = False
    ) -> list[AppendResult | EventStoreError]:
        outcomes = await self._inner.append_many(items, atomic=atomic)
        for observe in self._observers:
            observe(items, outcomes)
        return outcomes

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

    async def find_many(self, event_ids: Iterable[UUID]) -> dict[UUID, RecordedEvent]:
        return await self._inner.find_many(event_ids)

    async def read_streams(self, after: Mapping[str, int]) -> dict[str, list[RecordedEvent]]:
        return await self._inner.read_streams(after)

    def __getattr__(self, name: str) -> Any:
        """What an adapter offers beyond the port (the PostgreSQL store's pool, say)."""
        return getattr(self._inner, name)
