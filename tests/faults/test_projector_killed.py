"""kill -9 of a projector process mid-batch: after a restart the read model equals a clean
rebuild (a batch and its checkpoint commit together, or not at all)."""

from __future__ import annotations

import asyncio
import signal
import sys

import asyncpg
import httpx

from projections.engine import ProjectionRunner
from projections.registry import all_projections
from tests.faults.harness import Server, figures, posting, seed, wait_for

MANAGERS = 20
ROSTERS = 2
BATCH_SIZE = 5


async def _tables(dsn: str) -> dict[str, list[tuple]]:
    """Every row of every read model table, in a stable order."""
    conn = await asyncpg.connect(dsn)
    try:
        return {
            table: sorted(map(tuple, await conn.fetch(f"SELECT * FROM {table}")), key=repr)
            for p in all_projections()
            for table in p.tables
        }
    finally:
        await conn.close()


async def _progress(dsn: str) -> tuple[int, dict[str, int]]:
    conn = await asyncpg.connect(dsn)
    try:
        head = await conn.fetchval("SELECT position FROM event_head")
        rows = await conn.fetch("SELECT name, position FROM projection_checkpoints")
    finally:
        await conn.close()
    return head, {row[0]: row[1] for row in rows}


async def _projector(dsn: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.faults.projector",
        dsn,
        str(BATCH_SIZE),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_a_projector_killed_mid_batch_then_restarted_equals_a_clean_rebuild(
    ledger_dsn: str, tmp_path
):
    server = Server(ledger_dsn, tmp_path / "server.log", projectors=False)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            token = await seed(client, managers=MANAGERS)
            headers = {"Authorization": f"Bearer {token}"}
            for r in range(ROSTERS):
                items = [posting(f"p{r}-{i}", manager=i % MANAGERS) for i in range(1000)]
                response = await client.post(
                    "/v1/completions/batch", json={"items": items}, headers=headers
                )
                assert response.status_code == 200, response.text
    finally:
        await server.close()
    head, _ = await _progress(ledger_dsn)

    async def midway() -> bool:
        _, checkpoints = await _progress(ledger_dsn)
        return checkpoints.get("ceu", 0) > head // 3

    projector = await _projector(ledger_dsn)
    try:
        await wait_for(midway, 120, step=0.01)
    finally:
        projector.send_signal(signal.SIGKILL)
        await projector.wait()
    _, at_kill = await _progress(ledger_dsn)

    projector = await _projector(ledger_dsn)
    try:

        async def at_head() -> bool:
            _, checkpoints = await _progress(ledger_dsn)
            return len(checkpoints) == len(all_projections()) and min(checkpoints.values()) >= head

        seconds = await wait_for(at_head, 120)
    finally:
        projector.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            exit_code = await projector.wait()
    incremental = await _tables(ledger_dsn)

    for projection in all_projections():
        await ProjectionRunner(ledger_dsn, projection).rebuild(restart=True)
    rebuilt = await _tables(ledger_dsn)

    differing = [t for t in rebuilt if rebuilt[t] != incremental[t]]
    figures(
        "kill -9 projector mid-batch",
        events=head,
        checkpoints_at_kill=at_kill,
        seconds_to_head_after_restart=f"{seconds:.2f}",
        tables_differing_from_rebuild=len(differing),
        rows=sum(len(rows) for rows in rebuilt.values()),
    )
    assert 0 < at_kill["ceu"] < head, "killed midway"
    assert differing == []
    assert exit_code == 0, "SIGTERM stops the projector cleanly"
