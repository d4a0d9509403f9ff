"""64 clients posting the same 1000 completions, each several times, over real HTTP on
loopback: exactly 1000 facts are recorded, every client gets 201 or 200, totals are exact.

An activity counts once per cycle, so each manager's 25 completions are of 25 different
activities: every one of the 1000 counts, and each manager's total is the sum of its own."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
import pytest

from events.catalog import ActivityRegistered
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.access.tokens import TokenStore
from ledger.cli import SYSTEM
from ledger.commands import Ledger, catalogue, managers
from ledger.commands.messages import EnrollManager, GrantCertification, RegisterProvider
from tests.api.served import served_app
from tests.builders import SteppingClock

CLIENTS, COMPLETIONS, MANAGERS, COPIES = 64, 1000, 40, 4
ACTIVITIES = COMPLETIONS // MANAGERS
START = date(2026, 3, 1)


async def _set_up(dsn: str, clock: SteppingClock) -> str:
    """Default programs, a provider with ACTIVITIES activities, MANAGERS managers certified in
    CMM; returns the provider's token."""
    async with create_pool(dsn, min_size=1, max_size=4) as pool:
        ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
        await catalogue.ensure_default_programs(ledger, SYSTEM)
        await catalogue.register_provider(
            ledger, SYSTEM, RegisterProvider(provider_id="tma", name="TMA", programs=["CMM"])
        )
        for a in range(ACTIVITIES):
            await catalogue.register_activity(
                ledger,
                SYSTEM,
                ActivityRegistered(
                    provider_id="tma",
                    activity_id=f"course-{a}",
                    title=f"Self-paced course {a}",
                    format="online",
                    ceus=Decimal(5),
                    category="core",
                    programs=("CMM",),
                    starts_on=date(2026, 1, 1),
                    ends_on=date(2026, 12, 31),
                ),
            )
        for m in range(MANAGERS):
            await managers.enroll_manager(
                ledger,
                SYSTEM,
                EnrollManager(manager_id=f"m-{m}", name=f"M {m}", email=f"m{m}@example.org"),
            )
            await managers.grant_certification(
                ledger,
                SYSTEM,
                f"m-{m}",
                GrantCertification(program="CMM", certified_on=date(2025, 1, 1)),
            )
        return (
            await TokenStore(pool).create(role="provider", provider_id="tma", created_by="test")
        ).token


@pytest.fixture
async def server(dsn: str) -> AsyncIterator[tuple[str, str]]:
    clock = SteppingClock(datetime(2026, 6, 15, 12, tzinfo=UTC))
    token = await _set_up(dsn, clock)
    async with served_app(dsn, clock) as url:
        yield url, token


def _completions() -> list[dict[str, str]]:
    """COMPLETIONS postings, no two of one manager and one activity."""
    rnd = random.Random(1000)
    return [
        {
            "external_id": f"roster-{n:04d}",
            "manager_id": f"m-{n % MANAGERS}",
            "activity_id": f"course-{n // MANAGERS}",
            "completed_on": (START + timedelta(days=rnd.randrange(100))).isoformat(),
            "ceus": str(Decimal(rnd.randrange(1, 500)) / 100),  # 0.01 .. 4.99, two places
        }
        for n in range(COMPLETIONS)
    ]


@pytest.mark.slow
async def test_64_clients_posting_the_same_completions_record_each_exactly_once(server, dsn):
    base_url, token = server
    completions = _completions()
    assert len({(c["manager_id"], c["activity_id"]) for c in completions}) == COMPLETIONS
    # Every completion goes out COPIES times, spread over the clients in random order.
    work = [c for c in completions for _ in range(COPIES)]
    random.Random(64).shuffle(work)
    shares = [work[i::CLIENTS] for i in range(CLIENTS)]
    statuses: Counter[int] = Counter()
    receipts: dict[str, set[tuple[str, int]]] = {}

    async def client(share: list[dict[str, str]]) -> None:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            for body in share:
                response = await http.post("/v1/completions", json=body)
                statuses[response.status_code] += 1
                assert response.status_code in (200, 201), response.text
                receipt = response.json()
                receipts.setdefault(body["external_id"], set()).add(
                    (receipt["id"], receipt["position"])
                )

    await asyncio.gather(*(client(share) for share in shares))

    assert statuses[201] == COMPLETIONS
    assert statuses[200] == COMPLETIONS * (COPIES - 1)
    assert all(len(seen) == 1 for seen in receipts.values()), "every retry got the original receipt"
    conn = await asyncpg.connect(dsn)
    try:
        recorded = await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'completion_recorded'"
        )
    finally:
        await conn.close()
    assert recorded == COMPLETIONS

    expected: dict[str, Decimal] = {}
    for c in completions:
        expected[c["manager_id"]] = expected.get(c["manager_id"], Decimal(0)) + Decimal(c["ceus"])
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": "Bearer admin"}
    ) as http:
        assert len(expected) == MANAGERS
        for manager_id, total in expected.items():
            status = (await http.get(f"/v1/managers/{manager_id}/status")).json()
            assert Decimal(status["certifications"][0]["ceus_earned"]) == total
        verify = (await http.get("/v1/ledger/verify")).json()
    assert verify["ok"]
