"""The pure half of an append, shared by every adapter: checking the request, sealing new
events onto the chain, recognising an exact retry, and planning a whole batch of appends
(`Batch`) as one transaction would see them.  Adapters supply the I/O and the lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.chain import chain_hash
from events.store import (
    AppendResult,
    ConcurrencyConflict,
    DuplicateEventId,
    EventStoreError,
    RecordedEvent,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime
    from uuid import UUID

    from events.store import AppendItem, NewEvent

__all__ = [
    "Batch",
    "Outcome",
    "check_items",
    "check_request",
    "check_version",
    "match_retry",
    "result_of",
    "seal",
]

Outcome = AppendResult | EventStoreError


def check_request(stream_id: str, events: Sequence[NewEvent], expected_version: int | None) -> None:
    """Reject appends that could never be valid, before any I/O."""
    if not stream_id:
        raise ValueError("stream_id must not be empty")
    if not events:
        raise ValueError("an append needs at least one event")
    if expected_version is not None and expected_version < 0:
        raise ValueError("expected_version must be >= 0 or None")
    if len({e.event_id for e in events}) != len(events):
        raise ValueError("event ids within one append must be distinct")


def check_items(items: Sequence[AppendItem]) -> None:
    """`check_request` for every item of an `append_many`."""
    if not items:
        raise ValueError("append_many needs at least one item")
    for stream_id, events, expected_version in items:
        check_request(stream_id, events, expected_version)


def check_version(stream_id: str, expected: int | None, actual: int) -> None:
    if expected is not None and expected != actual:
        raise ConcurrencyConflict(stream_id, expected, actual)


def seal(
    stream_id: str,
    events: Sequence[NewEvent],
    *,
    head_position: int,
    head_hash: bytes,
    stream_version: int,
    recorded_at: datetime,
) -> list[RecordedEvent]:
    """Give each new event its position, version and chained hash."""
    sealed: list[RecordedEvent] = []
    prev = head_hash
    for offset, event in enumerate(events, start=1):
        position, version = head_position + offset, stream_version + offset
        digest = chain_hash(
            prev,
            position=position,
            event_id=event.event_id,
            stream_id=stream_id,
            version=version,
            type=event.type,
            schema_version=event.schema_version,
            recorded_at=recorded_at,
            data=event.data,
            metadata=event.metadata,
        )
        sealed.append(
            RecordedEvent(
                position,
                event.event_id,
                stream_id,
                version,
                event.type,
                event.schema_version,
                event.data,
                event.metadata,
                recorded_at,
                prev,
                digest,
            )
        )
        prev = digest
    return sealed


def result_of(sealed: Sequence[RecordedEvent], *, created: bool) -> AppendResult:
    return AppendResult(
        stream_id=sealed[0].stream_id,
        first_position=sealed[0].position,
        last_position=sealed[-1].position,
        version=sealed[-1].version,
        recorded_at=sealed[-1].recorded_at,
        created=created,
    )


def match_retry(
    stream_id: str, events: Sequence[NewEvent], stored: Sequence[RecordedEvent]
) -> AppendResult:
    """`stored` are the already-recorded events sharing ids with `events`.  An exact retry
    (every id found, same stream, same order, same content) gives back the original result;
    anything else is a DuplicateEventId.  Metadata is not compared: a retry carries a new
    request id, and that does not make it a different fact."""
    by_id = {e.event_id: e for e in stored}
    found = [by_id.get(e.event_id) for e in events]
    for new, old in zip(events, found, strict=True):
        if old is None:
            raise DuplicateEventId(new.event_id, "only part of this append was stored before")
        if (old.stream_id, old.type, old.schema_version, old.data) != (
            stream_id,
            new.type,
            new.schema_version,
            new.data,
        ):
            raise DuplicateEventId(new.event_id, "stream, type or data differ")
    positions = [old.position for old in found if old is not None]
    if positions != list(range(positions[0], positions[0] + len(positions))):
        raise DuplicateEventId(events[0].event_id, "the stored events were not one append")
    return result_of([old for old in found if old is not None], created=False)


class Batch:
    """One transaction's worth of appends, planned in order on top of the head.

    The adapter, holding the head lock, gives the head, one `recorded_at`, the current version
    of every stream the batch touches (missing = 0) and the stored events among the batch's
    event ids.  `add` then answers each append exactly as if it ran alone, one after the
    other: its version check sees the versions left by the appends planned before it (two
    appends to one stream in one batch each see the other's effect, in order), an event id
    sealed earlier in the batch counts as stored (an exact retry in the same batch gets the
    first one's positions, `created=False`), and positions and hashes continue from the
    previous append, so `sealed` is one dense, chained run to write with a single INSERT.
    An append that fails changes nothing here, so it fails alone.
    """

    def __init__(
        self,
        *,
        head_position: int,
        head_hash: bytes,
        recorded_at: datetime,
        versions: Mapping[str, int],
        stored: Mapping[UUID, RecordedEvent],
    ) -> None:
        self.position = head_position
        self.hash = head_hash
        self.recorded_at = recorded_at
        self.sealed: list[RecordedEvent] = []
        self._versions = versions
        self._stored = stored
        self._new_versions: dict[str, int] = {}
        self._new: dict[UUID, RecordedEvent] = {}

    def add(self, items: Sequence[AppendItem], *, atomic: bool) -> list[Outcome]:
        """Plan `items` in order.  Not `atomic`: each item's outcome, a failed one taking
        nothing with it.  `atomic`: every item's result, or the first error raised and the
        whole group undone."""
        if not atomic:
            return [self._try(*item) for item in items]
        mark = (self.position, self.hash, len(self.sealed), dict(self._new_versions))
        try:
            return [self._one(*item) for item in items]
        except EventStoreError:
            self.position, self.hash, size, self._new_versions = mark
            for undone in self.sealed[size:]:
                del self._new[undone.event_id]
            del self.sealed[size:]
            raise

    def _try(self, stream_id: str, events: Sequence[NewEvent], expected: int | None) -> Outcome:
        try:
            return self._one(stream_id, events, expected)
        except EventStoreError as error:
            return error

    def _known(self, event_id: UUID) -> RecordedEvent | None:
        return self._new.get(event_id) or self._stored.get(event_id)

    def _one(
        self, stream_id: str, events: Sequence[NewEvent], expected: int | None
    ) -> AppendResult:
        known = [found for e in events if (found := self._known(e.event_id)) is not None]
        if known:
            return match_retry(stream_id, events, known)
        version = self._new_versions.get(stream_id, self._versions.get(stream_id, 0))
        check_version(stream_id, expected, version)
        sealed = seal(
            stream_id,
            events,
            head_position=self.position,
            head_hash=self.hash,
            stream_version=version,
            recorded_at=self.recorded_at,
        )
        self.sealed.extend(sealed)
        self._new.update((e.event_id, e) for e in sealed)
        self.position, self.hash = sealed[-1].position, sealed[-1].hash
        self._new_versions[stream_id] = sealed[-1].version
        return result_of(sealed, created=True)
