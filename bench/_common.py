"""What both benchmarks share: a fresh migrated database, realistic events, timing, printing.

The database is a new one (`ceu_bench_<pid>`) on the server named by DATABASE_URL, or on an
embedded PostgreSQL started in a temporary directory with its default, durable settings
(fsync and synchronous_commit on: every commit waits for the disk).  It is dropped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from events.catalog import CompletionRecorded
from events.codec import Actor, Metadata, encode
from events.postgres.connection import connect
from events.store import NewEvent
from ledger.infra.database import EmbeddedPostgres, create_database
from ledger.infra.migrations import load_migrations, migrate

__all__ = [
    "Prepare",
    "Run",
    "best_of",
    "fact",
    "print_row",
    "run_with_database",
    "sibling_database",
]

Run = Callable[[], Awaitable[object]]
# Builds a measurement's inputs (untimed) and returns the work to time.
Prepare = Callable[[], Run]

_SETTINGS = ("server_version", "fsync", "synchronous_commit", "full_page_writes")
_METADATA = Metadata(actor=Actor(role="provider", id="texas-medical-association"), request_id="r")


def fact(n: int) -> NewEvent:
    """A real CompletionRecorded, encoded by the real codec (~330 bytes of data)."""
    event = CompletionRecorded(
        completion_id=uuid.uuid4(),
        manager_id=f"mgr-{n % 5000:06d}",
        provider_id="texas-medical-association",
        external_id=f"roster-2026-{n:08d}",
        activity_id=f"tma-{n % 300:05d}",
        activity_title="HIPAA privacy refresher for front-desk staff",
        category="compliance",
        programs=("CMM", "CMOM"),
        completed_on=date(2026, 1, 5),
        ceus=Decimal("1.50"),
    )
    return encode(event, metadata=_METADATA, event_id=event.completion_id)


async def best_of(rounds: int, count: int, cases: dict[str, Prepare]) -> dict[str, float]:
    """The best events/s of each case over `rounds`, running the cases in turn and reversing
    their order every other round, so that drift on a noisy machine hits them all alike."""
    best = dict.fromkeys(cases, 0.0)
    names = list(cases)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            run = cases[name]()
            start = time.perf_counter()
            await run()
            best[name] = max(best[name], count / (time.perf_counter() - start))
    return best


def print_row(label: str, store: float, bare: float, *, names: tuple[str, str]) -> None:
    print(
        f"{label:<20} {names[0]} {store:>9,.0f} ev/s   {names[1]} {bare:>9,.0f} ev/s"
        f"   ratio {store / bare:.2f}",
        flush=True,
    )


def run_with_database(bench: Callable[[str], Awaitable[None]]) -> None:
    """Run `bench(dsn)` against a fresh migrated database, then drop it."""
    with _admin_dsn() as (admin_dsn, where):
        print(f"server: {where}")
        asyncio.run(_in_fresh_database(admin_dsn, bench))


@contextlib.contextmanager
def _admin_dsn() -> Iterator[tuple[str, str]]:
    if url := os.environ.get("DATABASE_URL"):
        yield url, "DATABASE_URL"
        return
    with (
        tempfile.TemporaryDirectory(prefix="ceu-bench-") as tmp,
        EmbeddedPostgres(Path(tmp) / "data") as server,
    ):
        yield server.dsn(), f"embedded, data in {tmp}"


async def _in_fresh_database(admin_dsn: str, bench: Callable[[str], Awaitable[None]]) -> None:
    name = f"ceu_bench_{os.getpid()}"
    await _drop(admin_dsn, name)
    await create_database(admin_dsn, name)
    dsn = urlunsplit(urlsplit(admin_dsn)._replace(path="/" + name))
    try:
        conn = await connect(dsn)
        try:
            await migrate(conn, load_migrations())
            settings = [f"{s}={await conn.fetchval(f'SHOW {s}')}" for s in _SETTINGS]
            print(f"postgres: {'  '.join(settings)}  cpus={os.cpu_count()}\n", flush=True)
        finally:
            await conn.close()
        await bench(dsn)
    finally:
        await _drop(admin_dsn, name)


async def _drop(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def sibling_database(dsn: str, suffix: str) -> AsyncIterator[str]:
    """Another new, empty database on the same server as `dsn`, dropped afterwards."""
    name = f"ceu_bench_{os.getpid()}_{suffix}"
    await _drop(dsn, name)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield urlunsplit(urlsplit(dsn)._replace(path="/" + name))
    finally:
        await _drop(dsn, name)
