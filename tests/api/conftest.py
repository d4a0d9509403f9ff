"""API tests: the real app (create_app) on a fresh database, driven through Litestar's test
client.  The clock is fixed at 2026-06-15 14:30 UTC so that dates in the tests are literal.

The world is built once per session into a template database (tests/conftest.py,
`world_template`); a test that asks for it gets a copy of that database (`dsn`), instead of an
app that posts ~17 requests first.  What a module adds to the world before its tests can be
built once too (`world_with`).  The app itself is made once per session (`reused_app`) and
started on each test's copy (docs/testing.md)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from ledger.infra.database import create_database
from tests.api.world import (
    PUBLIC_URL,
    START,
    Api,
    ReusedApp,
    T,
    World,
    build_template,
    running_app,
)
from tests.builders import SteppingClock
from tests.conftest import (
    TEMPLATES,
    WORKER,
    WORLD_TEMPLATE,
    drop_database,
    fresh_database,
    with_database,
)

__all__ = ["PUBLIC_URL", "running_app", "world_of_its_own", "world_with"]


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(START)


@pytest.fixture
async def client(
    dsn: str, clock: SteppingClock, reused_app: ReusedApp
) -> AsyncIterator[AsyncTestClient]:
    """The app, started on this test's database (`dsn`, named APP_DATABASE) and clock."""
    async with reused_app.running(dsn, clock) as client:
        yield client


@pytest.fixture
def api(client: AsyncTestClient) -> Api:
    return Api(client)


@pytest.fixture
def world(world_template: World, client: AsyncTestClient) -> World:
    """Two providers, two managers, their certifications, and a token for every role: the
    session's world, on this test's copy of it (`dsn`)."""
    return world_template.on(client)


@contextlib.asynccontextmanager
async def world_of_its_own(admin_dsn: str, world_template: World) -> AsyncIterator[World]:
    """A world on a database (a copy of the world template) and an app of its own, with a
    clock that never moves: for module fixtures (which cannot use the per-test `dsn` and
    `clock`)."""
    async with (
        fresh_database(admin_dsn, template=WORLD_TEMPLATE) as dsn,
        running_app(dsn, SteppingClock(START)) as client,
    ):
        yield world_template.on(client)


@pytest.fixture(scope="module")
async def shared_world(admin_dsn: str, world_template: World) -> AsyncIterator[World]:
    """The same world, built once for a whole module, for tests that leave it as they found
    it: reads, and refusals that check the log's head did not move.  (Posting something that
    an earlier test may have posted already is fine: an identical retry changes nothing.)"""
    async with world_of_its_own(admin_dsn, world_template) as world:
        yield world


def world_with(name: str, build: Callable[[World], Awaitable[T]]) -> Any:
    """A session fixture named `name`: the world plus what `build` adds to it, built once into a
    template database of its own (a copy of the world template); its value is what `build`
    returned.  A test that uses the fixture, directly or through another, gets a copy of that
    database as `dsn`, as if `build` had run at the start of the test (on the same clock: it
    does not move).  Assign it to a module global of the same name (pytest finds it there)."""
    database = f"ceu_test_{name}{WORKER}"
    if name in TEMPLATES:
        raise ValueError(f"two templates are named {name}")
    TEMPLATES[name] = database

    @pytest.fixture(scope="session", name=name)
    async def template(admin_dsn: str, world_template: World) -> T:
        await drop_database(admin_dsn, database)
        await create_database(admin_dsn, database, template=WORLD_TEMPLATE)
        built = build_template(
            with_database(admin_dsn, database), lambda api: build(world_template.on(api.client))
        )
        return await built

    return template
