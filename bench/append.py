"""Append throughput and latency: `PostgresEventStore.append` against a bare asyncpg INSERT
and against the `eventsourcing` library's PostgreSQL recorder, all in one run.

Cases: one event per call from 1, 16 and 64 concurrent writers (each writer a stream of its
own with the right `expected_version`, so no conflicts), and 100 events per call from one
writer.  The bare baseline writes the same events (same payload bytes, same concurrency,
same pool of one connection per writer) into a scratch table with only a primary key: one
autocommit `INSERT ... VALUES` per event, or one `INSERT ... SELECT FROM unnest(...)` per
batch.  The store shares the same pool, but its appends coalesce: concurrent calls become
one transaction under one head lock and one WAL flush (events/postgres/store.py), so it uses
about one connection whatever the writers.  `eventsourcing` runs in its own virtual
environment (bench/.venv-es, made on first use) against another database on the same
server, with one thread per writer (bench/es_append.py).  Rates are the best of R rounds,
store and baseline alternating; latencies (p50/p99 of every timed call) in milliseconds:

    single x16   store  9,876 ev/s p50 1.6 p99 3.0 | bare 12,345 (0.80) | es 1,234 (8.00x)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import asyncpg

from bench import eventsourcing_env
from bench._common import fact, run_with_database, sibling_database
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
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
    parser.add_argument("--events", type=int, default=2000, help="events per concurrent run")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--batch", type=int, default=100, help="events per batched append")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    parser.add_argument("--no-eventsourcing", action="store_true", help="skip that library")
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


class Stats:
    def __init__(self) -> None:
        self.rate = 0.0
        self.latencies: list[float] = []

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[p - 1] * 1e3


async def timed_run(call: Call, stats: Stats, *, batch: int, appends: int, writers: int) -> None:
    """Each writer makes `appends` calls of `batch` fresh events (built before the clock
    starts) to a new stream of its own."""
    shares = [[[fact(n) for n in range(batch)] for _ in range(appends)] for _ in range(writers)]
    latencies: list[float] = []

    async def writer(chunks: list[list[NewEvent]]) -> None:
        stream, version = f"bench-{uuid.uuid4().hex[:12]}", 0
        for chunk in chunks:
            start = time.perf_counter()
            await call(stream, chunk, version)
            latencies.append(time.perf_counter() - start)
            version += len(chunk)

    start = time.perf_counter()
    await asyncio.gather(*(writer(chunks) for chunks in shares))
    stats.rate = max(stats.rate, appends * batch * writers / (time.perf_counter() - start))
    stats.latencies += latencies


async def measure(
    calls: dict[str, Call], *, events: int, batch: int, writers: int, rounds: int
) -> dict[str, Stats]:
    stats = {name: Stats() for name in calls}
    for call in calls.values():  # warm-up, not reported
        await timed_run(call, Stats(), batch=batch, appends=2, writers=writers)
    appends = max(2, events // (batch * writers))
    for round_ in range(rounds):
        for name in calls if round_ % 2 == 0 else reversed(list(calls)):
            await timed_run(calls[name], stats[name], batch=batch, appends=appends, writers=writers)
    return stats


async def eventsourcing_rates(dsn: str, args: argparse.Namespace) -> dict[str, dict]:
    python = eventsourcing_env.ensure()
    async with sibling_database(dsn, "es") as es_dsn:
        url = urlsplit(es_dsn)
        host = parse_qs(url.query).get("host", [url.hostname or "127.0.0.1"])[0]
        process = await asyncio.create_subprocess_exec(
            str(python),
            str(eventsourcing_env.VENV.parent / "es_append.py"),
            *("--dbname", url.path.lstrip("/"), "--host", host),
            *("--port", str(url.port or 5432), "--user", url.username or "postgres"),
            *("--password", url.password or "", "--rounds", str(args.rounds)),
            *("--writers", *map(str, args.writers)),
            *("--events", *(str(args.events if w > 1 else args.events // 2) for w in args.writers)),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"bench/es_append.py failed with status {process.returncode}")
    return json.loads(out)


def line(label: str, store: Stats, bare: Stats, es: dict | None) -> str:
    text = (
        f"{label:<12} store {store.rate:>8,.0f} ev/s p50 {store.percentile(50):5.1f}"
        f" p99 {store.percentile(99):6.1f} | bare {bare.rate:>8,.0f}"
        f" p50 {bare.percentile(50):5.1f} p99 {bare.percentile(99):6.1f}"
        f" ({store.rate / bare.rate:.2f})"
    )
    if es is not None:
        text += (
            f" | eventsourcing {es['rate']:>7,.0f} p50 {es['p50']:5.1f} p99 {es['p99']:6.1f}"
            f" (store {store.rate / es['rate']:.2f}x)"
        )
    return text


async def bench(dsn: str) -> None:
    args = parse_args()
    size = max(args.writers)
    cases = [
        (f"single x{w}", 1, w, args.events if w > 1 else args.events // 2) for w in args.writers
    ]
    cases.append((f"batch {args.batch} x1", args.batch, 1, args.events * 20))
    results: list[tuple[str, Stats, Stats, int]] = []
    async with create_pool(dsn, min_size=size, max_size=size) as pool:
        await pool.execute(_SCRATCH)
        store = PostgresEventStore(pool)
        calls = {"store": store_call(store), "bare": bare_call(pool)}
        for label, batch, writers, events in cases:
            before = store.flushes
            stats = await measure(
                calls, events=events, batch=batch, writers=writers, rounds=args.rounds
            )
            appends = len(stats["store"].latencies)
            per_flush = appends / max(1, store.flushes - before)
            results.append((label, stats["store"], stats["bare"], round(per_flush)))
        await pool.execute("DROP TABLE bench_bare")
    es = {} if args.no_eventsourcing else await eventsourcing_rates(dsn, args)
    print(
        f"events/s (best of {args.rounds}), latency ms (p50/p99 of all timed calls);"
        " (ratio) = store / bare; Nx = store / eventsourcing"
    )
    for label, store_stats, bare_stats, per_flush in results:
        writers = label.rsplit("x", 1)[-1]
        mate = es.get(writers) if label.startswith("single") else None
        print(line(label, store_stats, bare_stats, mate) + f"  [~{per_flush} appends/commit]")


if __name__ == "__main__":
    run_with_database(bench)
