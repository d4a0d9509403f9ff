"""The tamper-evident hash chain over the log.

Each event's hash is SHA-256 over the previous event's hash and every stored field of the
event, with the payload and metadata taken as the exact bytes in the table.  Fields are
length-prefixed, so no choice of stream id or payload can make two different events hash
alike by shifting bytes from one field to the next.  Changing any stored byte of event p
changes hash(p); re-computing hash(p) to hide it breaks prev_hash(p + 1); so a verifier that
walks the log from the start names the first position that was touched.  (An attacker who
rewrites the whole tail is caught by comparing the head hash with a copy kept elsewhere:
`GET /v1/ledger/verify` returns it for that reason.)
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from datetime import UTC, datetime
from hashlib import sha256
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from events.store import EventStore, Head, RecordedEvent

__all__ = [
    "GENESIS_HASH",
    "ChainReport",
    "ChainVerifier",
    "RangeCheck",
    "Row",
    "chain_hash",
    "recompute",
    "verify",
]

GENESIS_HASH = bytes(32)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_length = struct.Struct(">Q").pack

Row = tuple[int, bytes, str, int, str, int, bytes, bytes, int, bytes, bytes]
"""What the hash needs of one event, in column order: position, the event id's 16 bytes,
stream_id, version, type, schema_version, data, metadata, recorded_at in microseconds since
the Unix epoch, prev_hash, hash (`ChainVerifier.feed_rows`)."""


def _micros(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def chain_hash(
    prev_hash: bytes,
    *,
    position: int,
    event_id: UUID,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    recorded_at: datetime,
    data: bytes,
    metadata: bytes,
) -> bytes:
    return _digest(
        prev_hash,
        position,
        event_id.bytes,
        stream_id,
        version,
        type,
        schema_version,
        _micros(recorded_at),
        data,
        metadata,
    )


def _digest(
    prev: bytes,
    position: int,
    event_id: bytes,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    recorded_at_micros: int,
    data: bytes,
    metadata: bytes,
) -> bytes:
    # Written out, not looped: `verify` spends most of its time here.  Each field is
    # length-prefixed (8 bytes, big-endian) and the whole message hashed in one call.
    a = str(position).encode()
    c = stream_id.encode()
    d = str(version).encode()
    e = type.encode()
    f = str(schema_version).encode()
    g = str(recorded_at_micros).encode()
    return sha256(
        b"".join(
            (
                prev,
                _length(len(a)),
                a,
                _length(len(event_id)),
                event_id,
                _length(len(c)),
                c,
                _length(len(d)),
                d,
                _length(len(e)),
                e,
                _length(len(f)),
                f,
                _length(len(g)),
                g,
                _length(len(data)),
                data,
                _length(len(metadata)),
                metadata,
            )
        )
    ).digest()


def recompute(event: RecordedEvent, prev_hash: bytes) -> bytes:
    return _digest(
        prev_hash,
        event.position,
        event.event_id.bytes,
        event.stream_id,
        event.version,
        event.type,
        event.schema_version,
        _micros(event.recorded_at),
        event.data,
        event.metadata,
    )


def _row(event: RecordedEvent) -> Row:
    return (
        event.position, event.event_id.bytes, event.stream_id, event.version, event.type,
        event.schema_version, event.data, event.metadata, _micros(event.recorded_at),
        event.prev_hash, event.hash,
    )  # fmt: skip


class ChainReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    events_checked: int
    head_position: int
    head_hash: str
    first_bad_position: int | None = None
    problem: str | None = None


class RangeCheck(msgspec.Struct, frozen=True, kw_only=True):
    """What a `ChainVerifier` that started `after` a position found (`ChainVerifier.summary`)."""

    after: int
    checked: int
    last_position: int
    last_hash: bytes | None
    first_bad: int | None
    problem: str | None


class ChainVerifier:
    """Walks events in position order and remembers the first one that breaks the chain.

    Pure: feed it events, then ask for the report against the head the store claims.  A
    verifier may start part-way (`after` a position, from the hash stored there), so that
    ranges of the log can be checked apart and joined in order (`join`).
    """

    def __init__(self, *, after: int = 0, prev_hash: bytes | None = GENESIS_HASH) -> None:
        self.after = after
        self.checked = 0
        self._last_position = after
        self._last_hash = prev_hash
        self.first_bad: int | None = None
        self.problem: str | None = None

    @property
    def last_position(self) -> int:
        """The last position checked and found good (`after` if none)."""
        return self._last_position

    def _fail(self, position: int, problem: str) -> bool:
        self.first_bad, self.problem = position, problem
        return False

    def feed(self, event: RecordedEvent) -> bool:
        """Check one event; False once the chain is broken (further events are not needed)."""
        return self.feed_rows([_row(event)])

    def feed_rows(self, rows: Iterable[Row]) -> bool:
        """`feed` for rows in position order, each a `Row`: the same checks, in the same
        order, without building a RecordedEvent per row (this loop is verify's hot path)."""
        if self.first_bad is not None:
            return False
        expected, last, checked = self._last_position, self._last_hash, 0
        for row in rows:
            position, uuid, stream, version, type_, schema, data, meta, at, prev, hash_ = row
            expected += 1
            if position != expected:
                problem = f"position {expected} is missing"
                break
            checked += 1
            if prev != last:
                problem = "prev_hash does not match the previous event"
                break
            digest = _digest(prev, position, uuid, stream, version, type_, schema, at, data, meta)
            if digest != hash_:
                problem = "stored bytes do not match the event's hash"
                break
            last = hash_
        else:
            self.checked += checked
            self._last_position, self._last_hash = expected, last
            return True
        self.checked += checked
        return self._fail(expected, problem)

    def summary(self) -> RangeCheck:
        """What this verifier found, to be joined onto the verifier of the range before."""
        return RangeCheck(
            after=self.after,
            checked=self.checked,
            last_position=self._last_position,
            last_hash=self._last_hash,
            first_bad=self.first_bad,
            problem=self.problem,
        )

    def join(self, part: RangeCheck) -> bool:
        """Go on with `part`, the check of the positions right after this one's.  False if
        either has found a break, or if `part` did not start where this one stopped (this
        one's range ended short: the caller decides whether that is a missing position or
        the end of the log)."""
        if self.first_bad is not None or part.after != self._last_position:
            return False
        self.checked += part.checked
        if part.first_bad is not None:
            return self._fail(part.first_bad, part.problem or "")
        self._last_position, self._last_hash = part.last_position, part.last_hash
        return True

    def missing_next(self) -> None:
        """The position after the last good one is missing, and later ones are stored."""
        if self.first_bad is None:
            expected = self._last_position + 1
            self._fail(expected, f"position {expected} is missing")

    def feed_all(self, events: list[RecordedEvent], *, up_to: int) -> bool:
        """`feed` each event up to position `up_to`; False once the chain is broken or
        `up_to` is passed."""
        within = [_row(event) for event in events if event.position <= up_to]
        return self.feed_rows(within) and len(within) == len(events)

    def report(self, head: Head) -> ChainReport:
        if self.first_bad is None and head.position > self._last_position:
            self._fail(self._last_position + 1, f"head says {head.position}, log ends earlier")
        elif self.first_bad is None and head.position < self._last_position:
            self._fail(head.position + 1, f"events stored past the head ({head.position})")
        elif self.first_bad is None and head.hash != self._last_hash:
            self._fail(self._last_position, "head hash does not match the last event")
        return ChainReport(
            ok=self.first_bad is None,
            events_checked=self.checked,
            head_position=head.position,
            head_hash=head.hash.hex(),
            first_bad_position=self.first_bad,
            problem=self.problem,
        )


async def verify(store: EventStore, *, batch_size: int = 10_000) -> ChainReport:
    """Recompute the chain from the first event up to the head as it was when verify began
    (events appended meanwhile are left for the next run).

    Pages are read one ahead: the next page is being fetched (the database's work, on
    another core) while this one is hashed.  Any store; for a PostgreSQL log,
    `events.chain_postgres.verify_database` gives the same report faster (ranges of
    positions on worker processes)."""
    head = await store.head()
    verifier = ChainVerifier()
    page: asyncio.Future[list[RecordedEvent]] = asyncio.ensure_future(
        store.read_all(after=0, limit=batch_size)
    )
    try:
        while batch := await page:
            last = batch[-1].position
            if last < head.position:
                page = asyncio.ensure_future(store.read_all(after=last, limit=batch_size))
            else:
                page = _done()
            if not verifier.feed_all(batch, up_to=head.position):
                break
    finally:
        page.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await page
    return verifier.report(head)


def _done() -> asyncio.Future[list[RecordedEvent]]:
    future: asyncio.Future[list[RecordedEvent]] = asyncio.get_running_loop().create_future()
    future.set_result([])
    return future
