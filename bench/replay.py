"""Replay throughput: reading the whole log back in position order, against bare asyncpg.

Loads N CompletionRecorded events (~330 bytes of JSON data each) with batched appends,
then times, best of R rounds with the cases alternating:

- `iter_all`: `PostgresEventStore.iter_all(batch_size=...)`, every row a RecordedEvent;
- `iter_all + decode`: the same, plus decoding each payload with the ledger's one typed
  decoder (events.codec), as a projection does;
- `chain verify`: `events.chain.verify(store)`, which replays the log (in pages of its own
  default size, 5000) and recomputes every SHA-256 of the hash chain;

each against the bare baseline: a plain asyncpg `SELECT <the same columns> FROM events WHERE
position > $1 ORDER BY position LIMIT $2`, paging over the same rows on one connection, rows
left as asyncpg Records.  The ratio is store / bare (1.00 = no overhead); the bare figure is
the same on every line, measured once per round.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import asyncpg

from bench._common import Run, best_of, fact, print_row, run_with_database
from events.chain import verify
from events.codec import decode
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore

_PAGE = """
SELECT position, event_id, stream_id, version, type, schema_version,
       data, metadata, recorded_at, prev_hash, hash
FROM events WHERE position > $1 ORDER BY position LIMIT $2
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.replay",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=50_000, help="events in the log")
    parser.add_argument("--batch-size", type=int, default=1000, help="rows per page read")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    return parser.parse_args()


async def load(store: PostgresEventStore, events: int, *, per_append: int = 500) -> None:
    start = time.perf_counter()
    for first in range(0, events, per_append):
        chunk = [fact(n) for n in range(first, min(first + per_append, events))]
        await store.append(f"manager-{first}", chunk, expected_version=0)
    elapsed = time.perf_counter() - start
    print(f"loaded {events:,} events in {elapsed:.1f} s ({events / elapsed:,.0f} ev/s)\n")


def iter_all(store: PostgresEventStore, batch_size: int) -> Run:
    async def run() -> None:
        async for _ in store.iter_all(batch_size=batch_size):
            pass

    return run


def iter_all_decoded(store: PostgresEventStore, batch_size: int) -> Run:
    async def run() -> None:
        async for event in store.iter_all(batch_size=batch_size):
            decode(event)

    return run


def chain_verify(store: PostgresEventStore, events: int) -> Run:
    async def run() -> None:
        report = await verify(store)
        if not report.ok or report.events_checked != events:
            raise SystemExit(f"chain verification failed: {report}")

    return run


def bare_select(pool: asyncpg.Pool, batch_size: int) -> Run:
    async def run() -> None:
        async with pool.acquire() as conn:
            after = 0
            while rows := await conn.fetch(_PAGE, after, batch_size):
                after = rows[-1][0]

    return run


async def bench(dsn: str) -> None:
    args = parse_args()
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        store = PostgresEventStore(pool)
        await load(store, args.events)
        await pool.execute("VACUUM ANALYZE events")
        await bare_select(pool, args.batch_size)()  # warm-up, untimed: cache and statements
        cases = {
            "iter_all": partial(iter_all, store, args.batch_size),
            "iter_all + decode": partial(iter_all_decoded, store, args.batch_size),
            "chain verify": partial(chain_verify, store, args.events),
            "bare": partial(bare_select, pool, args.batch_size),
        }
        rates = await best_of(args.rounds, args.events, cases)
        print(f"events/s, best of {args.rounds}; ratio = store / bare (1.00 = no overhead)")
        for label in ("iter_all", "iter_all + decode", "chain verify"):
            print_row(label, rates[label], rates["bare"], names=("store", "bare select"))


if __name__ == "__main__":
    run_with_database(bench)
