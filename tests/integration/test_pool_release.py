"""A pool's release (events/postgres/connection.py `keep_session`, the default of `create_pool`,
so the API's pool too): no reset statement, so a short request makes only its own round trips;
a transaction left open is still rolled back."""

from __future__ import annotations

import asyncpg

from events.postgres.connection import create_pool
from ledger.infra.limits import pool_options

_LAST = "SELECT state, query FROM pg_stat_activity WHERE pid = $1"


async def test_release_sends_no_reset_statement(dsn: str) -> None:
    options = pool_options() | {"max_size": 1}
    async with create_pool(dsn, **options) as pool:
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            assert await conn.fetchval("SELECT 41 + 1") == 42
        watcher = await asyncpg.connect(dsn)
        try:
            # The last statement that backend ran is the request's own, not asyncpg's
            # default reset (`SELECT pg_advisory_unlock_all(); ... RESET ALL;`).
            state, query = await watcher.fetchrow(_LAST, pid)
        finally:
            await watcher.close()
    assert (state, query) == ("idle", "SELECT 41 + 1")


async def test_a_transaction_left_open_is_rolled_back_on_release(dsn: str) -> None:
    options = pool_options() | {"max_size": 1}
    async with create_pool(dsn, **options) as pool:
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            await conn.execute("BEGIN")
            await conn.execute("CREATE TABLE left_open (n int)")
        async with pool.acquire() as conn:
            assert conn.get_server_pid() == pid  # the same connection, back from the pool
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('left_open')") is None
