"""An event store in memory, for unit tests of the domain.  It passes the same contract
suite as the PostgreSQL store (tests/contract/test_event_store.py); an asyncio lock plays the
part of the head row lock, and every call is its own batch (no coalescing is needed where a
commit costs nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from events.append import Batch, check_items
from events.chain import GENESIS_HASH
from events.store import (
    AppendItem,
    AppendResult,
    EventStore,
    EventStoreError,
    Head,
    RecordedEvent,
    utc_now,
)

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID


__all__ = ["InMemoryEventStore"]


class InMemoryEventStore(EventStore):
    def __init__(self, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._by_id: dict[UUID, RecordedEvent] = {}
        self._lock = asyncio.Lock()

    async def append_many(
        self, items: Sequence[AppendItem], *, atomic: bool = False
    ) -> list[AppendResult | EventStoreError]:
        check_items(items)
        return await self._commit(items, atomic=atomic)

    async def _commit(
        self, items: Sequence[AppendItem], *, atomic: bool
    ) -> list[AppendResult | EventStoreError]:
        async with self._lock:
            last = self._log[-1] if self._log else None
            batch = Batch(
                head_position=len(self._log),
                head_hash=last.hash if last else GENESIS_HASH,
                recorded_at=max(self._clock(), last.recorded_at) if last else self._clock(),
                versions={s: len(self._streams.get(s, ())) for s, _, _ in items},
                stored=self._by_id,
            )
            outcomes = batch.add(items, atomic=atomic)
            for event in batch.sealed:
                self._log.append(event)
                self._streams.setdefault(event.stream_id, []).append(event)
                self._by_id[event.event_id] = event
            return outcomes

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, known_at: datetime | None = None
    ) -> list[RecordedEvent]:
        return [
            e
            for e in self._streams.get(stream_id, [])[after_version:]
            if known_at is None or e.recorded_at <= known_at
        ]

    async def read_all(
        self, *, after: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        wanted = None if types is None else set(types)
        found: list[RecordedEvent] = []
        for event in self._log[max(after, 0) :]:
            if len(found) == limit:
                break
            if wanted is None or event.type in wanted:
                found.append(event)
        return found

    async def find(self, event_id: UUID) -> RecordedEvent | None:
        return self._by_id.get(event_id)

    async def find_many(self, event_ids: Iterable[UUID]) -> dict[UUID, RecordedEvent]:
        return {i: self._by_id[i] for i in event_ids if i in self._by_id}

    async def read_streams(self, after: Mapping[str, int]) -> dict[str, list[RecordedEvent]]:
        return {s: list(self._streams.get(s, [])[v:]) for s, v in after.items()}

    async def head(self) -> Head:
        last = self._log[-1] if self._log else None
        return Head(position=len(self._log), hash=last.hash if last else GENESIS_HASH)
