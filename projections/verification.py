"""`chain_verification`: the hash chain verified incrementally, from a verified checkpoint.

The projection sees every event once, in position order, and goes on with the chain from the
last position it checked (`ChainVerifier` started `after` it, from the hash stored there), so
keeping the chain verified costs one hash per appended event, off the request path.  Its one
row (migrations/0016_chain_verification.sql) is the checkpoint: the position checked through,
the hash there, the first bad position if the walk found one, and when it last checked.

Events are append-only, so a row behind the checkpoint is never read again.  A superuser who
gets past the append-only triggers trips 0016's tripwire, which sends this projection back to
position 0 (a rebuild): the next batch starts at position 1 and the walk starts over from the
genesis hash.  `ceu-ledger verify` stays a full walk of the log.

Readers (`checkpoint_report`) answer from the row, hashing at most `tail_limit` events past it
(those the projector has not reached yet), and walk the whole log only while a tripped
re-check has not reached the head.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from events.chain import GENESIS_HASH, ChainReport, ChainVerifier, verify
from events.connections import Conn
from events.postgres.reads import fetch_events, fetch_head
from events.timeouts import WORKER_STATEMENT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Sequence

    import asyncpg

    from events.store import EventStore, Head, RecordedEvent

__all__ = [
    "ChainCheckpoint",
    "ChainVerification",
    "VerificationReport",
    "checkpoint_report",
    "read_chain_checkpoint",
]

_TAIL_PAGE = 5_000


class ChainCheckpoint(msgspec.Struct, frozen=True, kw_only=True):
    """The projection's row: the chain checked through `position` (good unless
    `first_bad_position` is set), with the stored hash there."""

    position: int = 0
    head_hash: bytes = GENESIS_HASH
    events_checked: int = 0
    first_bad_position: int | None = None
    problem: str | None = None
    checked_at: datetime | None = None
    recheck_requested_at: datetime | None = None
    recheck_reason: str | None = None


class VerificationReport(ChainReport, frozen=True, kw_only=True):
    """GET /v1/ledger/verify: the chain report (`ok` and the rest as a full walk gives them)
    plus where the answer comes from: `checkpoint_position`, the projection's checkpoint;
    `checked_through`, the last position checked (the checkpoint and the tail past it);
    `checked_at`, when the checkpoint was last advanced (its age is now minus this)."""

    checked_through: int
    checkpoint_position: int
    checked_at: datetime | None
    recheck_requested_at: datetime | None = None
    """Set while a re-walk that the tripwire asked for (a stored event was changed or
    removed) has not reached the head."""


# When the row was last advanced is the checkpoint's commit time (0017), not a column of the
# row: the row stays a function of the events.
_SELECT = """
SELECT v.position, v.head_hash, v.events_checked, v.first_bad_position, v.problem,
       c.updated_at, v.recheck_requested_at, v.recheck_reason
FROM chain_verification v
LEFT JOIN projection_checkpoints c ON c.name = 'chain_verification' AND c.position > 0
WHERE v.id
"""

_UPSERT = """
INSERT INTO chain_verification AS v (id, position, head_hash, events_checked,
    first_bad_position, problem, recheck_requested_at, recheck_reason)
VALUES (true, $1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
    position = EXCLUDED.position,
    head_hash = EXCLUDED.head_hash,
    events_checked = EXCLUDED.events_checked,
    first_bad_position = EXCLUDED.first_bad_position,
    problem = EXCLUDED.problem,
    recheck_requested_at = EXCLUDED.recheck_requested_at,
    recheck_reason = EXCLUDED.recheck_reason
"""


async def read_chain_checkpoint(conn: Conn) -> ChainCheckpoint:
    """The checkpoint as stored (a projection never run, or just rebuilt, is at 0)."""
    row = await conn.fetchrow(_SELECT, timeout=WORKER_STATEMENT_TIMEOUT)
    if row is None:
        return ChainCheckpoint()
    return ChainCheckpoint(
        position=row[0],
        head_hash=row[1],
        events_checked=row[2],
        first_bad_position=row[3],
        problem=row[4],
        checked_at=row[5],
        recheck_requested_at=row[6],
        recheck_reason=row[7],
    )


def _verifier(checkpoint: ChainCheckpoint) -> ChainVerifier:
    verifier = ChainVerifier(after=checkpoint.position, prev_hash=checkpoint.head_hash)
    verifier.checked = checkpoint.events_checked
    if checkpoint.first_bad_position is not None:
        verifier.first_bad = checkpoint.first_bad_position
        verifier.problem = checkpoint.problem
    return verifier


class ChainVerification:
    name = "chain_verification"
    handles: frozenset[str] | None = None
    tables: tuple[str, ...] = ("chain_verification",)

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        stored = await read_chain_checkpoint(conn)
        first = events[0].position
        if first == 1:
            # From the start: a first run, a rebuild, or the tripwire's re-check.
            checkpoint = ChainCheckpoint(
                recheck_requested_at=stored.recheck_requested_at,
                recheck_reason=stored.recheck_reason,
            )
        else:
            checkpoint = stored
        verifier = _verifier(checkpoint)
        if verifier.first_bad is None and checkpoint.position < first - 1:
            # Not expected (the engine hands over every event after its checkpoint, which
            # moves with this row); read what lies between rather than skip it.
            await _feed_range(conn, verifier, up_to=first - 1)
        verifier.feed_all(
            [e for e in events if e.position > verifier.last_position], up_to=events[-1].position
        )
        head = await fetch_head(conn)
        done = verifier.first_bad is not None or verifier.last_position >= head.position
        through, hash_ = _good_through(verifier, events)
        await conn.execute(
            _UPSERT,
            through,
            hash_,
            verifier.checked,
            verifier.first_bad,
            verifier.problem,
            None if done else checkpoint.recheck_requested_at,
            None if done else checkpoint.recheck_reason,
            timeout=WORKER_STATEMENT_TIMEOUT,
        )


def _good_through(verifier: ChainVerifier, events: Sequence[RecordedEvent]) -> tuple[int, bytes]:
    """The last good position and its stored hash (a verifier that finds a break stops at the
    start of the batch it was fed: the good ones before the break are in `events`)."""
    last_hash = verifier.summary().last_hash or GENESIS_HASH
    if verifier.first_bad is None:
        return verifier.last_position, last_hash
    through = verifier.first_bad - 1
    stored = next((e.hash for e in events if e.position == through), None)
    return (through, stored) if stored is not None else (verifier.last_position, last_hash)


async def _feed_range(conn: Conn, verifier: ChainVerifier, *, up_to: int) -> None:
    """Feed `verifier` the stored events after its last position, up to `up_to`."""
    while verifier.first_bad is None and verifier.last_position < up_to:
        page = await fetch_events(conn, after=verifier.last_position, limit=_TAIL_PAGE, up_to=up_to)
        if not page:
            verifier.missing_next()
            return
        verifier.feed_all(page, up_to=up_to)


def _report(verifier: ChainVerifier, head: Head, checkpoint: ChainCheckpoint) -> VerificationReport:
    if verifier.last_position >= head.position or verifier.first_bad is not None:
        base = verifier.report(head)
    else:
        # The tail past the checkpoint was longer than the reader would hash: good so far.
        base = ChainReport(
            ok=True,
            events_checked=verifier.checked,
            head_position=head.position,
            head_hash=head.hash.hex(),
        )
    bad = base.first_bad_position
    return VerificationReport(
        **msgspec.structs.asdict(base),
        checked_through=verifier.last_position if bad is None else bad - 1,
        checkpoint_position=checkpoint.position,
        checked_at=checkpoint.checked_at,
        recheck_requested_at=checkpoint.recheck_requested_at,
    )


async def checkpoint_report(
    conn: Conn, *, tail_limit: int, store: EventStore | None = None
) -> VerificationReport:
    """The chain's state from the checkpoint, and at most `tail_limit` events past it.

    While a re-check the tripwire asked for is under way, the checkpoint says nothing about
    the events behind it: with `store`, the whole log is walked here (as `verify` did on every
    call before the checkpoint); without it, the report is the walk so far, and
    `recheck_requested_at` says so."""
    checkpoint = await read_chain_checkpoint(conn)
    head = await fetch_head(conn)
    if checkpoint.recheck_requested_at is not None and store is not None:
        full = await verify(store)
        bad = full.first_bad_position
        return VerificationReport(
            **msgspec.structs.asdict(full),
            checked_through=full.head_position if bad is None else bad - 1,
            checkpoint_position=checkpoint.position,
            checked_at=datetime.now(UTC),
            recheck_requested_at=checkpoint.recheck_requested_at,
        )
    verifier = _verifier(checkpoint)
    if checkpoint.position > head.position:
        verifier.missing_next()
    else:
        await _feed_range(
            conn, verifier, up_to=min(head.position, checkpoint.position + tail_limit)
        )
    return _report(verifier, head, checkpoint)
