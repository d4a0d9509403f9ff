"""Connections and pools to the store's database, each carrying the store's codecs."""

from __future__ import annotations

from typing import Any

import asyncpg

__all__ = ["connect", "create_pool", "init_connection", "keep_session"]


async def init_connection(conn: asyncpg.Connection) -> None:
    """Pass `json` columns through as raw bytes in both directions: the store hashes the exact
    bytes it writes, and decoding is msgspec's job, not the driver's."""
    await conn.set_type_codec(
        "json", schema="pg_catalog", encoder=bytes, decoder=bytes, format="binary"
    )


async def connect(dsn: str, **kwargs: Any) -> asyncpg.Connection:
    conn: asyncpg.Connection = await asyncpg.connect(dsn, **kwargs)
    await init_connection(conn)
    return conn


def create_pool(dsn: str, **kwargs: Any) -> asyncpg.Pool:
    """A pool whose connections all carry the store's codecs (`async with create_pool(...)`),
    released without the reset query (`keep_session`) unless `reset` is given."""
    kwargs.setdefault("reset", keep_session)
    return asyncpg.create_pool(dsn, init=init_connection, **kwargs)


async def keep_session(conn: asyncpg.Connection) -> None:
    """A pool's reset on release that adds nothing to what asyncpg always does there (roll
    back a transaction left open, drop the connection's listeners).  asyncpg's default also
    sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every
    release, one more round trip per pool use, for session state that nothing using these
    pools leaves on a pooled connection: the store's statements set none, the API's advisory
    locks are transaction-level (pg_advisory_xact_lock), and LISTEN, the projectors' session
    locks and the migrator's lock live on connections of their own.  Code that needs session
    state must take a connection of its own, not one of a pool's.
    https://magicstack.github.io/asyncpg/current/api/index.html#asyncpg.pool.create_pool"""
