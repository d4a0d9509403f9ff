"""One supervise-and-reconnect loop for the long-running workers (projection runners, the
notice sender, the reminder scheduler, the catalogue follower).

A worker is a `serve` coroutine that connects, works until it is stopped, and raises when
anything goes wrong (a lost connection, a timeout, a bug).  `Supervisor.run` treats *any*
error the same way: it is counted and kept (the count and the last error, with when, are the
worker's health for /health and /metrics), the worker's own clean-up runs, and `serve` is
started afresh after the policy's pause (events/backoff.py), until `stop` is set.  Nothing is
lost by starting over, because every worker resumes from what the database committed.

The log says each outage once: a warning when a worker starts failing, a debug line for each
further failure, and one info line when it works again (`working`, which the worker calls
when it has done something that proves the way is clear: a batch, a round, a connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from events.backoff import Backoff

__all__ = ["Supervisor", "sleep_unless"]


async def sleep_unless(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if `stop` was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


class Supervisor:
    """The failures of one worker, named `name` in the log, paused by `policy`."""

    def __init__(
        self,
        name: str,
        policy: Backoff,
        *,
        logger: logging.Logger,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.policy = policy
        self._log = logger
        self._clock = clock
        self._monotonic = monotonic
        self.failures = 0
        """Consecutive failed attempts (0 while it works)."""
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        """The last error met, and when (Unix seconds); kept after a recovery."""
        self._failing_since: float | None = None

    def failed(self, exc: BaseException) -> float:
        """Count `exc`; the pause before the next attempt."""
        self.failures += 1
        self.last_error, self.last_error_at = f"{type(exc).__name__}: {exc}"[:500], self._clock()
        if self._failing_since is None:
            self._failing_since = self._monotonic()
            self._log.warning("%s stopped: %s; retrying with backoff", self.name, self.last_error)
        else:
            self._log.debug("%s: still failing: %s", self.name, self.last_error)
        return self.policy.delay(self.failures)

    def working(self) -> None:
        """The worker works (again): the count goes back to 0, a recovery is logged once."""
        if self._failing_since is not None:
            self._log.info(
                "%s recovered after %d failed attempts in %.1f s",
                self.name,
                self.failures,
                self._monotonic() - self._failing_since,
            )
        self.failures, self._failing_since = 0, None

    async def run(
        self,
        serve: Callable[[], Awaitable[None]],
        stop: asyncio.Event,
        *,
        cleanup: Callable[[], Awaitable[None]] | None = None,
        wait: Callable[[float], Awaitable[object]] | None = None,
    ) -> None:
        """`serve()` until `stop` is set, again after each error (`cleanup` first, then the
        pause: by default until `stop` or the policy's delay, whichever comes first)."""
        while not stop.is_set():
            try:
                await serve()
            except Exception as exc:
                pause = self.failed(exc)
                if cleanup is not None:
                    await cleanup()
                await (wait(pause) if wait is not None else sleep_unless(stop, pause))
