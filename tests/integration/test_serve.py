"""`ceu-ledger serve` from nothing: embedded PostgreSQL, migrations, projectors, HTTP, and a
clean stop on SIGTERM (what `make run` does)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from asyncio.subprocess import PIPE

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_serve_starts_an_embedded_database_answers_health_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"LEDGER_DATA_DIR": str(tmp_path / "data"), "LEDGER_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ledger.cli", "serve", env=env, stdout=PIPE, stderr=PIPE
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            async with asyncio.timeout(60):
                while True:
                    assert process.returncode is None, await process.stderr.read()
                    try:
                        response = await client.get("/health")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
        assert response.status_code == 200
        # A fresh ledger holds the default programs, CMM and CMOM, as its first two events.
        health = response.json()
        assert (health["status"], health["database"], health["head_position"]) == ("ok", "ok", 2)
        pgdata = tmp_path / "data" / "postgres"
        assert (pgdata / "postmaster.pid").exists()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await process.communicate()

    assert process.returncode == 0, err.decode()
    assert not (pgdata / "postmaster.pid").exists(), "the embedded server was stopped"
