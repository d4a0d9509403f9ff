"""The pure half of an append, shared by every adapter: checking the request, sealing new
events onto the chain, and recognising an exact retry.  Adapters supply the I/O and the lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.chain import chain_hash
from events.store import AppendResult, ConcurrencyConflict, DuplicateEventId, RecordedEvent

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from events.store import NewEvent

__all__ = ["check_request", "check_version", "match_retry", "result_of", "seal"]


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
