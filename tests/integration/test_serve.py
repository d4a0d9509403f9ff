"""`ceu-ledger serve` from nothing: embedded PostgreSQL, migrations, projectors, HTTP, JSON
logs, and a clean stop on SIGTERM (what `make run` does); and the embedded PostgreSQL stopped
on every exit path of the other commands, signals included."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import sys
from asyncio.subprocess import PIPE, Process
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil
from cryptography.fernet import Fernet

from events.postgres.connection import connect, create_pool
from events.postgres.store import PostgresEventStore
from ledger.cli import SYSTEM
from ledger.commands import Ledger
from ledger.commands.catalogue import ensure_default_programs
from ledger.infra.database import DEFAULT_DATABASE, USERS_FILE, EmbeddedPostgres, create_database
from ledger.infra.migrations import load_migrations, migrate
from tests.builders import facts

LOG_FIELDS = {"time", "level", "request_id", "method", "route", "status", "duration_ms"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _embedded_env(data_dir: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return env | {"LEDGER_DATA_DIR": str(data_dir)} | more


def postgres_running(pgdata: Path) -> bool:
    """A server for `pgdata` runs: its pid file names a live process, or some postgres
    process was started on that directory."""
    if (pgdata / "postmaster.pid").exists():
        return True
    for process in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if process.info["name"] == "postgres" and str(pgdata) in " ".join(
                process.info["cmdline"] or ()
            ):
                return True
    return False


def users(pgdata: Path) -> list[int]:
    path = pgdata / USERS_FILE
    return json.loads(path.read_text()) if path.exists() else []


@contextlib.asynccontextmanager
async def serving(
    env: dict[str, str], port: int, *options: str
) -> AsyncIterator[tuple[Process, httpx.AsyncClient]]:
    """`ceu-ledger serve` until /health answers; SIGTERM at the end.  With the settings it
    requires outside --demo, unless `env` names its own."""
    required = {
        "LEDGER_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LEDGER_SESSION_SECRET": secrets.token_urlsafe(48),
        "LEDGER_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ledger.cli", "serve", "--port", str(port), *options,
        env=required | env, stdout=PIPE, stderr=PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            async with asyncio.timeout(60):
                while True:
                    assert process.returncode is None, await process.stderr.read()
                    try:
                        await client.get("/health")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
            yield process, client
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)


async def test_serve_starts_an_embedded_database_answers_health_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    pgdata = tmp_path / "data" / "postgres"
    async with serving(_embedded_env(tmp_path / "data"), port) as (process, client):
        response = await client.get("/health", headers={"X-Request-ID": "health-probe-1"})
        missing = await client.get(
            "/v1/managers/m-1/status", headers={"X-Request-ID": "no-token-2"}
        )
        assert response.status_code == 200
        # A fresh ledger holds the default programs, CMM and CMOM, as its first two events.
        health = response.json()
        assert (health["status"], health["database"], health["head_position"]) == ("ok", "ok", 2)
        assert response.headers["x-request-id"] == "health-probe-1"
        assert (missing.status_code, missing.headers["x-request-id"]) == (401, "no-token-2")
        assert (pgdata / "postmaster.pid").exists()
    _, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 0, err.decode()
    assert not postgres_running(pgdata), "the embedded server was stopped"
    assert users(pgdata) == []
    lines = [json.loads(line) for line in err.decode().splitlines()]  # every line is JSON
    requests = {
        line.get("request_id"): line for line in lines if line["logger"] == "ledger.request"
    }
    health, refused = requests["health-probe-1"], requests["no-token-2"]
    assert LOG_FIELDS | {"actor_role"} <= health.keys()
    assert (health["method"], health["route"], health["status"]) == ("GET", "/health", 200)
    assert (refused["route"], refused["status"]) == ("/v1/managers/{manager_id}/status", 401)
    assert not any(line["logger"] == "uvicorn.access" for line in lines), "ours replaces it"
    assert any(line["logger"] == "uvicorn.error" for line in lines), "uvicorn's lines are JSON"


async def _fill_embedded(pgdata: Path, events: int) -> None:
    """A ledger with `events` events in the embedded server of `pgdata` (started and stopped
    here, as the CLI would)."""
    server = EmbeddedPostgres(pgdata)
    await asyncio.to_thread(server.__enter__)
    try:
        await create_database(server.dsn(), DEFAULT_DATABASE)
        dsn = server.dsn(DEFAULT_DATABASE)
        conn = await connect(dsn)
        try:
            await migrate(conn, load_migrations())
        finally:
            await conn.close()
        async with create_pool(dsn, min_size=1, max_size=2) as pool:
            store = PostgresEventStore(pool)
            await ensure_default_programs(Ledger(store), SYSTEM)
            for n in range(events // 50):
                await store.append(f"stream-{n}", facts(50), expected_version=0)
    finally:
        await asyncio.to_thread(server.__exit__, None, None, None)


async def _progress(stream: asyncio.StreamReader, at_least: int) -> None:
    """Read the progress bar until it shows `at_least` events done."""
    seen = b""
    while True:
        chunk = await stream.read(4096)
        assert chunk, f"the rebuild ended first: {seen.decode(errors='replace')}"
        seen = (seen + chunk)[-4096:]
        done = [int(n) for n in re.findall(rb"(\d+)/\d+ \[", seen)]
        if done and max(done) >= at_least:
            return


async def test_sigterm_during_a_rebuild_stops_the_embedded_server_and_so_does_a_later_serve(
    tmp_path,
):
    data_dir = tmp_path / "data"
    pgdata = data_dir / "postgres"
    await _fill_embedded(pgdata, events=3000)
    assert not postgres_running(pgdata)

    rebuild = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ledger.cli", "rebuild", "stream_summaries", "--batch-size", "1",
        env=_embedded_env(data_dir), stdout=PIPE, stderr=PIPE,
    )  # fmt: skip
    try:
        await asyncio.wait_for(_progress(rebuild.stderr, at_least=20), 60)
        assert postgres_running(pgdata)
    finally:
        rebuild.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(rebuild.communicate(), 60)

    assert rebuild.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err.decode()
    assert err.decode().strip().splitlines()[-1] == "ceu-ledger: stopped by SIGTERM"
    assert b"rebuilt up to" not in out, "it was stopped before the end"
    assert not postgres_running(pgdata), "SIGTERM stopped the embedded server"
    assert users(pgdata) == []

    # A process killed without warning leaves its id behind; the next start drops it, so the
    # server still stops when its last real user exits.
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    (pgdata / USERS_FILE).write_text(json.dumps([gone.pid]))
    async with serving(_embedded_env(data_dir), _free_port()) as (serve, client):
        assert (await client.get("/health")).status_code == 200
        assert gone.pid not in users(pgdata)
    _, err = await asyncio.wait_for(serve.communicate(), 60)

    assert serve.returncode == 0, err.decode()
    assert not postgres_running(pgdata), "the stale id did not keep the server running"
    assert users(pgdata) == []
