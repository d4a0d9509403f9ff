"""Fault tests: real server processes against a PostgreSQL of their own (tests/faults/cluster.py),
killed, stopped and restarted while clients keep working.  Everything binds 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.faults.cluster import Cluster
from tests.faults.harness import Server, environ_with

_names = itertools.count(1)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
async def ledger_dsn(cluster: Cluster) -> str:
    """A new database on the cluster, migrated by `ceu-ledger migrate` (default programs)."""
    if not cluster.running():
        cluster.start()
    name = f"fault_{next(_names)}"
    conn = await asyncpg.connect(cluster.dsn())
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    dsn = cluster.dsn(name)
    migrate = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ledger.cli",
        "migrate",
        env=environ_with(DATABASE_URL=dsn),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await migrate.communicate()
    assert migrate.returncode == 0, err.decode()
    return dsn


@pytest.fixture
async def server(ledger_dsn: str, tmp_path, request) -> AsyncIterator[Server]:
    """`ceu-ledger serve` on the test's database; a test marked `no_projectors` gets one
    that leaves the projections alone (so the only statements it runs are the requests')."""
    projectors = request.node.get_closest_marker("no_projectors") is None
    server = Server(ledger_dsn, tmp_path / "server.log", projectors=projectors)
    await server.start()
    try:
        yield server
    finally:
        await server.close()
