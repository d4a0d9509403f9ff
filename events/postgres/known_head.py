"""The known-head path: a batch in one round trip, planned on the head this store last left.

The locked transaction (events/postgres/store.py) costs five round trips (BEGIN, lock,
state, INSERT, COMMIT), and for a lone writer, who waits for each append before the next,
those are most of the time.  But a store that committed the last transaction knows the head
it left, and a writer states the version it expects its stream at.  So, when the store knows
the head and every request of the batch gives its expected version, the batch is first
planned on that knowledge alone: the known head, each stream at the version its first
request expects, none of the event ids stored.  If every request succeeds in that plan, the
sealed rows go to ``events_append_if_head`` (migrations/0010_append_if_head.sql) in one
autocommit call: it takes the same head lock, and writes the rows only if the head is still
the known one, every stream is at the assumed version and no id is stored (checked in a
statement that starts after the lock was granted, so it sees every committed append, as the
locked path's second step does).  Then the plan was made from exactly the state the locked
path would have read, so the rows, positions, hashes and answers are exactly the ones it
would have produced; and the call's commit is the transaction's, so nothing is acknowledged
before it is durable.  If any assumption fails (another process appended, a stale expected
version, an exact retry), the function writes nothing and the batch takes the locked path,
which answers from the state it reads.  A refusal (conflict, duplicate) is never answered
from the guess: a batch whose guessed plan refuses anything takes the locked path.  After a
miss the next few batches go straight to the locked path (2, 4, ... up to 64: events/backoff.py
`KNOWN_HEAD_SKIPS`), so two processes appending all the time pay little for guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from msgspec.structs import astuple

from events.append import Batch, Outcome
from events.backoff import KNOWN_HEAD_SKIPS, Backoff
from events.postgres.coalescing import Request, succeeded
from events.postgres.reads import Executor
from events.store import EventStoreError, RecordedEvent

__all__ = ["Known", "KnownHead"]

_APPEND_IF_HEAD = (
    "SELECT events_append_if_head($1, $2, $3::text[], $4::int[], $5::uuid[], $6::bigint[],"
    " $7::uuid[], $8::text[], $9::int[], $10::text[], $11::int[], $12::json[], $13::json[],"
    " $14::timestamptz[], $15::bytea[], $16::bytea[])"
)


class Known(NamedTuple):
    """The head as this store's last transaction left it."""

    position: int
    hash: bytes
    recorded_at: datetime

    @classmethod
    def after(cls, last: RecordedEvent) -> Known:
        return cls(last.position, last.hash, last.recorded_at)


class KnownHead:
    """What one store knows of the head, and whether the next batch should guess on it."""

    def __init__(self, clock: Callable[[], datetime], *, skips: Backoff = KNOWN_HEAD_SKIPS) -> None:
        self._clock = clock
        self._skips = skips
        """After the n-th miss in a row, `skips.delay(n)` batches take the locked path at once
        (another process is appending: the guess would miss again)."""
        self.known: Known | None = None
        self._misses = 0
        self._skip = 0

    def left(self, known: Known) -> None:
        """The head a committed transaction of this store left."""
        self.known = known

    def worth_trying(self) -> Known | None:
        """The known head if the next batch should be guessed on it (counts a skipped one)."""
        if self._skip:
            self._skip -= 1
            return None
        return self.known

    async def flush(
        self, conn: Executor, batch: list[Request], known: Known
    ) -> list[list[Outcome] | EventStoreError] | None:
        """The batch in one round trip, if the head and the streams are as this process last
        left them (see the module docstring); None if it could not be planned or written so."""
        outcomes = await self._flush(conn, batch, known)
        if outcomes is None:
            self._misses += 1
            self._skip = round(self._skips.delay(self._misses))
        else:
            self._misses = 0
        return outcomes

    async def _flush(
        self, conn: Executor, batch: list[Request], known: Known
    ) -> list[list[Outcome] | EventStoreError] | None:
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
        outcomes = [request.plan(plan) for request in batch]
        if not plan.sealed or not all(succeeded(outcome) for outcome in outcomes):
            return None  # a refusal is only ever answered from the state read under the lock
        ids = [e.event_id for r in batch for item in r.items for e in item[1]]
        columns = zip(*(astuple(e) for e in plan.sealed), strict=True)
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
            self.known = None
            return None
        self.known = Known.after(plan.sealed[-1])
        return outcomes
