"""The event store on PostgreSQL (asyncpg).

How an append stays correct, in one place:

1. ``SELECT ... FROM event_head FOR UPDATE`` takes the one head row's lock.  Every append
   does this first, so appends run one at a time, and the lock is held until COMMIT.  In READ
   COMMITTED, a ``FOR UPDATE`` that had to wait returns the row as the previous appender
   committed it, so the next position and the previous hash are always current.
   https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED
2. Only *after* that, in a new statement (so with a new snapshot that includes everything the
   previous appender committed), the stream's version and the event ids are checked.  Folding
   this check into statement 1 would be wrong: a statement's snapshot is taken when it
   starts, before it waited for the lock, and it would miss the events it waited for.
3. The events and the new head go in with one statement, and the transaction commits.

Why this closes the commit-order gap by construction: position p + 1 is handed out only to a
transaction that has seen p's transaction commit (it waited for the lock p's transaction
held to its end), so positions become visible in order and a reader tailing
``position > n`` can never see p + 1 before p.  PostgreSQL releases row locks after the
commit is visible to other sessions (``ProcArrayEndTransaction`` runs before locks are
released in ``CommitTransaction``), so "lock acquired" implies "predecessor visible".
Positions are dense because they come from the head row, not a sequence: a rolled-back append
rolls the head back too.  No gap timeouts are needed.  The price is one appender at a time;
docs/scaling.md measures that limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg
from msgspec.structs import astuple

from events.append import check_request, check_version, match_retry, result_of, seal
from events.store import AppendResult, EventStore, Head, RecordedEvent, utc_now

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from events.store import NewEvent

__all__ = [
    "NOTIFY_CHANNEL",
    "PostgresEventStore",
    "connect",
    "create_pool",
    "fetch_events",
    "fetch_head",
    "init_connection",
]

NOTIFY_CHANNEL = "ledger_events"

_COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version,"
    " data, metadata, recorded_at, prev_hash, hash"
)

_LOCK_HEAD = "SELECT position, hash, recorded_at FROM event_head FOR UPDATE"

_STREAM_STATE = """
SELECT coalesce((SELECT max(version) FROM events WHERE stream_id = $1), 0),
       EXISTS (SELECT 1 FROM events WHERE event_id = ANY($2::uuid[]))
"""

_INSERT = f"""
WITH inserted AS (
    INSERT INTO events ({_COLUMNS})
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[],
                         $6::int[], $7::json[], $8::json[], $9::timestamptz[],
                         $10::bytea[], $11::bytea[])
)
UPDATE event_head SET position = $12, hash = $13, recorded_at = $14
"""

_BY_IDS = f"SELECT {_COLUMNS} FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY position"


async def init_connection(conn: asyncpg.Connection) -> None:
    """Pass `json` columns through as raw bytes in both directions: the store hashes the exact
    bytes it writes, and decoding is msgspec's job, not the driver's."""
    await conn.set_type_codec(
        "json", schema="pg_catalog", encoder=bytes, decoder=bytes, format="binary"
    )


async def connect(dsn: str, **kwargs: Any) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, **kwargs)
    await init_connection(conn)
    return conn


def create_pool(dsn: str, **kwargs: Any) -> asyncpg.Pool:
    """A pool whose connections all carry the store's codecs (`async with create_pool(...)`)."""
    return asyncpg.create_pool(dsn, init=init_connection, **kwargs)


async def fetch_head(conn: asyncpg.Connection) -> Head:
    row = await conn.fetchrow("SELECT position, hash FROM event_head")
    assert row is not None, "event_head has its row from the first migration"
    return Head(position=row[0], hash=row[1])


async def fetch_events(
    conn: asyncpg.Connection,
    *,
    after: int,
    limit: int,
    types: Sequence[str] | None = None,
    up_to: int | None = None,
) -> list[RecordedEvent]:
    """Events with `after` < position (<= `up_to`), in position order."""
    query = f"SELECT {_COLUMNS} FROM events WHERE position > $1"
    args: list[Any] = [after]
    if up_to is not None:
        args.append(up_to)
        query += f" AND position <= ${len(args)}"
    if types is not None:
        args.append(list(types))
        query += f" AND type = ANY(${len(args)}::text[])"
    args.append(limit)
    query += f" ORDER BY position LIMIT ${len(args)}"
    return [RecordedEvent(*row) for row in await conn.fetch(query, *args)]


class PostgresEventStore(EventStore):
    def __init__(self, pool: asyncpg.Pool, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._pool = pool
        self._clock = clock

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        *,
        expected_version: int | None,
    ) -> AppendResult:
        check_request(stream_id, events, expected_version)
        ids = [e.event_id for e in events]
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                head = await conn.fetchrow(_LOCK_HEAD)
                version, seen = await conn.fetchrow(_STREAM_STATE, stream_id, ids)
                if not seen:
                    check_version(stream_id, expected_version, version)
                    sealed = seal(
                        stream_id,
                        events,
                        head_position=head["position"],
                        head_hash=head["hash"],
                        stream_version=version,
                        # Never earlier than the last event: `known_at` cut-offs and the
                        # position order must agree even if the clock steps back.
                        recorded_at=max(self._clock(), head["recorded_at"]),
                    )
                    await self._insert(conn, sealed)
                    return result_of(sealed, created=True)
            # Some ids were stored before: answer as a retry, outside the lock.
            return match_retry(stream_id, events, await self._by_ids(conn, ids))

    @staticmethod
    async def _insert(conn: asyncpg.Connection, sealed: list[RecordedEvent]) -> None:
        # A data-modifying CTE always runs to completion, so one round trip writes both.
        columns = zip(*(astuple(e) for e in sealed), strict=True)
        last = sealed[-1]
        await conn.execute(_INSERT, *columns, last.position, last.hash, last.recorded_at)

    @staticmethod
    async def _by_ids(conn: asyncpg.Connection, ids: list[UUID]) -> list[RecordedEvent]:
        return [RecordedEvent(*row) for row in await conn.fetch(_BY_IDS, ids)]

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, known_at: datetime | None = None
    ) -> list[RecordedEvent]:
        query = f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2"
        args: list[Any] = [stream_id, after_version]
        if known_at is not None:
            query += " AND recorded_at <= $3"
            args.append(known_at)
        rows = await self._pool.fetch(query + " ORDER BY version", *args)
        return [RecordedEvent(*row) for row in rows]

    async def read_all(
        self, *, after: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        async with self._pool.acquire() as conn:
            return await fetch_events(conn, after=after, limit=limit, types=types)

    async def find(self, event_id: UUID) -> RecordedEvent | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM events WHERE event_id = $1", event_id
        )
        return None if row is None else RecordedEvent(*row)

    async def head(self) -> Head:
        async with self._pool.acquire() as conn:
            return await fetch_head(conn)
