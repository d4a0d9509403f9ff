"""Append throughput: `PostgresEventStore.append` against a bare asyncpg INSERT, in one run.

Four cases: one event per call, sequential (x1) and from C concurrent writers on a pool of C
(xC), N events per run; then B events per call, the same two ways, 20 x N events per run.
Every writer appends to a stream of its own with the right `expected_version`, so there are
no conflicts.  The baseline writes the same events (same payload bytes, same concurrency,
same pool) into a scratch table with only a primary key: one autocommit `INSERT ... VALUES`
per event, or one `INSERT ... SELECT FROM unnest(...)` per batch.  The ratio (store / bare,
1.00 = no overhead) prices the store's design: the head-row lock that runs appends one at a
time, the stream-version and event-id check, the hash chain, the extra indexes and the
NOTIFY.  Each figure is the best of R rounds, store and baseline alternating.  The output
is one line per case:

    single x1            store     1,234 ev/s   bare insert     2,345 ev/s   ratio 0.53

With fsync on, single-event appends are bounded by WAL flushes per second.  Concurrent bare
inserts can share a flush (group commit); concurrent appends cannot, as they commit one at a
time, so expect the x8 ratio to be the lowest.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import Awaitable, Callable
from functools import partial

import asyncpg

from bench._common import Prepare, Run, best_of, fact, print_row, run_with_database
from events.postgres import PostgresEventStore, create_pool
from events.store import NewEvent

# (stream, events, the stream's version before them) -> one append or insert
Call = Callable[[str, list[NewEvent], int], Awaitable[object]]

_SCRATCH = """
CREATE TABLE bench_bare (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id  uuid NOT NULL,
    stream_id text NOT NULL,
    type      text NOT NULL,
    data      json NOT NULL,
    metadata  json NOT NULL
)
"""
_INTO = "INSERT INTO bench_bare (event_id, stream_id, type, data, metadata)"
_INSERT_ONE = f"{_INTO} VALUES ($1, $2, $3, $4, $5)"
_INSERT_MANY = f"""{_INTO}
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::json[], $5::json[])"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.append",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--events", type=int, default=1000, help="events per single-event run (x20 batched)"
    )
    parser.add_argument("--batch", type=int, default=100, help="events per batched append")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    return parser.parse_args()


def store_call(store: PostgresEventStore) -> Call:
    def call(stream: str, events: list[NewEvent], version: int) -> Awaitable[object]:
        return store.append(stream, events, expected_version=version)

    return call


def bare_call(pool: asyncpg.Pool) -> Call:
    def call(stream: str, events: list[NewEvent], version: int) -> Awaitable[object]:
        if len(events) == 1:
            e = events[0]
            return pool.execute(_INSERT_ONE, e.event_id, stream, e.type, e.data, e.metadata)
        rows = [(e.event_id, stream, e.type, e.data, e.metadata) for e in events]
        return pool.execute(_INSERT_MANY, *map(list, zip(*rows, strict=True)))

    return call


def workload(call: Call, *, batch: int, appends: int, writers: int) -> Run:
    """Fresh events for one timed run: each writer makes `appends` calls of `batch` events to
    a new stream of its own.  The events are built here, before the clock starts."""
    shares = [[[fact(n) for n in range(batch)] for _ in range(appends)] for _ in range(writers)]

    async def writer(chunks: list[list[NewEvent]]) -> None:
        stream, version = f"bench-{uuid.uuid4().hex[:12]}", 0
        for chunk in chunks:
            await call(stream, chunk, version)
            version += len(chunk)

    async def run() -> None:
        await asyncio.gather(*(writer(chunks) for chunks in shares))

    return run


async def measure(
    calls: dict[str, Call], *, events: int, batch: int, writers: int, rounds: int
) -> dict[str, float]:
    def prepare(call: Call, appends: int) -> Prepare:
        return partial(workload, call, batch=batch, appends=appends, writers=writers)

    # Warm-up, not reported: opens the pool's connections and prepares the statements.
    await best_of(1, 1, {name: prepare(call, 2) for name, call in calls.items()})
    appends = max(1, events // (batch * writers))
    cases = {name: prepare(call, appends) for name, call in calls.items()}
    return await best_of(rounds, appends * batch * writers, cases)


async def bench(dsn: str) -> None:
    args = parse_args()
    cases = [
        ("single x1", 1, 1, args.events),
        (f"single x{args.writers}", 1, args.writers, args.events),
        # Batches are cheap per event: twenty times the events keeps the timed runs comparable.
        (f"batch {args.batch} x1", args.batch, 1, args.events * 20),
        (f"batch {args.batch} x{args.writers}", args.batch, args.writers, args.events * 20),
    ]
    print(f"events/s, best of {args.rounds}; ratio = store / bare (1.00 = no overhead)")
    async with create_pool(dsn, min_size=args.writers, max_size=args.writers) as pool:
        await pool.execute(_SCRATCH)
        calls = {"store": store_call(PostgresEventStore(pool)), "bare": bare_call(pool)}
        for label, batch, writers, events in cases:
            rates = await measure(
                calls, events=events, batch=batch, writers=writers, rounds=args.rounds
            )
            print_row(label, rates["store"], rates["bare"], names=("store", "bare insert"))
        await pool.execute("DROP TABLE bench_bare")


if __name__ == "__main__":
    run_with_database(bench)
