"""One retry policy for everything between a decision and the disk, and for the workers that
reconnect: how many attempts, how long to pause after each failure (growing, capped, with
jitter if asked), and which errors are worth another try.

A policy is a value; the named ones below are every retry of the service, each saying what
it retries and why its figures are what they are.  The pause is `sleep(delay(failures))`,
and both the sleep and the random source are fields, so a test gives its own and orders
nothing with a real sleep.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

from events.store import ConcurrencyConflict

__all__ = [
    "CONFLICTS",
    "FOLLOWER_RECONNECT",
    "KNOWN_HEAD_SKIPS",
    "NOTICE_RETRY",
    "PROJECTION_RECONNECT",
    "REMINDER_RECONNECT",
    "SENDER_RECONNECT",
    "Backoff",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """After the n-th failure in a row, pause `delay(n)`: `first * n` (linear) or
    `first * 2 ** (n - 1)` (exponential), at most `cap`; with `jitter`, a uniformly random
    part of that (full jitter: a crowd that failed together spreads out).  `attempts` bounds
    the tries (None: forever); only errors of the `retry_on` classes are retried."""

    first: float
    cap: float
    growth: Literal["linear", "exponential"] = "exponential"
    jitter: bool = False
    attempts: int | None = None
    retry_on: tuple[type[BaseException], ...] = (Exception,)
    rand: Callable[[], float] = field(default=random.random, compare=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def __post_init__(self) -> None:
        if self.first < 0 or self.cap < self.first:
            raise ValueError("a backoff needs 0 <= first <= cap")
        if self.attempts is not None and self.attempts < 1:
            raise ValueError("attempts must be at least 1 (or None: forever)")

    def delay(self, failures: int) -> float:
        """The pause after `failures` failures in a row (0 before any)."""
        if failures <= 0:
            return 0.0
        if self.growth == "linear":
            base = min(self.first * failures, self.cap)
        else:  # 2 ** n overflows a float long before a loop gets there: stop at the cap
            base = self.cap if failures > 64 else min(self.first * 2 ** (failures - 1), self.cap)
        return self.rand() * base if self.jitter else base

    def gives_up(self, failures: int) -> bool:
        """Whether `failures` failures in a row used up the attempts."""
        return self.attempts is not None and failures >= self.attempts

    def retries(self, error: BaseException, failures: int) -> bool:
        """Whether the `failures`-th failure in a row, `error`, gets another try."""
        return isinstance(error, self.retry_on) and not self.gives_up(failures)

    async def pause(self, failures: int) -> None:
        await self.sleep(self.delay(failures))

    async def call(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """`attempt()` until it returns; a retried error is followed by a pause, any other
        error, or the last attempt's, is raised."""
        failures = 0
        while True:
            try:
                return await attempt()
            except BaseException as error:
                failures += 1
                if not self.retries(error, failures):
                    raise
            await self.pause(failures)

    def with_(self, **changes: object) -> Backoff:
        """This policy with some fields changed (a test's sleep, a caller's attempts)."""
        return replace(self, **changes)  # type: ignore[arg-type]


CONFLICTS = Backoff(
    first=0.002, cap=0.04, growth="linear", jitter=True, attempts=20,
    retry_on=(ConcurrencyConflict,),
)  # fmt: skip
"""A decision whose append met another writer's (ConcurrencyConflict) is decided again on the
fresh state: 20 tries, pausing up to 2 ms more after each (a crowd spreads out; a lone
conflict costs next to nothing).  `write`, and the stream queue's rounds lost to another
process (ledger/commands/)."""

KNOWN_HEAD_SKIPS = Backoff(first=2, cap=64)
"""After the n-th miss in a row of the store's known-head path (another process appended),
the next 2, 4, ... up to 64 batches take the locked path at once (a count, not seconds:
events/postgres/known_head.py)."""

PROJECTION_RECONNECT = Backoff(first=0.25, cap=5.0)
"""A failing projection runner: 0.25 s, doubled each time, at most 5 s."""

SENDER_RECONNECT = Backoff(first=1.0, cap=30.0)
"""The notice sender's loop after an error (the database gone, a bug): 1 s doubling to 30 s."""

REMINDER_RECONNECT = Backoff(first=1.0, cap=60.0)
"""The reminder scheduler after an error: 1 s doubling to a minute (never beyond its
interval)."""

FOLLOWER_RECONNECT = Backoff(first=1.0, cap=1.0)
"""The catalogue follower: every second while its LISTEN connection cannot be made."""

NOTICE_RETRY = Backoff(first=30.0, cap=3600.0)
"""A notice whose delivery failed: the next try 30 s later, doubled per attempt, at most an
hour (a date in the outbox, not a sleep)."""
