"""`stream_summaries`: one row per stream (version, event count, first and last event)."""

from __future__ import annotations

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
    tables = ("stream_summaries",)

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        rows: dict[str, list] = {}
        for e in events:
            row = rows.get(e.stream_id)
            if row is None:
                rows[e.stream_id] = [
                    e.stream_id,
                    e.version,
                    1,
                    e.position,
                    e.position,
                    e.recorded_at,
                    e.recorded_at,
                    e.type,
                ]
            else:
                row[1], row[4], row[6], row[7] = e.version, e.position, e.recorded_at, e.type
                row[2] += 1
        await conn.execute(
            _UPSERT, *zip(*rows.values(), strict=True), timeout=WORKER_STATEMENT_TIMEOUT
        )
