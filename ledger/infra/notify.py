"""Following the log's head by LISTEN, for the process's in-memory catalogue.

Every append's commit sends NOTIFY on the store's types channel with its last position and
the types of event it stored (migrations/0012_notify_event_types.sql).  `following_catalogue`
keeps one LISTEN connection per process and tells the catalogue each announced position that
stored a catalogue event (`Catalogue.stored`), so that a read of programs costs no query while
no catalogue event was stored (postings, fees and renewals do not count), and one short read
after one was.  If the connection is lost the catalogue goes back to refreshing on every use
(`unfollow`) until it is re-established (events/supervise.py, a second apart:
events/backoff.py `FOLLOWER_RECONNECT`); the head read after LISTEN begins covers anything
stored in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import asyncpg

from events.backoff import FOLLOWER_RECONNECT
from events.postgres.connection import connect
from events.postgres.reads import TYPES_CHANNEL, fetch_head
from events.supervise import Supervisor
from events.timeouts import CLOSE_TIMEOUT, PING_TIMEOUT

if TYPE_CHECKING:
    from events.connections import Conn
    from ledger.commands.loaders import Catalogue

__all__ = ["following_catalogue"]

_log = logging.getLogger("ledger.notify")


async def _listen(conn: asyncpg.Connection, catalogue: Catalogue, supervisor: Supervisor) -> None:
    """Announce every catalogue event's position until the connection is lost (raised)."""
    lost = asyncio.Event()

    def announced(_conn: Conn, _pid: int, _channel: str, payload: object) -> None:
        position, *types = str(payload).split(" ")
        catalogue.stored(int(position), types)

    conn.add_termination_listener(lambda _conn: lost.set())
    await conn.add_listener(TYPES_CHANNEL, announced)
    catalogue.follow((await fetch_head(conn)).position)
    supervisor.working()
    while not lost.is_set():
        # A connection the server dropped without a word never reports its end, and would
        # leave the catalogue trusting a silent channel: ask it every few seconds.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(lost.wait(), PING_TIMEOUT)
            break
        await conn.execute("SELECT 1", timeout=PING_TIMEOUT)
    raise ConnectionError("the catalogue's LISTEN connection was lost")


async def _follow(dsn: str, catalogue: Catalogue, supervisor: Supervisor) -> None:
    """Follow once: raises when the connection cannot be made, is lost or is stuck."""
    conn = await connect(dsn, timeout=PING_TIMEOUT)
    try:
        await _listen(conn, catalogue, supervisor)
    finally:
        catalogue.unfollow()
        with contextlib.suppress(Exception):
            await asyncio.shield(conn.close(timeout=CLOSE_TIMEOUT))


@contextlib.asynccontextmanager
async def following_catalogue(
    dsn: str, catalogue: Catalogue, *, retry: float = 1.0
) -> AsyncIterator[None]:
    policy = FOLLOWER_RECONNECT.with_(first=retry, cap=retry)
    supervisor = Supervisor("catalogue follower", policy, logger=_log)
    stop = asyncio.Event()  # never set: the follower ends by cancellation
    task = asyncio.create_task(
        supervisor.run(lambda: _follow(dsn, catalogue, supervisor), stop),
        name="catalogue-follower",
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
