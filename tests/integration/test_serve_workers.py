"""`ceu-ledger serve --workers 2`: one embedded PostgreSQL started by the parent, two API
processes on one socket and one projector process beside them (the workers project nothing),
and SIGTERM stopping the workers and the projector first, then the database."""

from __future__ import annotations

import asyncio
import signal

import psutil

from tests.integration.test_projector_process import gone, projectors_of
from tests.integration.test_serve import _embedded_env, _free_port, postgres_running, serving


async def test_serve_with_two_workers_shares_one_database_and_stops_cleanly(tmp_path):
    port = _free_port()
    pgdata = tmp_path / "data" / "postgres"
    env = _embedded_env(tmp_path / "data", LEDGER_ADMIN_TOKEN="workers-admin")
    async with serving(env, port, "--workers", "2") as (process, client):
        parent = psutil.Process(process.pid)
        workers = [p for p in parent.children() if "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) == 2
        projectors = projectors_of(process.pid)
        assert len(projectors) == 1
        auth = {"Authorization": "Bearer workers-admin"}
        async with asyncio.timeout(60):
            while True:  # each worker answers in turn; the projector process caught up
                health = [(await client.get("/health")).json() for _ in range(20)]
                if all(h["status"] == "ok" for h in health):
                    break
                await asyncio.sleep(0.2)
        assert {h["head_position"] for h in health} == {2}
        assert not any(p["running_here"] for h in health for p in h["projections"].values())
        programs = await client.get("/v1/programs", headers=auth)
        assert sorted(p["code"] for p in programs.json()) == ["CMM", "CMOM"]
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 0, err.decode()
    assert not any(w.is_running() for w in workers)
    assert all(gone(p) for p in projectors)
    assert not postgres_running(pgdata), "the embedded server was stopped after the workers"
