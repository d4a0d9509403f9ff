"""Read replicas (`DATABASE_REPLICA_URLS`) and how far each has replayed the ledger.

A streaming replica replays the primary's WAL, the `event_head` row included, so the head
position it shows is exactly the ledger position it has replayed: a read that must not go back
in time before position p (the caller's own last write) is safe on a replica whose head is at
least p.  `Replica.reached(p)` waits for that, at most `timeout` seconds; one poller per
replica reads its head every few milliseconds while anybody waits (and only then), so a
thousand waiting requests cost one query per tick, not a thousand.

A replica that does not answer (stopped, its host gone) is marked down (`failed`): reads
skip it, and read the primary, until a check finds it answering again (at most one check
every `RECHECK` seconds, in the background: no request waits for a dead replica twice).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from events.timeouts import REPLICA_PROBE_TIMEOUT

if TYPE_CHECKING:
    import asyncpg

__all__ = ["POLL", "RECHECK", "Replica"]

POLL = 0.005
"""Seconds between two reads of a replica's head while requests wait for it."""
RECHECK = 1.0
"""Seconds between two checks of a replica marked down."""


class Replica:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.replayed = 0
        """The highest head position seen on the replica (it never goes back)."""
        self._waiters = 0
        self._tick = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self.down = False
        """It did not answer; reads go to the primary until a check finds it answering."""
        self._checked = 0.0
        self._check: asyncio.Task[bool] | None = None

    def usable(self) -> bool:
        """Whether reads may go here now: up, or down (then a check is started, at most one
        every RECHECK seconds, whose success makes it usable again)."""
        due = asyncio.get_running_loop().time() - self._checked >= RECHECK
        if self.down and self._check is None and due:
            self._check = asyncio.create_task(self.check())
        return not self.down

    async def check(self) -> bool:
        """Ask it its head once: up (and how far it has replayed), or down."""
        try:
            head = await self.pool.fetchval(
                "SELECT position FROM event_head", timeout=REPLICA_PROBE_TIMEOUT
            )
        except Exception:
            self.failed()
        else:
            self.down = False
            self.replayed = max(self.replayed, int(head))
        finally:
            self._check = None
        return not self.down

    def failed(self) -> None:
        """A read here failed for want of the replica: down until a check says otherwise."""
        self.down = True
        self._checked = asyncio.get_running_loop().time()

    async def reached(self, position: int, within: float) -> bool:
        """Whether the replica has replayed `position`, waiting at most `within` seconds."""
        if self.replayed >= position:
            return True
        self._waiters += 1
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        try:
            async with asyncio.timeout(within):
                while self.replayed < position and not self.down:
                    await self._tick.wait()
            return not self.down
        except TimeoutError:
            return False
        finally:
            self._waiters -= 1

    async def _poll(self) -> None:
        while self._waiters:
            # A replica that cannot answer is down: its waiters read the primary at once.
            try:
                head = await self.pool.fetchval(
                    "SELECT position FROM event_head", timeout=REPLICA_PROBE_TIMEOUT
                )
                self.replayed = max(self.replayed, int(head))
            except Exception:
                self.failed()
            tick, self._tick = self._tick, asyncio.Event()
            tick.set()
            await asyncio.sleep(POLL)

    async def close(self) -> None:
        for task in (self._poller, self._check):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
