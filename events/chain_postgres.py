"""The chain verify of a PostgreSQL log, by ranges of positions checked in parallel.

`events.chain.verify` walks the log through the store, one page after the other, in one
process: fetching the rows (the driver's decoding) and hashing them share one core.  Here the
log up to the head is cut into ranges of positions, and the ranges are checked by worker
processes, each on a connection of its own, so the hashing and the database's work spread
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

The workers are `python -m events.chain_postgres`: a fresh interpreter that imports only this
package and asyncpg, and inherits nothing of the caller's event loop, threads or sockets.
(multiprocessing's spawned workers would also import the caller's `__main__` again, for the
CLI the whole application: some seconds of CPU per worker at each verify.)  Each takes the
DSN on its first line of stdin, then one range per line, and answers each with its
`RangeCheck` as one JSON line; the caller hands the next range to whichever worker answers
first.  A log of at most one range is checked in the calling process.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import deque
from typing import IO, TYPE_CHECKING, cast

import msgspec

from events.chain import GENESIS_HASH, ChainReport, ChainVerifier, RangeCheck, Row
from events.postgres.connection import connect
from events.postgres.reads import fetch_head

if TYPE_CHECKING:
    import asyncpg

__all__ = ["ChainWorkerFailed", "fetch_rows", "verify_database"]

# The columns as the hash takes them, converted by the server (on its own core) rather than
# by the driver and then again in Python: the event id's 16 bytes (`uuid_send`), the stored
# JSON's exact bytes (`json_send`: the text as stored, as bytea), and recorded_at in
# microseconds since the Unix epoch (`extract` gives an exact numeric on PostgreSQL 14 and
# later: the value `events.chain._micros` computes from the datetime).
_RANGE = """
SELECT position, uuid_send(event_id), stream_id, version, type, schema_version,
       json_send(data), json_send(metadata),
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
                part = await _check_range(conn, after, up_to, page_size)
                if not verifier.join(part.summary()):
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


class ChainWorkerFailed(RuntimeError):
    """A worker process stopped before answering (its own error is on stderr)."""


class _Start(msgspec.Struct, frozen=True):
    dsn: str
    page_size: int


_encode = msgspec.json.Encoder().encode
_decode_part = msgspec.json.Decoder(RangeCheck).decode


async def _join_in_processes(
    verifier: ChainVerifier,
    dsn: str,
    ranges: list[tuple[int, int]],
    workers: int,
    page_size: int,
) -> None:
    """Join the ranges' checks in order until the first break; the workers are stopped then
    (or when this is cancelled), with whatever ranges they had left."""
    loop = asyncio.get_running_loop()
    parts: list[asyncio.Future[RangeCheck]] = [loop.create_future() for _ in ranges]
    todo = deque(range(len(ranges)))
    start = _encode(_Start(dsn, page_size))
    tasks = [asyncio.create_task(_worker(start, ranges, todo, parts)) for _ in range(workers)]
    try:
        for part in parts:
            if not verifier.join(await part):
                break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for part in parts:  # an error set on every range is raised once, above
            if part.done() and not part.cancelled():
                part.exception()


async def _worker(
    start: bytes,
    ranges: list[tuple[int, int]],
    todo: deque[int],
    parts: list[asyncio.Future[RangeCheck]],
) -> None:
    """One worker process: the next range not yet taken, until there is none.  If it fails,
    every range not yet answered fails with it (the verify as a whole cannot be finished)."""
    process: asyncio.subprocess.Process | None = None
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "events.chain_postgres",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(start + b"\n")
        while todo:
            index = todo.popleft()
            process.stdin.write(b"%d %d\n" % ranges[index])
            await process.stdin.drain()
            answer = await process.stdout.readline()
            if not answer:
                raise ChainWorkerFailed(f"a verify worker exited with {await process.wait()}")
            parts[index].set_result(_decode_part(answer))
        process.stdin.close()
        await process.wait()
    except Exception as error:
        for part in parts:
            if not part.done():
                part.set_exception(error)
    finally:
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The worker's side: the start line, then a range per line until stdin closes."""
    start = msgspec.json.decode(stdin.readline(), type=_Start)
    with asyncio.Runner() as runner:
        conn = runner.run(connect(start.dsn))
        try:
            for line in stdin:
                after, up_to = map(int, line.split())
                part = runner.run(_check_range(conn, after, up_to, start.page_size))
                stdout.write(_encode(part.summary()) + b"\n")
                stdout.flush()
        finally:
            runner.run(conn.close())


async def _check_range(
    conn: asyncpg.Connection, after: int, up_to: int, page_size: int
) -> ChainVerifier:
    """The positions after < p <= up_to, from the hash stored at `after` (None if that row is
    missing: then the range before it has already reported the break)."""
    start = GENESIS_HASH if after == 0 else await conn.fetchval(_HASH_AT, after)
    verifier = ChainVerifier(after=after, prev_hash=start)
    for low in range(after, up_to, page_size):
        if not verifier.feed_rows(await fetch_rows(conn, low, min(low + page_size, up_to))):
            break
    return verifier


async def fetch_rows(conn: asyncpg.Connection, after: int, up_to: int) -> list[Row]:
    """The stored events after < position <= up_to as `Row`s, in position order (asyncpg's
    records, which unpack as the tuples do)."""
    return cast("list[Row]", await conn.fetch(_RANGE, after, up_to))


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
