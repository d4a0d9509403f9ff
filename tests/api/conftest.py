"""API tests: the real app (create_app) on a fresh database, driven through Litestar's test
client.  The clock is fixed at 2026-06-15 14:30 UTC so that dates in the tests are literal."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from litestar.testing import AsyncTestClient

from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.app.factory import create_app
from ledger.cli import SYSTEM
from ledger.commands import Ledger
from ledger.commands.catalogue import ensure_default_programs
from ledger.infra.database import service_login
from ledger.settings import Secret, Settings
from tests.api.world import ADMIN_TOKEN, Api, World
from tests.builders import SteppingClock
from tests.conftest import fresh_database


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime(2026, 6, 15, 14, 30, tzinfo=UTC))


PUBLIC_URL = "http://testserver.local"
"""The test client's own address, passed as LEDGER_PUBLIC_URL (the app requires one)."""


@contextlib.asynccontextmanager
async def running_app(dsn: str, clock: SteppingClock) -> AsyncIterator[AsyncTestClient]:
    settings = Settings(
        admin_token=Secret(ADMIN_TOKEN), poll_interval=0.05, pool_size=8, public_url=PUBLIC_URL
    )

    async with create_pool(dsn, min_size=1, max_size=2) as pool:  # what `serve` does at start
        await ensure_default_programs(
            Ledger(PostgresEventStore(pool, clock=clock), clock=clock), SYSTEM
        )
    # Migrated as the owner (the template); served as the service's role, as `serve` does.
    app = create_app(settings, await service_login(dsn), clock=clock)
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
async def client(dsn: str, clock: SteppingClock) -> AsyncIterator[AsyncTestClient]:
    async with running_app(dsn, clock) as client:
        yield client


@pytest.fixture
def api(client: AsyncTestClient) -> Api:
    return Api(client)


@pytest.fixture
async def world(api: Api) -> World:
    """Two providers, two managers, their certifications, and a token for every role."""
    return await World.build(api)


@contextlib.asynccontextmanager
async def world_of_its_own(admin_dsn: str) -> AsyncIterator[World]:
    """A world on a database and an app of its own, with a clock that never moves: for module
    fixtures (which cannot use the per-test `dsn` and `clock`)."""
    async with (
        fresh_database(admin_dsn) as dsn,
        running_app(dsn, SteppingClock(datetime(2026, 6, 15, 14, 30, tzinfo=UTC))) as client,
    ):
        yield await World.build(Api(client))


@pytest.fixture(scope="module")
async def shared_world(admin_dsn: str, template_dsn: str) -> AsyncIterator[World]:
    """The same world, built once for a whole module, for tests that leave it as they found
    it: reads, and refusals that check the log's head did not move.  (Posting something that
    an earlier test may have posted already is fine: an identical retry changes nothing.)"""
    async with world_of_its_own(admin_dsn) as world:
        yield world
