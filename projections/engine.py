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
  error, never in a wait forever.  `run` treats *any* error the same way: drop the
  connection (`terminate`, which does not wait on a dead socket), back off (capped,
  exponential), and start over with a fresh connection, lock and LISTEN.  It logs a warning
  when a runner starts failing and one info line when it recovers, and keeps the count and
  the last error for /health and /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import asyncpg
import msgspec

from events.postgres import NOTIFY_CHANNEL, connect, fetch_events, fetch_head

if TYPE_CHECKING:
    from datetime import datetime

    from events.connections import Conn
    from events.store import RecordedEvent

__all__ = [
    "BACKOFF_MAX",
    "BATCH_TIMEOUT",
    "COMMAND_TIMEOUT",
    "CONNECT_TIMEOUT",
    "Checkpoint",
    "CheckpointMoved",
    "Projection",
    "ProjectionRunner",
    "peek_checkpoint",
    "read_checkpoint",
]

_log = logging.getLogger(__name__)
_LOCK_CLASS = 0x4345  # first key of the two-key advisory lock: "projection runners"

CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection (TCP or unix socket, start-up and authentication)."""
COMMAND_TIMEOUT = 5.0
"""Seconds any one statement may take, COMMIT included; far above a healthy batch's (a few
milliseconds), and short enough that a statement stuck on a connection the server dropped
without a word (seen with `pg_ctl -m immediate` under load) gives up well within the 10 s
the projections have to reach the head after the database returns."""
BATCH_TIMEOUT = 120.0
"""Seconds a whole batch (one transaction) may take, whatever it waits on."""
BACKOFF_FIRST = 0.25
BACKOFF_MAX = 5.0
"""Pauses between attempts of a failing runner: 0.25 s, doubled each time, at most 5 s."""

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
        command_timeout: float = COMMAND_TIMEOUT,
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
        self.failures = 0
        """Consecutive failed attempts of `run` (0 while it works)."""
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        """The last error `run` met, and when (Unix seconds); kept after a recovery."""
        self._failing_since: float | None = None

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
        while not stop.is_set():
            try:
                await self._serve(stop)
            except Exception as exc:
                self._failed(exc)
                if await _sleep_unless(stop, self._backoff()):
                    return

    def _backoff(self) -> float:
        return min(BACKOFF_FIRST * 2.0 ** (self.failures - 1), BACKOFF_MAX)

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        self.last_error, self.last_error_at = f"{type(exc).__name__}: {exc}"[:500], time.time()
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            _log.warning(
                "projection %s stopped: %s; retrying with backoff",
                self.projection.name,
                self.last_error,
            )
        else:
            _log.debug("projection %s: still failing: %s", self.projection.name, self.last_error)

    def _working(self) -> None:
        if self._failing_since is not None:
            _log.info(
                "projection %s recovered after %d failed attempts in %.1f s",
                self.projection.name,
                self.failures,
                time.monotonic() - self._failing_since,
            )
        self.failures, self._failing_since = 0, None

    async def _serve(self, stop: asyncio.Event) -> None:
        wake = asyncio.Event()
        conn = await self._connect()
        try:
            # A connection that dies while the runner waits wakes it, to fail and reconnect.
            conn.add_termination_listener(lambda _: wake.set())
            while not await self.try_lock(conn):
                self._working()  # a standby that can reach the database is healthy
                if await _sleep_unless(stop, self.poll_interval):
                    return
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_: wake.set())
            while not stop.is_set():
                wake.clear()
                await self.catch_up(conn)
                self._working()
                await _wait_any(stop, wake, self.poll_interval)
        finally:
            await _close(conn)


async def _close(conn: asyncpg.Connection) -> None:
    """Close politely if the server answers within a second, else drop the socket."""
    try:
        await conn.close(timeout=1)
    except asyncio.CancelledError:
        conn.terminate()
        raise
    except Exception:
        conn.terminate()


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if `stop` was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
