"""The projection engine: brings read models up to date with the log, exactly once.

A projection is a name, the event types it handles, the tables it owns, and an `apply` that
writes a batch of events into those tables on a connection it is given.  The engine owns the
transactions:

* One batch = one transaction: read the checkpoint, read the next events (never past the head
  as committed at that moment, so never past an event that is not yet visible), `apply`, then
  advance the checkpoint with a compare-and-set on its old value.  If another runner moved it
  meanwhile the CAS matches no row, the transaction rolls back, and the read model is as if
  the batch never happened.  Read model and checkpoint are therefore always in step.
* One active runner per projection: a runner works only while it holds a session advisory
  lock on a dedicated connection (`pg_try_advisory_lock`).  Others stand by and retry; if the
  active one dies its connection closes, the lock is freed, and a standby takes over.  The CAS
  above is the second line of defence if a runner keeps working after losing its lock.
* Wake-up: LISTEN on the store's channel (NOTIFY is sent by the append's commit), with a
  polling fallback every `poll_interval`, so a missed notification costs latency, not data.
* Rebuild: truncate the tables and reset the checkpoint to zero in one transaction, marking
  the row `rebuild_started_at`; then catch up in batches as usual.  A rebuild that is killed
  keeps its last committed checkpoint and the mark, and the next rebuild resumes from there.
* Faults: every database call is bounded.  A connection is opened with a connect timeout and
  a default `command_timeout` (asyncpg applies it to every execute/fetch/executemany, COMMIT
  and ROLLBACK included, and to the cancel request it sends on a timeout), and a whole batch
  is bounded too, so a connection that dies mid-write (a restart of PostgreSQL) ends in an
  error, never in a wait forever.  `run` treats *any* error the same way
  (events/supervise.py): drop the connection (`terminate`, which does not wait on a dead
  socket), back off (events/backoff.py `PROJECTION_RECONNECT`: capped, exponential), and
  start over with a fresh connection, lock and LISTEN.  It logs a warning when a runner
  starts failing and one info line when it recovers, and keeps the count and the last error
  for /health and /metrics.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import asyncpg
import msgspec

from events.backoff import PROJECTION_RECONNECT
from events.postgres.connection import connect
from events.postgres.reads import NOTIFY_CHANNEL, fetch_events, fetch_head
from events.supervise import Supervisor, sleep_unless
from events.timeouts import BATCH_TIMEOUT, CLOSE_TIMEOUT, CONNECT_TIMEOUT, WORKER_STATEMENT_TIMEOUT

if TYPE_CHECKING:
    from datetime import datetime

    from events.connections import Conn
    from events.store import RecordedEvent

__all__ = [
    "Checkpoint",
    "CheckpointMoved",
    "Projection",
    "ProjectionRunner",
    "peek_checkpoint",
    "read_checkpoint",
]

_log = logging.getLogger(__name__)
_LOCK_CLASS = 0x4345  # first key of the two-key advisory lock: "projection runners"


Progress = Callable[[int, int], None]
"""Called after each batch with (checkpoint position, head position)."""


class Projection(Protocol):
    name: str
    handles: frozenset[str] | None
    """Event types the projection reads; None for every type."""
    tables: tuple[str, ...]
    """Tables it owns, emptied by a rebuild."""

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        """Write the effect of `events` (in position order) using `conn`, inside the engine's
        transaction.  Must be deterministic: a rebuild has to reproduce the same rows."""
        ...


class Checkpoint(msgspec.Struct, frozen=True):
    position: int
    rebuild_started_at: datetime | None


class CheckpointMoved(Exception):
    """Another runner advanced the checkpoint first; this batch was rolled back."""


async def read_checkpoint(conn: asyncpg.Connection, name: str) -> Checkpoint:
    await conn.execute(
        "INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING", name
    )
    row = await conn.fetchrow(
        "SELECT position, rebuild_started_at FROM projection_checkpoints WHERE name = $1", name
    )
    assert row is not None, "inserted just above"
    return Checkpoint(row[0], row[1])


async def peek_checkpoint(conn: Conn, name: str) -> Checkpoint:
    """The checkpoint as it is, without writing (a projection never run is at 0): what a read
    may ask on a read replica, where `read_checkpoint`'s INSERT is refused."""
    row = await conn.fetchrow(
        "SELECT position, rebuild_started_at FROM projection_checkpoints WHERE name = $1", name
    )
    return Checkpoint(0, None) if row is None else Checkpoint(row[0], row[1])


_ADVANCE = """
UPDATE projection_checkpoints
SET position = $2,
    updated_at = now(),
    rebuild_started_at = CASE WHEN $3 THEN NULL ELSE rebuild_started_at END
WHERE name = $1 AND position = $4
"""


class ProjectionRunner:
    def __init__(
        self,
        dsn: str,
        projection: Projection,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        command_timeout: float = WORKER_STATEMENT_TIMEOUT,
        batch_timeout: float = BATCH_TIMEOUT,
    ) -> None:
        self.dsn = dsn
        self.projection = projection
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.command_timeout = command_timeout
        self.batch_timeout = batch_timeout
        self.position = 0
        """The checkpoint as of the last batch this runner committed or saw."""
        self.supervisor = Supervisor(
            f"projection {projection.name}", PROJECTION_RECONNECT, logger=_log
        )
        """The failures of `run`: `failures` in a row (0 while it works), `last_error` and
        `last_error_at` (Unix seconds; kept after a recovery)."""

    async def _connect(self) -> asyncpg.Connection:
        return await connect(
            self.dsn, timeout=CONNECT_TIMEOUT, command_timeout=self.command_timeout
        )

    # -- one batch ------------------------------------------------------------------------

    async def step(self, conn: asyncpg.Connection) -> bool:
        """Project one batch in one transaction.  True if the head was not reached."""
        name = self.projection.name
        async with conn.transaction():
            checkpoint = await read_checkpoint(conn, name)
            head = (await fetch_head(conn)).position
            if checkpoint.position >= head and checkpoint.rebuild_started_at is None:
                self.position = checkpoint.position
                return False
            events = await fetch_events(
                conn,
                after=checkpoint.position,
                limit=self.batch_size,
                types=None if self.projection.handles is None else sorted(self.projection.handles),
                up_to=head,
            )
            # A short batch means nothing handled lies between its last event and the head.
            done = len(events) < self.batch_size
            new_position = head if done else events[-1].position
            if events:
                await self.projection.apply(conn, events)
            status = await conn.execute(_ADVANCE, name, new_position, done, checkpoint.position)
            if status != "UPDATE 1":
                raise CheckpointMoved(name)
        self.position = new_position
        return not done

    async def catch_up(self, conn: asyncpg.Connection, progress: Progress | None = None) -> int:
        """Run batches until the head (as seen by each batch) is reached; return the checkpoint."""
        while True:
            try:
                async with asyncio.timeout(self.batch_timeout):
                    more = await self.step(conn)
            except CheckpointMoved:
                _log.warning("projection %s: checkpoint moved under us", self.projection.name)
                more = True
            if progress is not None:
                progress(self.position, (await fetch_head(conn)).position)
            if not more:
                return self.position

    # -- exclusivity --------------------------------------------------------------------

    async def try_lock(self, conn: asyncpg.Connection) -> bool:
        return bool(
            await conn.fetchval(
                "SELECT pg_try_advisory_lock($1, hashtext($2))", _LOCK_CLASS, self.projection.name
            )
        )

    # -- rebuild ------------------------------------------------------------------------

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Empty the read model and start over from position 0, in one transaction."""
        async with conn.transaction():
            await read_checkpoint(conn, self.projection.name)
            for table in self.projection.tables:
                await conn.execute(f"TRUNCATE {table}")
            await conn.execute(
                "UPDATE projection_checkpoints SET position = 0, rebuild_started_at = now(),"
                " updated_at = now() WHERE name = $1",
                self.projection.name,
            )

    async def rebuild(self, *, restart: bool = False, progress: Progress | None = None) -> int:
        """Rebuild from zero, or resume a rebuild that was interrupted (unless `restart`).

        If another process is the active runner (a live server), the reset is still done
        here and that runner does the catching up; this call follows its progress."""
        conn = await self._connect()
        try:
            checkpoint = await read_checkpoint(conn, self.projection.name)
            resume = not restart and checkpoint.rebuild_started_at is not None
            active = await self.try_lock(conn)
            if not resume:
                await self.reset(conn)
            if active:
                return await self.catch_up(conn, progress)
            return await self._follow(conn, progress)
        finally:
            await _close(conn)

    async def catch_up_or_follow(self) -> int:
        """Bring the projection up to the current head: do it here if no other process is the
        active runner, else wait for that runner to get there."""
        conn = await self._connect()
        try:
            if await self.try_lock(conn):
                return await self.catch_up(conn)
            return await self._follow(conn, None)
        finally:
            await _close(conn)

    async def _follow(self, conn: asyncpg.Connection, progress: Progress | None) -> int:
        target = (await fetch_head(conn)).position
        while True:
            checkpoint = await read_checkpoint(conn, self.projection.name)
            self.position = checkpoint.position
            if progress is not None:
                progress(checkpoint.position, max(target, checkpoint.position))
            if checkpoint.rebuild_started_at is None and checkpoint.position >= target:
                return checkpoint.position
            await asyncio.sleep(min(self.poll_interval, 0.2))

    # -- the long-running loop ----------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Be the active runner when the lock is free, a standby otherwise, until `stop`.
        Any error (a lost connection, a timeout, a bug in a projection) is counted, logged
        once per outage, and retried after a capped exponential pause; nothing is lost
        because the next attempt resumes from the committed checkpoint."""
        await self.supervisor.run(lambda: self._serve(stop), stop)

    @property
    def failures(self) -> int:
        return self.supervisor.failures

    @property
    def last_error(self) -> str | None:
        return self.supervisor.last_error

    @property
    def last_error_at(self) -> float | None:
        return self.supervisor.last_error_at

    async def _serve(self, stop: asyncio.Event) -> None:
        wake = asyncio.Event()
        conn = await self._connect()
        try:
            # A connection that dies while the runner waits wakes it, to fail and reconnect.
            conn.add_termination_listener(lambda _: wake.set())
            while not await self.try_lock(conn):
                self.supervisor.working()  # a standby that can reach the database is healthy
                if await sleep_unless(stop, self.poll_interval):
                    return
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_: wake.set())
            while not stop.is_set():
                wake.clear()
                await self.catch_up(conn)
                self.supervisor.working()
                await _wait_any(stop, wake, self.poll_interval)
        finally:
            await _close(conn)


async def _close(conn: asyncpg.Connection) -> None:
    """Close politely if the server answers within a second, else drop the socket."""
    try:
        await conn.close(timeout=CLOSE_TIMEOUT)
    except asyncio.CancelledError:
        conn.terminate()
        raise
    except Exception:
        conn.terminate()


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
