"""API tests: the real app (create_app) on a fresh database, driven through Litestar's test
client.  The clock is fixed at 2026-06-15 14:30 UTC so that dates in the tests are literal.

The world is built once per session into a template database (tests/conftest.py,
`world_template`); a test that asks for it gets a copy of that database (`dsn`) and an app of
its own on the copy, instead of an app that posts ~17 requests first (docs/testing.md)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from tests.api.world import PUBLIC_URL, START, Api, World, running_app
from tests.builders import SteppingClock
from tests.conftest import WORLD_TEMPLATE, fresh_database

__all__ = ["PUBLIC_URL", "running_app", "world_of_its_own"]


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(START)


@pytest.fixture
async def client(dsn: str, clock: SteppingClock) -> AsyncIterator[AsyncTestClient]:
    async with running_app(dsn, clock) as client:
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
