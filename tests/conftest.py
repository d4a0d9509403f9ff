"""Test fixtures: a real PostgreSQL for the whole session, a fresh database for each test.

Without DATABASE_URL the session starts the embedded server (tuned for tests: fsync off,
which is safe for throwaway data).  With DATABASE_URL, that server is used, and it must let
the user create databases.  A template database with every migration applied is made once;
each test gets its own copy (CREATE DATABASE ... TEMPLATE, a file copy, some milliseconds).

The API tests' world (tests.api.world.World) is built once per session, through the API, into a
second template; a test that uses it gets a copy of that one instead (docs/testing.md).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from events.postgres.connection import connect, create_pool
from events.postgres.store import PostgresEventStore
from ledger.infra.database import EmbeddedPostgres, create_database, service_login
from ledger.infra.migrations import load_migrations, migrate
from tests.api.world import ReusedApp, World, build_world_template

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
"""The pytest-xdist worker this process is (gw0, gw1, ...; empty in one process): on a shared
DATABASE_URL server each worker's templates carry its name, so workers never drop each other's."""
TEMPLATE = f"ceu_test_template{WORKER}"
WORLD_TEMPLATE = f"ceu_test_world{WORKER}"
"""The migrated template plus the API tests' world, built once per session."""
APP_DATABASE = f"ceu_test_app_{os.getpid()}"
"""The one name of every API test's database (`dsn` when the test takes `client`), dropped and
copied again for each test: the session's app (tests.api.world.ReusedApp) is bound to it."""
TEMPLATES: dict[str, str] = {"world_template": WORLD_TEMPLATE}
"""The session fixtures that build a template database, and that database: a test that uses
one of them, directly or through another fixture, gets a copy of it as `dsn` (of the last one
here if it uses several: each is built on the ones before it).  tests.api.conftest.world_with
adds more."""
SYSTEM_SETUP = "scripts/system-setup all"
_names = itertools.count(1)


def system_command(name: str, package: str, *, also: tuple[str, ...] = ()) -> str:
    """The path of a command that a Debian package of debian-packages.txt provides.  The setup
    that `make test` runs installs them; a test never runs apt-get itself (it would fight
    another apt-get for the lock, and hide a missing install step)."""
    for candidate in (name, *also):
        if found := shutil.which(candidate):
            return found
    pytest.fail(
        f"{name} is missing: Debian's {package}, named in debian-packages.txt, "
        f"is installed by `make test` (or run {SYSTEM_SETUP} as root)"
    )


def with_database(dsn: str, name: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    with EmbeddedPostgres(tmp_path_factory.mktemp("postgres") / "data") as server:
        yield server.dsn()


@pytest.fixture(scope="session")
async def template_dsn(admin_dsn: str) -> str:
    conn = await asyncpg.connect(admin_dsn)
    try:
        if not os.environ.get("DATABASE_URL"):
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                await conn.execute(f"ALTER SYSTEM SET {setting} = off")
            await conn.execute("SELECT pg_reload_conf()")
        await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
    finally:
        await conn.close()
    await create_database(admin_dsn, TEMPLATE)
    dsn = with_database(admin_dsn, TEMPLATE)
    conn = await connect(dsn)
    try:
        await migrate(conn, load_migrations())
    finally:
        await conn.close()
    return dsn


@contextlib.asynccontextmanager
async def fresh_database(
    admin_dsn: str, *, migrated: bool = True, template: str = TEMPLATE, name: str | None = None
) -> AsyncIterator[str]:
    """A new database (a copy of `template`, by default the migrated one; or empty), dropped
    afterwards.  Named `name` (dropped first if a test left it behind), else a name of its own."""
    if name is None:
        name = f"ceu_test_{os.getpid()}_{next(_names)}"
    else:
        await drop_database(admin_dsn, name)
    await create_database(admin_dsn, name, template=template if migrated else None)
    try:
        yield with_database(admin_dsn, name)
    finally:
        await drop_database(admin_dsn, name)


@pytest.fixture
async def empty_dsn(admin_dsn: str) -> AsyncIterator[str]:
    """A database with nothing in it, not even the migrations."""
    async with fresh_database(admin_dsn, migrated=False) as dsn:
        yield dsn


@pytest.fixture(scope="session")
async def world_template(admin_dsn: str, template_dsn: str) -> World:
    """The API tests' world, built once into `WORLD_TEMPLATE` (a copy of the migrated
    template); its tokens (the world without an `api`)."""
    await drop_database(admin_dsn, WORLD_TEMPLATE)
    await create_database(admin_dsn, WORLD_TEMPLATE, template=TEMPLATE)
    return await build_world_template(with_database(admin_dsn, WORLD_TEMPLATE))


@pytest.fixture(scope="session")
async def reused_app(template_dsn: str) -> ReusedApp:
    """The session's one app for the API tests (tests.api.world.ReusedApp), bound to
    APP_DATABASE as the service's role (made on the template: a role belongs to the server)."""
    return ReusedApp(with_database(await service_login(template_dsn), APP_DATABASE))


@pytest.fixture
async def dsn(
    request: pytest.FixtureRequest, admin_dsn: str, template_dsn: str
) -> AsyncIterator[str]:
    """A fresh, fully migrated database for one test: a copy of the world template when the
    test uses the world (`world_template`, directly or through `world`), or of a template
    built on it (TEMPLATES), else of the migrated template.  Named `APP_DATABASE` when the
    test takes the app (`client`), which is bound to that name; else a name of its own."""
    template = TEMPLATE
    for fixture, database in TEMPLATES.items():  # the last one the test uses: the most built
        if fixture in request.fixturenames:
            request.getfixturevalue(fixture)
            template = database
    name = APP_DATABASE if "client" in request.fixturenames else None
    async with fresh_database(admin_dsn, template=template, name=name) as dsn:
        yield dsn


async def drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    async with create_pool(dsn, min_size=1, max_size=24) as pool:
        yield pool


@pytest.fixture
async def pg_store(pool: asyncpg.Pool) -> PostgresEventStore:
    return PostgresEventStore(pool)
