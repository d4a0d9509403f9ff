"""16 clients posting 40 distinct completions each to ONE manager, over real HTTP on
loopback: a hot stream is queued and combined (ledger/commands/streams_queue.py), never
refused.  Every posting is answered 201, exactly 640 facts are stored, the total is exact.

Each posting is of an activity of its own (an activity counts once per cycle), so every one
of the 640 counts."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
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

WRITERS, EACH = 16, 40
POSTINGS = WRITERS * EACH


def _activity(n: int) -> ActivityRegistered:
    return ActivityRegistered(
        provider_id="tma", activity_id=f"course-{n}", title=f"Course {n}", format="online",
        ceus=Decimal(5), category="core", programs=("CMM",),
        starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
    )  # fmt: skip


async def _set_up(dsn: str, clock: SteppingClock) -> str:
    async with create_pool(dsn, min_size=1, max_size=8) as pool:
        ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
        await catalogue.ensure_default_programs(ledger, SYSTEM)
        await catalogue.register_provider(
            ledger, SYSTEM, RegisterProvider(provider_id="tma", name="TMA", programs=["CMM"])
        )
        for start in range(0, POSTINGS, 64):  # 64 at a time: the store coalesces them
            await asyncio.gather(
                *(
                    catalogue.register_activity(ledger, SYSTEM, _activity(n))
                    for n in range(start, min(start + 64, POSTINGS))
                )
            )
        await managers.enroll_manager(
            ledger, SYSTEM, EnrollManager(manager_id="hot", name="Hot", email="hot@example.org")
        )
        await managers.grant_certification(
            ledger, SYSTEM, "hot", GrantCertification(program="CMM", certified_on=date(2025, 1, 1))
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


def _posting(n: int) -> dict[str, str]:
    return {
        "external_id": f"hot-{n:04d}",
        "manager_id": "hot",
        "activity_id": f"course-{n}",
        "completed_on": "2026-05-04",
        "ceus": f"{1 + n % 4}.{n % 100:02d}",
    }


@pytest.mark.slow
async def test_sixteen_writers_posting_to_one_manager_are_all_recorded(server, dsn):
    base_url, token = server
    statuses: Counter[int] = Counter()
    refused: list[str] = []
    positions: set[int] = set()

    async def writer(w: int) -> None:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            for n in range(w * EACH, (w + 1) * EACH):
                response = await http.post("/v1/completions", json=_posting(n))
                statuses[response.status_code] += 1
                if response.status_code != 201:
                    refused.append(response.text)
                else:
                    positions.add(response.json()["position"])

    await asyncio.gather(*(writer(w) for w in range(WRITERS)))

    assert refused == [], f"{len(refused)} refused, e.g. {refused[:2]}"
    assert statuses == {201: POSTINGS}
    assert len(positions) == POSTINGS, "every posting has its own receipt position"
    conn = await asyncpg.connect(dsn)
    try:
        recorded = await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'completion_recorded'"
            " AND stream_id = 'manager-hot'"
        )
    finally:
        await conn.close()
    assert recorded == POSTINGS
    total = sum(Decimal(_posting(n)["ceus"]) for n in range(POSTINGS))
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": "Bearer admin"}, timeout=60
    ) as http:
        status = (await http.get("/v1/managers/hot/status")).json()
        assert Decimal(status["certifications"][0]["ceus_earned"]) == total
        assert (await http.get("/v1/ledger/verify")).json()["ok"]
