"""A write that reaches a PostgreSQL that no longer takes writes (a planned switchover demotes
the primary under the pool's open connections): `ReadOnlySQLTransactionError`, answered like
no primary at all (503, problem+json, Retry-After), never a 500; once the server takes writes
again, the same server process writes again.

The read-only server is this cluster with `default_transaction_read_only` switched on for
every session at once (ALTER SYSTEM and a reload): PostgreSQL refuses the writes with the very
error (SQLSTATE 25006) a demoted primary gives."""

from __future__ import annotations

import asyncpg
import httpx

from tests.faults.cluster import Cluster
from tests.faults.harness import Server, Tally, figures, posting, seed, wait_for


async def read_only(cluster: Cluster, on: bool) -> None:
    conn = await asyncpg.connect(cluster.dsn())
    try:
        await conn.execute("SET default_transaction_read_only = off")
        if on:
            await conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
        else:
            await conn.execute("ALTER SYSTEM RESET default_transaction_read_only")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


async def test_a_write_refused_as_read_only_is_a_503_to_retry_and_the_server_writes_again(
    cluster: Cluster, server: Server
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        token = await seed(http, 1)
        headers = {"Authorization": f"Bearer {token}"}
        tally = Tally()
        refused: list[httpx.Response] = []
        body = posting("read-only-1", 0)

        async def post_until(status: int) -> bool:
            response = await http.post("/v1/completions", json=body, headers=headers)
            tally.saw(response)
            if response.status_code == 503:
                refused.append(response)
            return response.status_code == status

        await read_only(cluster, True)
        try:
            await wait_for(lambda: post_until(503), 30, step=0.1)
        finally:
            await read_only(cluster, False)
        await wait_for(lambda: post_until(201), 30, step=0.1)

    figures("read_only", answers=dict(tally.statuses))
    assert tally.server_errors == 0, "no 500: a read-only server is not the server's bug"
    assert tally.bad_503 == 0, "every 503 a problem+json with Retry-After"
    assert refused[0].json()["detail"] == "the database is unavailable; try again"
    assert server.log_lines("Traceback") == 0
