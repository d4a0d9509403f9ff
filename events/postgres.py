"""The event store on PostgreSQL (asyncpg), with commit coalescing.

How an append stays correct, in one place:

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

**Coalescing.**  Holding the head lock across its own COMMIT means one durable flush per
transaction, whatever the number of writers.  So a store does not run one transaction per
append: `append` and `append_many` put their request in a queue and wait, and one flusher
task per store (on the event loop) takes everything queued, runs it as *one* transaction of
the three steps above, and answers every waiter.  While that transaction waits for its
flush, new requests queue up and become the next batch: under load, batches grow by
themselves, and an idle store answers a lone append at once (no timer, no added latency).
Inside the transaction, `events.append.Batch` plans the requests in queue order, each exactly
as if it ran alone right after the ones before it: its own expected-version check against the
versions left by the earlier requests (two appends to one stream each see the other's
effect), its own idempotency answer (an exact retry gets the original positions with
``created=False``, other content DuplicateEventId, also when the original is earlier in the
same batch), positions and hashes continuing from the previous request.  Everything is
checked before the single INSERT, so a request that conflicts or is a duplicate simply
contributes no rows: it fails alone, its batch-mates commit, and no savepoint is needed.
The INSERT itself cannot then fail on a unique key, because the checks ran under the lock on
a snapshot that includes every committed append.

Nothing is acknowledged before COMMIT returns: each waiter's future is resolved only after
the transaction has committed (for a success, that is its durability), and if the
transaction fails at any step, including the COMMIT, every waiter of that batch gets that
error, and none of them is told "stored".  (As with any database client, an error during
COMMIT leaves the outcome unknown; an exact retry then answers it, idempotently.)  A caller
that is cancelled while queued is dropped from the batch; one cancelled after its batch was
taken may still be committed, as a plain append cancelled during COMMIT could.  Appends from
other processes, each with its own flusher, still meet at the head lock, so everything above
holds across processes too.

**The known-head path.**  The transaction above costs five round trips (BEGIN, lock, state,
INSERT, COMMIT), and for a lone writer, who waits for each append before the next, those are
most of the time.  But a store that committed the last transaction knows the head it left,
and a writer states the version it expects its stream at.  So, when the store knows the head
and every request of the batch gives its expected version, the batch is first planned on
that knowledge alone: the known head, each stream at the version its first request expects,
none of the event ids stored.  If every request succeeds in that plan, the sealed rows go to
``events_append_if_head`` (migrations/0010_append_if_head.sql) in one autocommit call: it
takes the same head lock, and writes the rows only if the head is still the known one, every
stream is at the assumed version and no id is stored (checked in a statement that starts
after the lock was granted, so it sees every committed append, as step 2 does).  Then the
plan was made from exactly the state the locked path would have read, so the rows, positions,
hashes and answers are exactly the ones it would have produced; and the call's commit is the
transaction's, so nothing is acknowledged before it is durable.  If any assumption fails (another
process appended, a stale expected version, an exact retry), the function writes nothing and
the batch takes the locked path, which answers from the state it reads.  A refusal (conflict,
duplicate) is never answered from the guess: a batch whose guessed plan refuses anything takes
the locked path.  After a miss the next few batches go straight to the locked path (2, 4, ...
up to 64), so two processes appending all the time pay little for guessing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import asyncpg
from msgspec.structs import astuple

from events.append import Batch, Outcome, check_items
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

    from events.connections import Conn


__all__ = [
    "NOTIFY_CHANNEL",
    "TYPES_CHANNEL",
    "PostgresEventStore",
    "connect",
    "create_pool",
    "events_query",
    "fetch_events",
    "fetch_head",
    "init_connection",
    "keep_session",
]

NOTIFY_CHANNEL = "ledger_events"
TYPES_CHANNEL = "ledger_event_types"
"""Each append's last position and the types it stored (migrations/0012_notify_event_types.sql)."""

_COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version,"
    " data, metadata, recorded_at, prev_hash, hash"
)

_LOCK_HEAD = "SELECT position, hash, recorded_at FROM event_head FOR UPDATE"

# The versions of the batch's streams, in the order given, and which of its ids are stored.
_BATCH_STATE = """
SELECT array(SELECT coalesce((SELECT max(version) FROM events WHERE stream_id = u.s), 0)
             FROM unnest($1::text[]) WITH ORDINALITY AS u(s, n) ORDER BY u.n),
       array(SELECT event_id FROM events WHERE event_id = ANY($2::uuid[]))
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

_APPEND_IF_HEAD = (
    "SELECT events_append_if_head($1, $2, $3::text[], $4::int[], $5::uuid[], $6::bigint[],"
    " $7::uuid[], $8::text[], $9::int[], $10::text[], $11::int[], $12::json[], $13::json[],"
    " $14::timestamptz[], $15::bytea[], $16::bytea[])"
)

# After a miss of the known-head path, the next 2, 4, ... up to this many batches take the
# locked path straight away (another process is appending: the guess would miss again).
_MAX_SKIP = 64

_BY_IDS = f"SELECT {_COLUMNS} FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY position"

# One index range scan of (stream_id, version) per stream: LATERAL keeps the planner from
# joining the whole table against the list.
_STREAMS_AFTER = f"""
SELECT e.* FROM unnest($1::text[], $2::int[]) AS t(s, v)
CROSS JOIN LATERAL (SELECT {_COLUMNS} FROM events
                    WHERE stream_id = t.s AND version > t.v ORDER BY version) AS e
"""


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
    """A pool whose connections all carry the store's codecs (`async with create_pool(...)`),
    released without the reset query (`keep_session`) unless `reset` is given."""
    kwargs.setdefault("reset", keep_session)
    return asyncpg.create_pool(dsn, init=init_connection, **kwargs)


async def keep_session(conn: asyncpg.Connection) -> None:
    """A pool's reset on release that adds nothing to what asyncpg always does there (roll
    back a transaction left open, drop the connection's listeners).  asyncpg's default also
    sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every
    release, one more round trip per pool use, for session state that nothing using these
    pools leaves on a pooled connection: the store's statements set none, the API's advisory
    locks are transaction-level (pg_advisory_xact_lock), and LISTEN, the projectors' session
    locks and the migrator's lock live on connections of their own.  Code that needs session
    state must take a connection of its own, not one of a pool's.
    https://magicstack.github.io/asyncpg/current/api/index.html#asyncpg.pool.create_pool"""


async def fetch_head(conn: Conn) -> Head:
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
        return (
            f"SELECT {_COLUMNS} FROM events WHERE position > $1{bound} ORDER BY position LIMIT $2"
        )
    upper = "$3" if up_to else str(2**63 - 1)
    return f"""SELECT e.* FROM unnest(${4 if up_to else 3}::text[]) AS t(type)
CROSS JOIN LATERAL (SELECT {_COLUMNS} FROM events
                    WHERE (type, position) > (t.type, $1)
                      AND (type, position) <= (t.type, {upper}::bigint)
                    ORDER BY type, position LIMIT $2) AS e
ORDER BY e.position LIMIT $2"""


async def fetch_events(
    conn: asyncpg.Connection,
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


class _Known(NamedTuple):
    """The head as this store's last transaction left it."""

    position: int
    hash: bytes
    recorded_at: datetime


def _succeeded(outcome: list[Outcome] | EventStoreError) -> bool:
    return not isinstance(outcome, EventStoreError) and not any(
        isinstance(o, EventStoreError) for o in outcome
    )


class _Request:
    """One queued `append` (a group of one, atomic) or `append_many`, and its waiter."""

    __slots__ = ("atomic", "future", "items", "size")

    def __init__(self, items: Sequence[AppendItem], atomic: bool) -> None:
        self.items = items
        self.atomic = atomic
        self.size = sum(len(item[1]) for item in items)
        self.future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()


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
        self._max_batch_events = max_batch_events
        self._queue: list[_Request] = []
        self._flusher: asyncio.Task[None] | None = None
        self._known: _Known | None = None
        self._misses = 0
        self._skip_known = 0
        self.flushes = 0
        """Transactions this store has committed (for tests and the benchmark)."""
        self.one_trip_flushes = 0
        """Of those, the ones written by the known-head path in one round trip."""

    async def append_many(
        self, items: Sequence[AppendItem], *, atomic: bool = False
    ) -> list[AppendResult | EventStoreError]:
        check_items(items)
        return await self._submit(items, atomic=atomic)

    async def _submit(self, items: Sequence[AppendItem], *, atomic: bool) -> list[Outcome]:
        request = _Request(items, atomic)
        self._queue.append(request)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_queue())
        return await request.future

    async def _flush_queue(self) -> None:
        """Run batches until the queue is empty; every request taken gets an answer."""
        while self._queue:
            batch = self._take_batch()
            if not batch:
                continue
            try:
                outcomes = await self._flush(batch)
            except Exception as error:
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(error)
                continue
            except BaseException:  # cancelled with the loop: so are the waiters
                for request in batch:
                    request.future.cancel()
                raise
            for request, outcome in zip(batch, outcomes, strict=True):
                if request.future.done():
                    continue
                if isinstance(outcome, EventStoreError):
                    request.future.set_exception(outcome)
                else:
                    request.future.set_result(outcome)

    def _take_batch(self) -> list[_Request]:
        """The oldest queued requests up to `max_batch_events` (at least one, never split),
        less those whose caller has gone."""
        taken, size = 0, 0
        for request in self._queue:
            if taken and size + request.size > self._max_batch_events:
                break
            taken, size = taken + 1, size + request.size
        batch, self._queue[:taken] = self._queue[:taken], []
        return [request for request in batch if not request.future.done()]

    async def _flush(self, batch: list[_Request]) -> list[list[Outcome] | EventStoreError]:
        if self._skip_known:
            self._skip_known -= 1
        elif self._known is not None:
            outcomes = await self._flush_on_known_head(batch, self._known)
            if outcomes is not None:
                self._misses = 0
                return outcomes
            self._misses += 1
            self._skip_known = min(2**self._misses, _MAX_SKIP)
        return await self._flush_locked(batch)

    async def _flush_on_known_head(
        self, batch: list[_Request], known: _Known
    ) -> list[list[Outcome] | EventStoreError] | None:
        """The batch in one round trip, if the head and the streams are as this process last
        left them (see the module docstring); None if it could not be planned or written so."""
        versions: dict[str, int] = {}
        for request in batch:
            for stream_id, _, expected in request.items:
                if expected is None:
                    return None  # its version is not known without reading it
                versions.setdefault(stream_id, expected)
        plan = Batch(
            head_position=known.position,
            head_hash=known.hash,
            recorded_at=max(self._clock(), known.recorded_at),
            versions=versions,
            stored={},
        )
        outcomes = [self._plan(plan, request) for request in batch]
        if not plan.sealed or not all(_succeeded(outcome) for outcome in outcomes):
            return None  # a refusal is only ever answered from the state read under the lock
        ids = [e.event_id for r in batch for item in r.items for e in item[1]]
        columns = zip(*(astuple(e) for e in plan.sealed), strict=True)
        async with self._pool.acquire() as conn:
            written = await conn.fetchval(
                _APPEND_IF_HEAD,
                known.position,
                known.hash,
                list(versions),
                list(versions.values()),
                ids,
                *columns,
            )
        if not written:
            self._known = None
            return None
        self.flushes += 1
        self.one_trip_flushes += 1
        last = plan.sealed[-1]
        self._known = _Known(last.position, last.hash, last.recorded_at)
        return outcomes

    async def _flush_locked(self, batch: list[_Request]) -> list[list[Outcome] | EventStoreError]:
        streams = list(dict.fromkeys(item[0] for r in batch for item in r.items))
        ids = [e.event_id for r in batch for item in r.items for e in item[1]]
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                head = await conn.fetchrow(_LOCK_HEAD)
                versions, seen = await conn.fetchrow(_BATCH_STATE, streams, ids)
                stored = await self._by_ids(conn, seen) if seen else []
                plan = Batch(
                    head_position=head["position"],
                    head_hash=head["hash"],
                    # Never earlier than the last event: `known_at` cut-offs and the
                    # position order must agree even if the clock steps back.
                    recorded_at=max(self._clock(), head["recorded_at"]),
                    versions=dict(zip(streams, versions, strict=True)),
                    stored={e.event_id: e for e in stored},
                )
                outcomes = [self._plan(plan, request) for request in batch]
                if plan.sealed:
                    await self._insert(conn, plan.sealed)
            self.flushes += 1
        if plan.sealed:
            last = plan.sealed[-1]
            self._known = _Known(last.position, last.hash, last.recorded_at)
        else:
            self._known = _Known(head["position"], head["hash"], head["recorded_at"])
        return outcomes

    @staticmethod
    def _plan(plan: Batch, request: _Request) -> list[Outcome] | EventStoreError:
        try:
            return plan.add(request.items, atomic=request.atomic)
        except EventStoreError as error:
            return error

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

    async def find_many(self, event_ids: Iterable[UUID]) -> dict[UUID, RecordedEvent]:
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return {}
        return {e.event_id: e for e in await self._by_ids(self._pool, ids)}

    async def read_streams(self, after: Mapping[str, int]) -> dict[str, list[RecordedEvent]]:
        found: dict[str, list[RecordedEvent]] = {stream_id: [] for stream_id in after}
        if not after:
            return found
        rows = await self._pool.fetch(_STREAMS_AFTER, list(after), list(after.values()))
        for row in rows:
            found[row[2]].append(RecordedEvent(*row))
        return found

    async def head(self) -> Head:
        async with self._pool.acquire() as conn:
            return await fetch_head(conn)
