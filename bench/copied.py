"""A ledger written by COPY, for the benches that need a large one fast: managers' streams
sealed onto the hash chain as the store seals them (events/append.py `seal`), many streams a
statement, then the head moved to the last event.  bench/rebuild.py and bench/lived_in.py
differ only in what each stream holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from events.append import seal
from events.connections import Conn
from events.store import NewEvent, RecordedEvent

__all__ = ["copy_streams"]

_COLUMNS = [
    "position", "event_id", "stream_id", "version", "type", "schema_version",
    "data", "metadata", "recorded_at", "prev_hash", "hash",
]  # fmt: skip

Stream = Callable[[int, int], tuple[str, list[NewEvent]] | None]
"""The m-th stream's id and facts, given how many events are still wanted (None: no more)."""


def _row(e: RecordedEvent) -> tuple[Any, ...]:
    return (
        e.position, e.event_id, e.stream_id, e.version, e.type, e.schema_version,
        e.data, e.metadata, e.recorded_at, e.prev_hash, e.hash,
    )  # fmt: skip


async def copy_streams(
    conn: Conn, stream: Stream, *, total: int, position: int, prev: bytes, at: datetime,
    per_statement: int, step: timedelta,
) -> tuple[int, int]:  # fmt: skip
    """Streams 0, 1, ... after `position` (whose hash is `prev`) until `total` events, each
    COPY of `per_statement` streams recorded `step` after the one before from `at`; the head
    moved, the table analysed.  The number of streams and the head's position."""
    m = 0
    while position < total:
        chunk: list[RecordedEvent] = []
        for _ in range(per_statement):
            made = stream(m, total - position - len(chunk))
            if made is None:
                break
            stream_id, facts = made
            sealed = seal(
                stream_id, facts, head_position=position + len(chunk), head_hash=prev,
                stream_version=0, recorded_at=at,
            )  # fmt: skip
            chunk += sealed
            prev = sealed[-1].hash
            m += 1
        await conn.copy_records_to_table(
            "events", records=[_row(e) for e in chunk], columns=_COLUMNS
        )
        position += len(chunk)
        at += step
    await conn.execute(
        "UPDATE event_head SET position = $1, hash = $2, recorded_at = $3", position, prev, at
    )
    await conn.execute("VACUUM ANALYZE events")
    return m, position
