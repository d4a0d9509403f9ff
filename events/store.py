"""The event store port: what every adapter (PostgreSQL, in-memory) promises.

The store deals in *encoded* events: the payload is the exact byte string that is stored and
hashed.  Turning domain facts into bytes and back is `events.codec`'s job, so the store's
contract can be tested without any domain in sight.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import NamedTuple, Protocol
from uuid import UUID

import msgspec

__all__ = [
    "AppendItem",
    "AppendResult",
    "ConcurrencyConflict",
    "DuplicateEventId",
    "EventStore",
    "EventStoreError",
    "Head",
    "NewEvent",
    "RecordedEvent",
    "utc_now",
]


def utc_now() -> datetime:
    return datetime.now(UTC)


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event about to be appended.  `event_id` makes the append idempotent."""

    event_id: UUID
    type: str
    schema_version: int
    data: bytes
    metadata: bytes


class RecordedEvent(msgspec.Struct, frozen=True, gc=False):
    """An event as stored, with its place in the log and in the hash chain.

    Fields are positional, in column order, so a database row maps onto it directly.
    """

    position: int
    event_id: UUID
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: bytes
    metadata: bytes
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes


class AppendResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an append did.  `created` is False when the append was an exact retry of one
    already stored: the positions, version and time are then those of the original."""

    stream_id: str
    first_position: int
    last_position: int
    version: int
    recorded_at: datetime
    created: bool = True


class AppendItem(NamedTuple):
    """One stream's part of an `append_many`; a plain 3-tuple in this order will do."""

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int | None


class Head(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    hash: bytes


class EventStoreError(Exception):
    """Base of the errors the store raises on purpose."""


class ConcurrencyConflict(EventStoreError):
    """The stream was not at the version the writer expected: nothing was appended."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, the append expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DuplicateEventId(EventStoreError):
    """An event id that is already stored came back with different content (or a retry that
    does not match the original append as a whole): nothing was appended."""

    def __init__(self, event_id: UUID, reason: str) -> None:
        super().__init__(f"event {event_id} is already stored with other content: {reason}")
        self.event_id = event_id
        self.reason = reason


class EventStore(Protocol):
    """Adapters subclass this explicitly, which also gives them `iter_all`."""

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        *,
        expected_version: int | None,
    ) -> AppendResult:
        """Append `events` to `stream_id` atomically.

        `expected_version` is the stream's current version as the writer last saw it (0 for a
        new stream), or None to append whatever the version is.  A mismatch raises
        ConcurrencyConflict.  Re-appending the same event ids with the same content returns
        the original result with `created=False`; other content raises DuplicateEventId.
        Every adapter has it as one atomic item of `append_many`.
        """
        item = AppendItem(stream_id, events, expected_version)
        [result] = await self.append_many([item], atomic=True)
        assert isinstance(result, AppendResult), "atomic: an error is raised, not returned"
        return result

    async def append_many(
        self, items: Sequence[AppendItem], *, atomic: bool = False
    ) -> list[AppendResult | EventStoreError]:
        """Append to many streams in one transaction: one commit, positions in item order.

        Each item is checked as if it were its own `append` run right after the items before
        it (so two items for one stream each see the other's version effect, in order).
        Not `atomic` (the default, made for rosters): the outcome of each item, in order,
        either its AppendResult or the ConcurrencyConflict / DuplicateEventId it met; a
        failed item stores nothing and takes nothing with it, the others are committed.
        `atomic`: all or nothing; the first item's error is raised and nothing is stored.
        An error of the transaction itself (the database went away) is raised, and then
        nothing of the call is known to be stored.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement append_many")

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, known_at: datetime | None = None
    ) -> list[RecordedEvent]:
        """The stream's events in version order; with `known_at`, only those recorded by then."""
        ...

    async def read_all(
        self, *, after: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        """Up to `limit` events with position > `after`, in position order.  Safe to tail:
        an event that becomes visible later never has a position below one already seen."""
        ...

    async def iter_all(
        self, *, after: int = 0, batch_size: int = 1000
    ) -> AsyncIterator[RecordedEvent]:
        """Every event after `after`, in position order, read in batches of `read_all`."""
        while batch := await self.read_all(after=after, limit=batch_size):
            for event in batch:
                yield event
            after = batch[-1].position

    async def head(self) -> Head:
        """The position and hash of the last event (0 and the genesis hash when empty)."""
        ...

    async def find(self, event_id: UUID) -> RecordedEvent | None:
        """The event with this id, wherever it is stored."""
        ...

    async def find_many(self, event_ids: Iterable[UUID]) -> dict[UUID, RecordedEvent]:
        """The stored events among `event_ids` (ids not stored are absent), in one read."""
        found = {event_id: await self.find(event_id) for event_id in dict.fromkeys(event_ids)}
        return {event_id: event for event_id, event in found.items() if event is not None}

    async def read_streams(self, after: Mapping[str, int]) -> dict[str, list[RecordedEvent]]:
        """Many streams at once: for each stream id, its events after the version given, in
        version order (a stream with nothing new maps to an empty list), in one read."""
        return {s: await self.read_stream(s, after_version=v) for s, v in after.items()}
