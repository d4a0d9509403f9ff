"""Following the log's head by LISTEN, for the process's in-memory catalogue.

Every append's commit sends NOTIFY on the store's types channel with its last position and
the types of event it stored (migrations/0012_notify_event_types.sql).  `following_catalogue`
keeps one LISTEN connection per process and tells the catalogue each announced position that
stored a catalogue event (`Catalogue.stored`), so that a read of programs costs no query while
no catalogue event was stored (postings, fees and renewals do not count), and one short read
after one was.  If the connection is lost the catalogue goes back to refreshing on every use
(`unfollow`) until it is re-established; the head read after LISTEN begins covers
anything stored in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import asyncpg

from events.postgres import TYPES_CHANNEL, connect, fetch_head
from ledger.infra.logs import Outage

if TYPE_CHECKING:
    from events.connections import Conn
    from ledger.commands.loaders import Catalogue

__all__ = ["following_catalogue"]

_outage = Outage("catalogue follower", logging.getLogger("ledger.notify"))
"""One warning when the follower loses the database, one line when it is back."""
_PING_EVERY = 5.0


async def _listen(conn: asyncpg.Connection, catalogue: Catalogue) -> None:
    """Announce every catalogue event's position until the connection is lost."""
    lost = asyncio.Event()

    def announced(_conn: Conn, _pid: int, _channel: str, payload: object) -> None:
        position, *types = str(payload).split(" ")
        catalogue.stored(int(position), types)

    conn.add_termination_listener(lambda _conn: lost.set())
    await conn.add_listener(TYPES_CHANNEL, announced)
    catalogue.follow((await fetch_head(conn)).position)
    _outage.up()
    while not lost.is_set():
        # A connection the server dropped without a word never reports its end, and would
        # leave the catalogue trusting a silent channel: ask it every few seconds.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(lost.wait(), _PING_EVERY)
            return
        await conn.execute("SELECT 1", timeout=_PING_EVERY)


async def _follow(dsn: str, catalogue: Catalogue, retry: float) -> None:
    while True:
        try:
            conn = await connect(dsn, timeout=_PING_EVERY)
        except Exception as exc:  # unreachable, starting up, refused: try again later
            _outage.down(exc)
        else:
            try:
                await _listen(conn, catalogue)
            except Exception as exc:  # the connection lost or stuck: follow again
                _outage.down(exc)
            finally:
                catalogue.unfollow()
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=1))
        await asyncio.sleep(retry)


@contextlib.asynccontextmanager
async def following_catalogue(
    dsn: str, catalogue: Catalogue, *, retry: float = 1.0
) -> AsyncIterator[None]:
    task = asyncio.create_task(_follow(dsn, catalogue, retry), name="catalogue-follower")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
