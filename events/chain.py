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

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from uuid import UUID

    from events.store import EventStore, Head, RecordedEvent

__all__ = ["GENESIS_HASH", "ChainReport", "ChainVerifier", "chain_hash", "recompute", "verify"]

GENESIS_HASH = bytes(32)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _field(value: bytes) -> bytes:
    return len(value).to_bytes(8, "big") + value


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
    digest = hashlib.sha256(prev_hash)
    for part in (
        str(position).encode(),
        event_id.bytes,
        stream_id.encode(),
        str(version).encode(),
        type.encode(),
        str(schema_version).encode(),
        str(_micros(recorded_at)).encode(),
        data,
        metadata,
    ):
        digest.update(_field(part))
    return digest.digest()


def recompute(event: RecordedEvent, prev_hash: bytes) -> bytes:
    return chain_hash(
        prev_hash,
        position=event.position,
        event_id=event.event_id,
        stream_id=event.stream_id,
        version=event.version,
        type=event.type,
        schema_version=event.schema_version,
        recorded_at=event.recorded_at,
        data=event.data,
        metadata=event.metadata,
    )


class ChainReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    events_checked: int
    head_position: int
    head_hash: str
    first_bad_position: int | None = None
    problem: str | None = None


class ChainVerifier:
    """Walks events in position order and remembers the first one that breaks the chain.

    Pure: feed it events, then ask for the report against the head the store claims.
    """

    def __init__(self) -> None:
        self.checked = 0
        self._last_position = 0
        self._last_hash = GENESIS_HASH
        self.first_bad: int | None = None
        self.problem: str | None = None

    def _fail(self, position: int, problem: str) -> bool:
        self.first_bad, self.problem = position, problem
        return False

    def feed(self, event: RecordedEvent) -> bool:
        """Check one event; False once the chain is broken (further events are not needed)."""
        if self.first_bad is not None:
            return False
        expected = self._last_position + 1
        if event.position != expected:
            return self._fail(expected, f"position {expected} is missing")
        self.checked += 1
        if event.prev_hash != self._last_hash:
            return self._fail(event.position, "prev_hash does not match the previous event")
        if recompute(event, self._last_hash) != event.hash:
            return self._fail(event.position, "stored bytes do not match the event's hash")
        self._last_position, self._last_hash = event.position, event.hash
        return True

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


async def verify(store: EventStore, *, batch_size: int = 5000) -> ChainReport:
    """Recompute the chain from the first event up to the head as it was when verify began
    (events appended meanwhile are left for the next run)."""
    head = await store.head()
    verifier = ChainVerifier()
    async for event in store.iter_all(batch_size=batch_size):
        if event.position > head.position or not verifier.feed(event):
            break
    return verifier.report(head)
