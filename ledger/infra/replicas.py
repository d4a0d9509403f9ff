"""Read replicas (`DATABASE_REPLICA_URLS`) and how far each has replayed the ledger.

A streaming replica replays the primary's WAL, the `event_head` row included, so the head
position it shows is exactly the ledger position it has replayed: a read that must not go back
in time before position p (the caller's own last write) is safe on a replica whose head is at
least p.  `Replica.reached(p)` waits for that, at most `timeout` seconds; one poller per
replica reads its head every few milliseconds while anybody waits (and only then), so a
thousand waiting requests cost one query per tick, not a thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

__all__ = ["POLL", "Replica"]

POLL = 0.005
"""Seconds between two reads of a replica's head while requests wait for it."""


class Replica:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.replayed = 0
        """The highest head position seen on the replica (it never goes back)."""
        self._waiters = 0
        self._tick = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None

    async def reached(self, position: int, within: float) -> bool:
        """Whether the replica has replayed `position`, waiting at most `within` seconds."""
        if self.replayed >= position:
            return True
        self._waiters += 1
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        try:
            async with asyncio.timeout(within):
                while self.replayed < position:
                    await self._tick.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters -= 1

    async def _poll(self) -> None:
        while self._waiters:
            # A replica that cannot answer is "not there yet": its waiters time out and read
            # the primary.
            with contextlib.suppress(Exception):
                head = await self.pool.fetchval("SELECT position FROM event_head", timeout=1)
                self.replayed = max(self.replayed, int(head))
            tick, self._tick = self._tick, asyncio.Event()
            tick.set()
            await asyncio.sleep(POLL)

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
