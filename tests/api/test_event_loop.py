"""Work that can take long never blocks the event loop for other requests (SPEC 6).

Over real HTTP (uvicorn on loopback, in this test's event loop): while huge rosters and thirty
PDFs are being worked on, `/health` is answered before any of them.  The order is made certain
without a clock: the worker processes that parse large rosters and print PDFs are stopped
(SIGSTOP) while the work is in flight, so none of it can finish until they are continued; a
request whose work ran on the event loop instead holds `/health` behind it whatever the
machine's speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import psutil
import pytest

from events.catalog import ActivityRegistered
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.access.tokens import TokenStore
from ledger.cli import SYSTEM
from ledger.commands import Ledger, PostCompletion, catalogue, managers
from ledger.commands import completions as cmd
from ledger.commands.messages import EnrollManager, GrantCertification, RegisterProvider
from ledger.csv_io import CSV_HEADER
from tests.api.served import served_app
from tests.builders import SteppingClock

HEADER = ",".join(CSV_HEADER).encode() + b"\n"
HUGE_ROSTER = HEADER + b"1\n" * 1_000_000
"""2 MB: a million one-character lines."""


async def _set_up(dsn: str, clock: SteppingClock) -> str:
    """A provider with one activity, a manager certified in CMM with one completion (for a
    transcript); returns the provider's token."""
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
        await catalogue.ensure_default_programs(ledger, SYSTEM)
        await catalogue.register_provider(
            ledger, SYSTEM, RegisterProvider(provider_id="tma", name="TMA", programs=["CMM"])
        )
        await catalogue.register_activity(
            ledger,
            SYSTEM,
            ActivityRegistered(
                provider_id="tma", activity_id="course", title="Coding basics",
                format="online", ceus=Decimal(5), category="core", programs=("CMM",),
                starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
            ),
        )  # fmt: skip
        await managers.enroll_manager(
            ledger,
            SYSTEM,
            EnrollManager(manager_id="m-1", name="Sam Short", email="sam@example.org"),
        )
        await managers.grant_certification(
            ledger, SYSTEM, "m-1", GrantCertification(program="CMM", certified_on=date(2025, 1, 1))
        )
        await cmd.record_completion(
            ledger, SYSTEM, "tma",
            PostCompletion(external_id="c-1", manager_id="m-1", activity_id="course",
                    completed_on=date(2026, 3, 1), ceus=Decimal(2)),
        )  # fmt: skip
        created = await TokenStore(pool).create(
            role="provider", provider_id="tma", created_by="test"
        )
        return created.token


@pytest.fixture
async def server(dsn: str) -> AsyncIterator[tuple[str, str]]:
    clock = SteppingClock(datetime(2026, 6, 15, 12, tzinfo=UTC))
    token = await _set_up(dsn, clock)
    async with served_app(dsn, clock) as url:
        yield url, token


def _workers() -> list[psutil.Process]:
    """This process's worker processes (multiprocessing's spawned children)."""
    return [
        child
        for child in psutil.Process().children()
        if any("spawn_main" in part for part in child.cmdline())
    ]


@contextlib.contextmanager
def _stopped(workers: list[psutil.Process]) -> Iterator[None]:
    """The workers stopped (SIGSTOP) for the block: what they work on cannot finish."""
    for worker in workers:
        os.kill(worker.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for worker in workers:
            os.kill(worker.pid, signal.SIGCONT)


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait (a poll with a deadline) until `condition` holds."""
    try:
        async with asyncio.timeout(60):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"never came: {what}") from None


async def _health_first(base_url: str, in_flight: list[asyncio.Task[httpx.Response]]) -> None:
    """`/health` answers while every request of `in_flight` still waits for its answer."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        health = asyncio.create_task(client.get("/health"))
        done, _ = await asyncio.wait([health, *in_flight], return_when=asyncio.FIRST_COMPLETED)
    assert done == {health}, "a request's work held /health behind it"
    assert health.result().status_code == 200


async def _stored_completions(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT count(*) FROM events WHERE type = 'completion_recorded'")
    finally:
        await conn.close()


def _sent(body: bytes, sent: asyncio.Event) -> Callable[[], AsyncIterator[bytes]]:
    """The body in 64 KB chunks, setting `sent` once the last one is handed to the socket."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]
        sent.set()

    return chunks


async def test_a_roster_of_a_million_one_character_lines_is_refused_and_stores_nothing(
    server: tuple[str, str], dsn: str
):
    base_url, token = server
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client:
        as_csv = await client.post(
            "/v1/completions/batch", content=HUGE_ROSTER, headers={"Content-Type": "text/csv"}
        )
        as_json = await client.post(
            "/v1/completions/batch", content=b'{"items":[' + b"1," * 999_999 + b"1]}",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
    for response in (as_csv, as_json):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in response.json()["errors"]] == ["items"]
    assert "at most 1000 lines" in as_csv.json()["errors"][0]["message"]
    assert await _stored_completions(dsn) == 1  # the one posted at set-up


async def test_health_answers_while_four_rosters_of_a_million_lines_are_in_flight(
    server: tuple[str, str], dsn: str
):
    base_url, token = server
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:

        def post(
            body: Callable[[], AsyncIterator[bytes]],
        ) -> Coroutine[Any, Any, httpx.Response]:
            return client.post("/v1/completions/batch", content=body())

        warm_up = await post(_sent(HUGE_ROSTER, asyncio.Event()))  # the workers are started
        assert warm_up.status_code == 422
        sent = [asyncio.Event() for _ in range(4)]
        with _stopped(_workers()):
            rosters = [asyncio.create_task(post(_sent(HUGE_ROSTER, s))) for s in sent]
            await _until(lambda: all(s.is_set() for s in sent), "the four rosters sent")
            await _health_first(base_url, rosters)
        answers = await asyncio.gather(*rosters)
    assert [a.status_code for a in answers] == [422] * 4
    assert await _stored_completions(dsn) == 1


async def test_health_answers_while_thirty_pdfs_are_asked_for_and_those_past_the_line_get_503(
    server: tuple[str, str],
):
    base_url, _ = server
    headers = {"Authorization": "Bearer admin"}
    path = "/v1/managers/m-1/transcript?format=pdf"
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
        warm_up = await client.get(path)  # the workers are started
        assert warm_up.status_code == 200
        assert warm_up.content.startswith(b"%PDF")
        with _stopped(_workers()):
            pdfs = [asyncio.create_task(client.get(path)) for _ in range(30)]
            # Two are printing (in stopped workers) and sixteen wait in line: the rest are
            # told at once to come back.
            await _until(lambda: sum(p.done() for p in pdfs) == 12, "twelve refused")
            refused = [p.result() for p in pdfs if p.done()]
            waiting = [p for p in pdfs if not p.done()]
            await _health_first(base_url, waiting)
        printed = await asyncio.gather(*waiting)
    for response in refused:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"].startswith("application/problem+json")
    assert {(r.status_code, r.content[:4]) for r in printed} == {(200, b"%PDF")}
