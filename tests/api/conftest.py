"""API tests: the real app (create_app) on a fresh database, driven through Litestar's test
client.  The clock is fixed at TODAY so that dates in the tests are literal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from litestar.testing import AsyncTestClient

from events.postgres import PostgresEventStore, create_pool
from ledger.api.app import create_app
from ledger.cli import SYSTEM
from ledger.commands import Ledger
from ledger.settings import Secret, Settings
from tests.api.world import ADMIN_TOKEN, Api, World
from tests.builders import SteppingClock

TODAY = date(2026, 6, 15)


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime(2026, 6, 15, 14, 30, tzinfo=UTC))


@pytest.fixture
async def client(dsn: str, clock: SteppingClock) -> AsyncIterator[AsyncTestClient]:
    settings = Settings(admin_token=Secret(ADMIN_TOKEN), poll_interval=0.05, pool_size=8)

    async with create_pool(dsn, min_size=1, max_size=2) as pool:  # what `serve` does at start
        await Ledger(PostgresEventStore(pool, clock=clock), clock=clock).ensure_default_programs(
            SYSTEM
        )
    app = create_app(settings, dsn, clock=clock)
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
def api(client: AsyncTestClient) -> Api:
    return Api(client)


@pytest.fixture
async def world(api: Api) -> World:
    """Two providers, two managers, their certifications, and a token for every role."""
    return await World.build(api)
