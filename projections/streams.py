"""`stream_summaries`: one row per stream (version, event count, first and last event)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from events.timeouts import WORKER_STATEMENT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Sequence

    import asyncpg

    from events.store import RecordedEvent

__all__ = ["StreamSummaries"]

_UPSERT = """
INSERT INTO stream_summaries AS s (stream_id, version, event_count, first_position,
    last_position, first_recorded_at, last_recorded_at, last_type)
SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[], $5::bigint[],
                     $6::timestamptz[], $7::timestamptz[], $8::text[])
ON CONFLICT (stream_id) DO UPDATE SET
    version = EXCLUDED.version,
    event_count = s.event_count + EXCLUDED.event_count,
    last_position = EXCLUDED.last_position,
    last_recorded_at = EXCLUDED.last_recorded_at,
    last_type = EXCLUDED.last_type
"""


class StreamSummaries:
    name = "stream_summaries"
    handles: frozenset[str] | None = None
    tables: tuple[str, ...] = ("stream_summaries",)

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        first: dict[str, RecordedEvent] = {}
        last: dict[str, RecordedEvent] = {}
        counts: Counter[str] = Counter()
        for e in events:
            first.setdefault(e.stream_id, e)
            last[e.stream_id] = e
            counts[e.stream_id] += 1
        rows = [
            (
                stream_id,
                last[stream_id].version,
                counts[stream_id],
                head.position,
                last[stream_id].position,
                head.recorded_at,
                last[stream_id].recorded_at,
                last[stream_id].type,
            )
            for stream_id, head in first.items()
        ]
        await conn.execute(_UPSERT, *zip(*rows, strict=True), timeout=WORKER_STATEMENT_TIMEOUT)
