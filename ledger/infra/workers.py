"""A few worker processes for the work that would otherwise hold the event loop.

SPEC 6: "Work that can take long (parsing a large roster, rendering a PDF) never blocks the
event loop for other requests."  A worker thread is not enough for it: WeasyPrint's layout,
msgspec's decoder and the csv module run long stretches of C (or of Python that holds the GIL)
and a thread that holds the GIL holds the loop with it; thirty PDFs on threads made every
other request of the process wait its turn behind them.  So such work goes to a small pool of
processes (`spawn`ed: forking a process that runs an event loop and threads is unsafe), one
per core by default, and the loop only waits on a future.

The pool is bounded twice.  At most `size` jobs are handed to the processes at once (a
semaphore, held until a job's process is done with it, even if the request that wanted it
went away meanwhile, so the processes never queue more than they run); and at most `waiting`
more wait for a turn.  A job beyond that is refused at once with `WorkersBusy`, which the API
answers 503 with `Retry-After`: a pile-up of PDF requests costs their callers a retry, not
every other caller its answers.  A job that cannot be pickled, or whose process died, fails
on its own (a new pool is made for the next job after a death).

The pools live as long as the process (`concurrent.futures` joins their processes at exit);
they are made on first use, so a process that never renders a PDF never starts one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

__all__ = ["WorkerPool", "WorkersBusy"]

T = TypeVar("T")


class WorkersBusy(Exception):
    """More jobs wait for a worker than the pool lets wait: try again shortly."""

    def __init__(self, what: str) -> None:
        super().__init__(f"too many {what} are waiting; try again")
        self.what = what


class WorkerPool:
    """`await pool.run(fn, *args)`: `fn(*args)` in a worker process, at most `size` at once
    and `waiting` more in line.  `fn` and its arguments must be picklable (a module-level
    function of a module the worker can import)."""

    def __init__(self, what: str, *, size: int | None = None, waiting: int = 16) -> None:
        self.what = what
        self.size = size or min(2, os.cpu_count() or 1)
        self.waiting = waiting
        self._executor: ProcessPoolExecutor | None = None
        self._turns: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_line = 0
        self._running = 0

    def _semaphore(self) -> asyncio.Semaphore:
        """One semaphore per event loop (tests run several loops one after another)."""
        loop = asyncio.get_running_loop()
        if self._turns is None or self._loop is not loop:
            self._turns, self._loop = asyncio.Semaphore(self.size), loop
            self._in_line = self._running = 0
        return self._turns

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(self.size, mp_context=context)
        return self._executor

    @property
    def in_flight(self) -> int:
        """Jobs handed to the processes or waiting for a turn (for /metrics and tests)."""
        return self._in_line + self._running

    def _done(self, turns: asyncio.Semaphore) -> None:
        if turns is self._turns:
            self._running -= 1
        turns.release()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        turns = self._semaphore()
        if turns.locked() and self._in_line >= self.waiting:
            raise WorkersBusy(self.what)
        self._in_line += 1
        try:
            await turns.acquire()
        finally:
            self._in_line -= 1
        try:
            job = asyncio.get_running_loop().run_in_executor(self._pool(), fn, *args)
        except BaseException:
            turns.release()
            raise
        self._running += 1
        job.add_done_callback(lambda _: self._done(turns))
        try:
            # Shielded: a request that goes away does not free the turn while its process
            # still works on the job; the callback above frees it when the process is done.
            return await asyncio.shield(job)
        except BrokenProcessPool:
            self._executor = None  # a worker died (killed, out of memory): a new pool next
            raise
