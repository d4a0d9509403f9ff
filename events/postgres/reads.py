"""The log as readers see it: the head, events by position (and type), by stream, by id; and
the channels every append's commit announces itself on.

These are the queries of the projections, the feed and the store's own reads; each takes a
connection or a pool (anything with asyncpg's `fetch`), so a caller inside a transaction
reads on its own snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from events.store import Head, RecordedEvent

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

__all__ = [
    "COLUMNS",
    "NOTIFY_CHANNEL",
    "TYPES_CHANNEL",
    "Executor",
    "events_query",
    "fetch_by_ids",
    "fetch_event",
    "fetch_events",
    "fetch_head",
    "fetch_stream",
    "fetch_streams",
]

NOTIFY_CHANNEL = "ledger_events"
"""Each append's last position (migrations/0001_event_store.sql, `event_head_notify`)."""
TYPES_CHANNEL = "ledger_event_types"
"""Each append's last position and the types it stored (migrations/0012_notify_event_types.sql)."""

COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version,"
    " data, metadata, recorded_at, prev_hash, hash"
)
"""The `events` columns in the order of `RecordedEvent`'s fields."""

Executor = asyncpg.Connection | PoolConnectionProxy | asyncpg.Pool
"""A connection (of its own or a pool's), or a pool that runs each query on one of its own."""

_BY_IDS = f"SELECT {COLUMNS} FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY position"

# One index range scan of (stream_id, version) per stream: LATERAL keeps the planner from
# joining the whole table against the list.
_STREAMS_AFTER = f"""
SELECT e.* FROM unnest($1::text[], $2::int[]) AS t(s, v)
CROSS JOIN LATERAL (SELECT {COLUMNS} FROM events
                    WHERE stream_id = t.s AND version > t.v ORDER BY version) AS e
"""


async def fetch_head(conn: Executor) -> Head:
    row = await conn.fetchrow("SELECT position, hash FROM event_head")
    assert row is not None, "event_head has its row from the first migration"
    return Head(position=row[0], hash=row[1])


def events_query(*, types: bool, up_to: bool) -> str:
    """The SQL of `fetch_events`: $1 after, $2 limit, then $3 up_to and/or the types array.

    With types: one range scan of the (type, position) index per type, each stopping after
    `limit` rows, merged by position.  The plain ``type = ANY(...)`` filter asks for the same
    rows, but under the generic plan of a prepared statement (which asyncpg's statement cache
    reaches after five runs) the planner cannot see how rare the types are, and it walks the
    primary key in position order, filtering out every other event on the way.  Even
    ``type = t.type AND position > $1`` inside the LATERAL still gets the primary key (its
    heap order is perfect, the type index's is not).  The bounds are therefore written as
    row comparisons on (type, position): ``(type, position) > (t.type, after)`` and
    ``<= (t.type, up_to)`` say exactly "this type, after < position <= up_to", are index
    conditions on (type, position) and on nothing else, and only that index yields the
    ``ORDER BY type, position`` without a sort.  tests/integration/test_store_read_plans.py
    shows the plans before and after."""
    if not types:
        bound = " AND position <= $3" if up_to else ""
        return f"SELECT {COLUMNS} FROM events WHERE position > $1{bound} ORDER BY position LIMIT $2"
    upper = "$3" if up_to else str(2**63 - 1)
    return f"""SELECT e.* FROM unnest(${4 if up_to else 3}::text[]) AS t(type)
CROSS JOIN LATERAL (SELECT {COLUMNS} FROM events
                    WHERE (type, position) > (t.type, $1)
                      AND (type, position) <= (t.type, {upper}::bigint)
                    ORDER BY type, position LIMIT $2) AS e
ORDER BY e.position LIMIT $2"""


async def fetch_events(
    conn: Executor,
    *,
    after: int,
    limit: int,
    types: Sequence[str] | None = None,
    up_to: int | None = None,
) -> list[RecordedEvent]:
    """Events with `after` < position (<= `up_to`), in position order, of `types` if given."""
    args: list[Any] = [after, limit]
    if up_to is not None:
        args.append(up_to)
    if types is not None:
        args.append(list(dict.fromkeys(types)))
    query = events_query(types=types is not None, up_to=up_to is not None)
    return [RecordedEvent(*row) for row in await conn.fetch(query, *args)]


async def fetch_stream(
    conn: Executor, stream_id: str, *, after_version: int = 0, known_at: datetime | None = None
) -> list[RecordedEvent]:
    """The stream's events after `after_version`, in version order (recorded by `known_at`)."""
    query = f"SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND version > $2"
    args: list[Any] = [stream_id, after_version]
    if known_at is not None:
        query += " AND recorded_at <= $3"
        args.append(known_at)
    rows = await conn.fetch(query + " ORDER BY version", *args)
    return [RecordedEvent(*row) for row in rows]


async def fetch_streams(conn: Executor, after: Mapping[str, int]) -> dict[str, list[RecordedEvent]]:
    """For each stream id, its events after the version given, in version order, in one read."""
    found: dict[str, list[RecordedEvent]] = {stream_id: [] for stream_id in after}
    if not after:
        return found
    for row in await conn.fetch(_STREAMS_AFTER, list(after), list(after.values())):
        found[row[2]].append(RecordedEvent(*row))
    return found


async def fetch_event(conn: Executor, event_id: UUID) -> RecordedEvent | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM events WHERE event_id = $1", event_id)
    return None if row is None else RecordedEvent(*row)


async def fetch_by_ids(conn: Executor, ids: Iterable[UUID]) -> list[RecordedEvent]:
    """The stored events among `ids`, in position order."""
    return [RecordedEvent(*row) for row in await conn.fetch(_BY_IDS, list(ids))]
