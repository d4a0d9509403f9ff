"""`ceu-ledger serve` runs the projections in a process of its own (SPEC 8): the API process
projects nothing, a completion posted through HTTP still reaches the read models, a projector
killed with SIGKILL is restarted and catches up with nothing counted twice, and SIGTERM stops
every child.  Real processes on the test's database (DATABASE_URL)."""

from __future__ import annotations

import asyncio
import signal

import asyncpg
import httpx
import psutil

from tests.faults.harness import ADMIN_TOKEN, environ_with, posting, seed, wait_for
from tests.integration.test_serve import _free_port, serving

PROJECTIONS = {"stream_summaries", "ceu", "notices", "chain_verification", "claims"}


def _env(dsn: str) -> dict[str, str]:
    return environ_with(DATABASE_URL=dsn, LEDGER_ADMIN_TOKEN=ADMIN_TOKEN)


def projectors_of(serve: int) -> list[psutil.Process]:
    """The `ceu-ledger project` children of the serve process `serve`."""
    found = []
    for child in psutil.Process(serve).children():
        try:
            if "project" in child.cmdline():
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


def gone(process: psutil.Process) -> bool:
    """Exited (a zombie that nobody has reaped yet counts as exited)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def _one_projector(serve: int, not_pid: int | None = None) -> psutil.Process:
    """The projector child, once there is exactly one (and it is not `not_pid`)."""
    await wait_for(lambda: [p.pid for p in projectors_of(serve)] not in ([], [not_pid]), seconds=60)
    (child,) = projectors_of(serve)
    return child


async def _post(client: httpx.AsyncClient, token: str, ids: range) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    for n in ids:
        response = await client.post(
            "/v1/completions", json=posting(f"pp-{n}", n % 5), headers=auth
        )
        assert response.status_code == 201, response.text


async def _postings(client: httpx.AsyncClient, token: str) -> list[str]:
    """The provider's postings as the `ceu` read model lists them (the route waits until the
    projection has caught up with every event committed before it was asked)."""
    response = await client.get(
        "/v1/providers/fp/completions",
        params={"limit": 500},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return [p["external_id"] for p in response.json()["completions"]]


async def _miscounted_streams(dsn: str) -> list[str]:
    """Streams whose `stream_summaries` row does not count exactly the events they hold (an
    event projected twice, or not at all)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT e.stream_id FROM (SELECT stream_id, count(*) AS n FROM events GROUP BY 1) e"
            " LEFT JOIN stream_summaries s USING (stream_id)"
            " WHERE s.event_count IS DISTINCT FROM e.n"
        )
    finally:
        await conn.close()
    return [row[0] for row in rows]


async def _caught_up(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        head = await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
        rows = await conn.fetch("SELECT name, position FROM projection_checkpoints")
    finally:
        await conn.close()
    return {r[0] for r in rows} >= PROJECTIONS and all(r[1] == head for r in rows)


async def test_serve_projects_in_a_child_process_restarted_after_sigkill(dsn):
    async with serving(_env(dsn), _free_port()) as (serve, client):
        first = await _one_projector(serve.pid)
        health = (await client.get("/health")).json()
        assert {n for n, p in health["projections"].items() if not p["running_here"]} == (
            PROJECTIONS
        ), "the API process runs no projector of its own"
        token = await seed(client, managers=5)
        await _post(client, token, range(20))
        assert sorted(await _postings(client, token)) == sorted(f"pp-{n}" for n in range(20))

        first.send_signal(signal.SIGKILL)
        await _post(client, token, range(20, 40))  # while it is dead, or being restarted
        second = await _one_projector(serve.pid, not_pid=first.pid)
        assert gone(first)

        assert sorted(await _postings(client, token)) == sorted(f"pp-{n}" for n in range(40))
        await wait_for(lambda: _caught_up(dsn), seconds=60)
        assert await _miscounted_streams(dsn) == []

        serve.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(serve.communicate(), 60)
    assert serve.returncode == 0, err.decode()
    assert gone(second), "SIGTERM to serve stopped its projector process"
    assert f"projector process {second.pid} stopped (0)" in err.decode(), "cleanly, by itself"


async def test_the_projector_process_leaves_when_serve_is_killed(dsn):
    async with serving(_env(dsn), _free_port()) as (serve, _):
        child = await _one_projector(serve.pid)
        serve.send_signal(signal.SIGKILL)
        await wait_for(lambda: gone(child), seconds=30)
        await asyncio.wait_for(serve.communicate(), 30)  # the child held its pipes too


async def test_serve_with_projectors_inline_runs_them_in_the_api_process(dsn):
    async with serving(_env(dsn), _free_port(), "--projectors", "inline") as (serve, client):
        health = (await client.get("/health")).json()
        assert all(p["running_here"] for p in health["projections"].values())
        assert projectors_of(serve.pid) == []
        serve.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(serve.communicate(), 60)
    assert serve.returncode == 0, err.decode()
