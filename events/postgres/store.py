"""The event store on PostgreSQL (asyncpg): the adapter, and how an append stays correct.

1. ``SELECT ... FROM event_head FOR UPDATE`` takes the one head row's lock.  Every append
   transaction does this first, so they run one at a time, and the lock is held until
   COMMIT.  In READ COMMITTED, a ``FOR UPDATE`` that had to wait returns the row as the
   previous appender committed it, so the next position and the previous hash are current.
   https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED
2. Only *after* that, in a new statement (so with a new snapshot that includes everything the
   previous appender committed), the streams' versions and the event ids are read.  Folding
   this into statement 1 would be wrong: a statement's snapshot is taken when it starts,
   before it waited for the lock, and it would miss the events it waited for.
3. The events and the new head go in with one statement, and the transaction commits.

Why this closes the commit-order gap by construction: position p + 1 is handed out only to a
transaction that has seen p's transaction commit (it waited for the lock p's transaction
held to its end), so positions become visible in order and a reader tailing
``position > n`` can never see p + 1 before p.  PostgreSQL releases row locks after the
commit is visible to other sessions (``ProcArrayEndTransaction`` runs before locks are
released in ``CommitTransaction``), so "lock acquired" implies "predecessor visible".
Positions are dense because they come from the head row, not a sequence: a rolled-back
transaction rolls the head back too.  No gap timeouts are needed.

A store does not run one such transaction per append: its appends are queued and run many
to a transaction (events/postgres/coalescing.py), planned by `events.append.Batch` with every
check done before the single INSERT, which therefore cannot fail on a unique key (the checks
ran under the lock on a snapshot that includes every committed append).  And a batch planned
on the head this store last left is first tried in one round trip
(events/postgres/known_head.py).  Appends from other processes, each with its own
scheduler, still meet at the head lock, so everything above holds across processes too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg
from msgspec.structs import astuple

from events.append import Batch, Outcome, check_items
from events.postgres.coalescing import CommitScheduler, Request
from events.postgres.known_head import Known, KnownHead
from events.postgres.reads import (
    COLUMNS,
    Executor,
    fetch_by_ids,
    fetch_event,
    fetch_events,
    fetch_head,
    fetch_stream,
    fetch_streams,
)
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
    from uuid import UUID


__all__ = ["PostgresEventStore"]

_LOCK_HEAD = "SELECT position, hash, recorded_at FROM event_head FOR UPDATE"

# The versions of the batch's streams, in the order given, and which of its ids are stored.
_BATCH_STATE = """
SELECT array(SELECT coalesce((SELECT max(version) FROM events WHERE stream_id = u.s), 0)
             FROM unnest($1::text[]) WITH ORDINALITY AS u(s, n) ORDER BY u.n),
       array(SELECT event_id FROM events WHERE event_id = ANY($2::uuid[]))
"""

_INSERT = f"""
WITH inserted AS (
    INSERT INTO events ({COLUMNS})
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[],
                         $6::int[], $7::json[], $8::json[], $9::timestamptz[],
                         $10::bytea[], $11::bytea[])
)
UPDATE event_head SET position = $12, hash = $13, recorded_at = $14
"""


class PostgresEventStore(EventStore):
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        clock: Callable[[], datetime] = utc_now,
        max_batch_events: int = 5000,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._scheduler = CommitScheduler(self._flush, max_batch_events=max_batch_events)
        self._head = KnownHead(clock)
        self.flushes = 0
        """Transactions this store has committed (for tests and the benchmark)."""
        self.one_trip_flushes = 0
        """Of those, the ones written by the known-head path in one round trip."""

    async def append_many(
        self, items: Sequence[AppendItem], *, atomic: bool = False
    ) -> list[AppendResult | EventStoreError]:
        check_items(items)
        return await self._scheduler.submit(items, atomic=atomic)

    async def _flush(self, batch: list[Request]) -> list[list[Outcome] | EventStoreError]:
        known = self._head.worth_trying()
        if known is not None:
            outcomes = await self._head.flush(self._pool, batch, known)
            if outcomes is not None:
                self.flushes += 1
                self.one_trip_flushes += 1
                return outcomes
        return await self._flush_locked(batch)

    async def _flush_locked(self, batch: list[Request]) -> list[list[Outcome] | EventStoreError]:
        """The batch as one transaction of the three steps in the module docstring."""
        streams = list(dict.fromkeys(item[0] for r in batch for item in r.items))
        ids = [e.event_id for r in batch for item in r.items for e in item[1]]
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                head = await conn.fetchrow(_LOCK_HEAD)
                assert head is not None, "event_head has its row from the first migration"
                state = await conn.fetchrow(_BATCH_STATE, streams, ids)
                assert state is not None, "a SELECT without FROM returns one row"
                versions, seen = state
                stored = await fetch_by_ids(conn, seen) if seen else []
                plan = Batch(
                    head_position=head["position"],
                    head_hash=head["hash"],
                    # Never earlier than the last event: `known_at` cut-offs and the
                    # position order must agree even if the clock steps back.
                    recorded_at=max(self._clock(), head["recorded_at"]),
                    versions=dict(zip(streams, versions, strict=True)),
                    stored={e.event_id: e for e in stored},
                )
                outcomes = [request.plan(plan) for request in batch]
                if plan.sealed:
                    await self._insert(conn, plan.sealed)
            self.flushes += 1
        if plan.sealed:
            self._head.left(Known.after(plan.sealed[-1]))
        else:
            self._head.left(Known(head["position"], head["hash"], head["recorded_at"]))
        return outcomes

    @staticmethod
    async def _insert(conn: Executor, sealed: list[RecordedEvent]) -> None:
        # A data-modifying CTE always runs to completion, so one round trip writes both.
        columns = zip(*(astuple(e) for e in sealed), strict=True)
        last = sealed[-1]
        await conn.execute(_INSERT, *columns, last.position, last.hash, last.recorded_at)

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, known_at: datetime | None = None
    ) -> list[RecordedEvent]:
        return await fetch_stream(
            self._pool, stream_id, after_version=after_version, known_at=known_at
        )

    async def read_all(
        self, *, after: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        async with self._pool.acquire() as conn:
            return await fetch_events(conn, after=after, limit=limit, types=types)

    async def find(self, event_id: UUID) -> RecordedEvent | None:
        return await fetch_event(self._pool, event_id)

    async def find_many(self, event_ids: Iterable[UUID]) -> dict[UUID, RecordedEvent]:
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return {}
        return {e.event_id: e for e in await fetch_by_ids(self._pool, ids)}

    async def read_streams(self, after: Mapping[str, int]) -> dict[str, list[RecordedEvent]]:
        return await fetch_streams(self._pool, after)

    async def head(self) -> Head:
        async with self._pool.acquire() as conn:
            return await fetch_head(conn)
