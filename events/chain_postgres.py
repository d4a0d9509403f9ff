"""The chain verify of a PostgreSQL log, by ranges of positions checked in parallel.

`events.chain.verify` walks the log through the store, one page after the other, in one
process: fetching the rows (the driver's decoding) and hashing them share one core.  Here the
log up to the head is cut into ranges of positions, and each range is checked by a worker
process of its own, on a connection of its own, so the hashing and the database's work spread
over every core.

Why the ranges can be checked apart and joined: a range (after, up_to] needs nothing of the
ranges before it but the hash stored at position `after`, which is the prev_hash its first
event must carry.  Its worker reads that hash and checks every link inside the range exactly
as the one-process verifier does (`ChainVerifier.feed_rows`, the same checks in the same
order).  The hash at `after` is also the last one the worker of the range before checked
(events are append-only), so the first link of each range is the join of the two.  The
results are joined in position order (`ChainVerifier.join`), so the break reported is the
lowest one, with the same position, problem and count that `events.chain.verify` reports;
then the head row is compared with the last event (`ChainVerifier.report`).

Workers are *spawned* (a fresh interpreter, nothing inherited from the caller's event loop,
threads or sockets).  A log of at most one range is checked in the calling process.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from multiprocessing import get_context
from typing import TYPE_CHECKING

from events.chain import GENESIS_HASH, ChainReport, ChainVerifier
from events.postgres import connect, fetch_head

if TYPE_CHECKING:
    import asyncpg

__all__ = ["verify_database"]

# recorded_at in microseconds since the Unix epoch: `extract` gives an exact numeric
# (PostgreSQL 14 and later), the value `events.chain._micros` computes from the datetime.
_RANGE = """
SELECT position, uuid_send(event_id), stream_id, version, type, schema_version, data, metadata,
       (extract(epoch FROM recorded_at) * 1000000)::bigint, prev_hash, hash
FROM events WHERE position > $1 AND position <= $2 ORDER BY position
"""
_HASH_AT = "SELECT hash FROM events WHERE position = $1"
_STORED_BETWEEN = "SELECT EXISTS (SELECT FROM events WHERE position > $1 AND position <= $2)"


async def verify_database(
    dsn: str,
    *,
    range_size: int = 100_000,
    workers: int | None = None,
    page_size: int = 10_000,
) -> ChainReport:
    """Recompute the chain up to the head as it was when verify began, `range_size`
    positions per task, on `workers` processes (default: one per CPU)."""
    conn = await connect(dsn)
    try:
        head = await fetch_head(conn)
        ranges = [
            (after, min(after + range_size, head.position))
            for after in range(0, head.position, range_size)
        ]
        workers = min(workers or os.cpu_count() or 1, len(ranges))
        verifier = ChainVerifier()
        if workers <= 1:
            for after, up_to in ranges:
                if not verifier.join(await _check_range(conn, after, up_to, page_size)):
                    break
        else:
            await _join_in_processes(verifier, dsn, ranges, workers, page_size)
        if (
            verifier.first_bad is None
            and verifier.last_position < head.position
            and await conn.fetchval(_STORED_BETWEEN, verifier.last_position, head.position)
        ):
            verifier.missing_next()
    finally:
        await conn.close()
    return verifier.report(head)


async def _join_in_processes(
    verifier: ChainVerifier,
    dsn: str,
    ranges: list[tuple[int, int]],
    workers: int,
    page_size: int,
) -> None:
    """Every range submitted at once; results joined in order until the first break (the
    ranges after it that have not started are cancelled)."""
    loop = asyncio.get_running_loop()
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
    parts = [
        loop.run_in_executor(pool, _check_range_in_process, dsn, after, up_to, page_size)
        for after, up_to in ranges
    ]
    try:
        for part in parts:
            if not verifier.join(await part):
                break
    finally:
        for part in parts:
            part.cancel()
        # Waits for the running ranges to end, off the event loop.
        await loop.run_in_executor(None, partial(pool.shutdown, wait=True, cancel_futures=True))


def _check_range_in_process(dsn: str, after: int, up_to: int, page_size: int) -> ChainVerifier:
    return asyncio.run(_check_range_on_own_connection(dsn, after, up_to, page_size))


async def _check_range_on_own_connection(
    dsn: str, after: int, up_to: int, page_size: int
) -> ChainVerifier:
    conn = await connect(dsn)
    try:
        return await _check_range(conn, after, up_to, page_size)
    finally:
        await conn.close()


async def _check_range(
    conn: asyncpg.Connection, after: int, up_to: int, page_size: int
) -> ChainVerifier:
    """The positions after < p <= up_to, from the hash stored at `after` (None if that row is
    missing: then the range before it has already reported the break)."""
    start = GENESIS_HASH if after == 0 else await conn.fetchval(_HASH_AT, after)
    verifier = ChainVerifier(after=after, prev_hash=start)
    for low in range(after, up_to, page_size):
        rows = await conn.fetch(_RANGE, low, min(low + page_size, up_to))
        if not verifier.feed_rows(rows):
            break
    return verifier
