"""A lived-in ledger of about 1,000,000 events, built once and cached.

The programs (CMM, CMOM), a provider and its activities are recorded through the commands, as
the service records them.  Then the managers' streams, written by the fast path of
bench/rebuild.py: real facts (ManagerEnrolled, CertificationGranted in CMM and, for a third,
CMOM, then 20-150 CompletionRecorded over the years since), encoded by the real codec, sealed
onto the chain by the store's own pure `events.append.seal` (so every hash is the one an
append would have stored) and written with binary COPY; the head row moved to the last event.
The projections are caught up with the engine, then renewals are filed (and most decided)
through the commands, for the managers whose cycle the rules let them renew, and the
projections caught up again.  `ceu-ledger verify` passes on the result.

The embedded PostgreSQL's data directory is kept under ~/.cache/ceu-ledger/lived-in-<VERSION>
with a `ready.json` beside it (the database's name, the head, an auditor's token): a rerun
with the same VERSION reuses it.  Change VERSION when what is built changes.

`python -m bench.lived_in` builds it (or says it is there).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from bench.copied import copy_streams
from events.catalog import CertificationGranted, CompletionRecorded, ManagerEnrolled
from events.codec import Actor, Metadata, encode
from events.postgres.connection import connect, create_pool
from events.postgres.reads import fetch_head
from events.postgres.store import PostgresEventStore
from events.store import NewEvent
from ledger.access.tokens import TokenStore
from ledger.cli import SYSTEM
from ledger.commands import Ledger, catalogue, renewals
from ledger.commands.messages import DecideRenewal, FileRenewal, PayFee, RegisterProvider
from ledger.domain.errors import DomainError
from ledger.infra.database import EmbeddedPostgres, create_database
from ledger.infra.migrations import load_migrations, migrate
from projections.engine import ProjectionRunner
from projections.registry import all_projections

__all__ = ["VERSION", "LivedIn", "lived_in"]

VERSION = "v1"
DATABASE = "lived_in"
CACHE = Path.home() / ".cache" / "ceu-ledger"

_PROVIDER = Metadata(actor=Actor(role="provider", id="tma"), request_id="lived-in")
_ASSOCIATION = Metadata(actor=Actor(role="admin", id="system"), request_id="lived-in")
_TITLES = ("Infection control", "HIPAA privacy", "Billing and coding", "Leadership", "Safety")


class LivedIn(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    database: str
    events: int
    managers: int
    auditor_token: str
    """An auditor of CMM and CMOM (its pages are /programs/CMM and /programs/CMOM)."""


def _facts(rng: random.Random, m: int, today: date) -> Iterator[NewEvent]:
    manager_id = f"mgr-{m:06d}"
    yield encode(
        ManagerEnrolled(manager_id=manager_id, name=f"Manager {m} Lived-In", email=f"m{m}@x.org"),
        metadata=_ASSOCIATION,
        event_id=uuid.uuid4(),
    )
    certified = today - timedelta(days=rng.randrange(60, 3 * 365))
    programs: tuple[str, ...] = ("CMM", "CMOM") if m % 3 == 0 else ("CMM",)
    for code in programs:
        yield encode(
            CertificationGranted(manager_id=manager_id, program=code, certified_on=certified),
            metadata=_ASSOCIATION,
            event_id=uuid.uuid4(),
        )
    span = max(1, (today - certified).days)
    for n in range(rng.randint(20, 150)):
        a = rng.randrange(200)
        event = CompletionRecorded(
            completion_id=uuid.uuid4(),
            manager_id=manager_id,
            provider_id="tma",
            external_id=f"roster-{m}-{n}",
            activity_id=f"course-{a}",
            activity_title=f"{_TITLES[a % len(_TITLES)]} {a}",
            category="core" if a % 2 == 0 else "general",
            programs=programs,
            completed_on=certified + timedelta(days=rng.randrange(span)),
            ceus=Decimal(rng.choice(("0.50", "1.00", "1.50", "2.00"))),
        )
        yield encode(event, metadata=_PROVIDER, event_id=event.completion_id)


async def _copy_managers(dsn: str, total: int, today: date) -> int:
    """The managers' streams by COPY, chained onto the head; the number of managers."""
    rng = random.Random(17)

    def stream(m: int, wanted: int) -> tuple[str, list[NewEvent]] | None:
        return (f"manager-mgr-{m:06d}", list(_facts(rng, m, today))) if wanted > 0 else None

    conn = await connect(dsn)
    try:
        head = await fetch_head(conn)
        managers, _ = await copy_streams(
            conn, stream, total=total, position=head.position, prev=head.hash,
            at=datetime.combine(today - timedelta(days=400), datetime.min.time(), UTC),
            per_statement=100, step=timedelta(seconds=30),
        )  # fmt: skip
    finally:
        await conn.close()
    return managers


async def _catch_up(dsn: str) -> None:
    for projection in all_projections():
        start = time.perf_counter()
        await ProjectionRunner(dsn, projection, batch_size=5000).catch_up_or_follow()
        print(f"  {projection.name} caught up in {time.perf_counter() - start:.0f} s", flush=True)


async def _renewals(ledger: Ledger, managers: int) -> int:
    """File a renewal for every tenth manager the rules let renew; decide most of them."""
    filed = 0
    for m in range(0, managers, 10):
        manager_id = f"mgr-{m:06d}"
        try:
            fee = PayFee(program="CMM", amount_cents=7500, reference=f"cheque {m}")
            await renewals.pay_fee(ledger, SYSTEM, manager_id, fee)
            renewal, _ = await renewals.file_renewal(
                ledger, SYSTEM, manager_id, FileRenewal(program="CMM")
            )
        except DomainError:
            continue
        filed += 1
        if filed % 10 < 6:
            await renewals.decide_renewal(
                ledger,
                SYSTEM,
                renewal.renewal_id,
                DecideRenewal(decision="approve", reason="Complete"),
            )
        elif filed % 10 == 6:
            await renewals.decide_renewal(
                ledger,
                SYSTEM,
                renewal.renewal_id,
                DecideRenewal(decision="deny", reason="Evidence missing"),
            )
    return filed


async def _build(dsn: str, events: int) -> LivedIn:
    start = time.perf_counter()
    conn = await connect(dsn)
    try:
        await migrate(conn, load_migrations())
    finally:
        await conn.close()
    today = datetime.now(UTC).date()
    async with create_pool(dsn, min_size=1, max_size=4) as pool:
        ledger = Ledger(PostgresEventStore(pool))
        await catalogue.ensure_default_programs(ledger, SYSTEM)
        await catalogue.register_provider(
            ledger,
            SYSTEM,
            RegisterProvider(provider_id="tma", name="TMA", programs=["CMM", "CMOM"]),
        )
    managers = await _copy_managers(dsn, events, today)
    print(f"  {managers:,} managers' streams by COPY ({time.perf_counter() - start:.0f} s)")
    await _catch_up(dsn)
    async with create_pool(dsn, min_size=1, max_size=4) as pool:
        ledger = Ledger(PostgresEventStore(pool))
        filed = await _renewals(ledger, managers)
        print(f"  {filed:,} renewals filed ({time.perf_counter() - start:.0f} s)", flush=True)
        token = await TokenStore(pool).create(
            role="auditor", programs=("CMM", "CMOM"), created_by="bench"
        )
    await _catch_up(dsn)
    conn = await connect(dsn)
    try:
        head = (await fetch_head(conn)).position
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    print(f"built {head:,} events in {time.perf_counter() - start:.0f} s", flush=True)
    return LivedIn(
        version=VERSION, database=DATABASE, events=head, managers=managers,
        auditor_token=token.token,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def lived_in(events: int = 1_000_000) -> Any:
    """The embedded server holding the lived-in ledger (built on first use), and its
    description: `async with lived_in() as (dsn, ledger): ...`."""
    home = CACHE / f"lived-in-{VERSION}-{events}"
    ready = home / "ready.json"
    with EmbeddedPostgres(home / "data") as server:
        dsn = server.dsn(DATABASE)
        if ready.exists():
            built = msgspec.json.decode(ready.read_bytes(), type=LivedIn)
            print(f"lived-in ledger: reused {home} ({built.events:,} events)", flush=True)
        else:
            print(f"lived-in ledger: building {events:,} events in {home}", flush=True)
            admin = server.dsn()
            with contextlib.suppress(Exception):
                await _drop(admin)
            await create_database(admin, DATABASE)
            built = await _build(dsn, events)
            ready.write_bytes(msgspec.json.encode(built))
        yield dsn, built


async def _drop(admin_dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lived_in", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()

    async def build() -> None:
        async with lived_in(args.events) as (_, built):
            print(json.dumps({k: v for k, v in msgspec.structs.asdict(built).items()}))

    asyncio.run(build())


if __name__ == "__main__":
    main()
