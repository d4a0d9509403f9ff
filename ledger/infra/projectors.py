"""Run every registered projection, and what else runs once per deployment beside it, and
stop them cleanly; and supervise the process that does it (`ceu-ledger project`).

Each runner competes for its projection's advisory lock, so any number of processes can run
this: one is active per projection, the others stand by (projections/engine.py).  A runner
never ends by itself: it retries every error with backoff.  Stopping is bounded: the runners
get `SHUTDOWN_TIMEOUT` seconds to finish their batch, then they are cancelled (their batch
rolls back, nothing is lost), so a stop while the database is down cannot hang.

SPEC 8 has projectors in processes of their own: `ceu-ledger serve` starts its API
process(es) without them and one `ceu-ledger project` child beside them (`ProjectorProcess`),
restarted when it dies and stopped before the database.  Reads that need a read model to be
caught up wait on its checkpoint in the database (`Reads.caught_up`), not on a runner of
their own process, so they stay correct whichever process projects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from events.store import utc_now
from events.timeouts import SHUTDOWN_TIMEOUT
from ledger.infra.reminders import running_notices
from projections.engine import Projection, ProjectionRunner
from projections.registry import all_projections

if TYPE_CHECKING:
    from ledger.settings import Settings

__all__ = [
    "ProjectorProcess",
    "running_deployment_tasks",
    "running_projectors",
]

_log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def running_projectors(
    dsn: str,
    *,
    poll_interval: float,
    batch_size: int = 500,
    projections: Sequence[Projection] | None = None,
) -> AsyncIterator[list[ProjectionRunner]]:
    """Run `projections` (by default every registered one) until the block ends."""
    stop = asyncio.Event()
    runners = [
        ProjectionRunner(dsn, p, poll_interval=poll_interval, batch_size=batch_size)
        for p in (all_projections() if projections is None else projections)
    ]
    tasks = [
        asyncio.create_task(r.run(stop), name=f"projector:{r.projection.name}") for r in runners
    ]
    try:
        yield runners
    finally:
        stop.set()
        _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_TIMEOUT)
        for task in pending:
            _log.warning("%s did not stop in time; cancelled", task.get_name())
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def running_deployment_tasks(
    dsn: str, settings: Settings, *, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[list[ProjectionRunner]]:
    """Every projection, the reminder scheduler and the notices' sender (if SMTP is set):
    what a deployment runs once (each elects itself by an advisory lock), until the block
    ends.  `ceu-ledger project` runs this; so does an app made with `run_projectors=True`."""
    async with (
        running_projectors(dsn, poll_interval=settings.poll_interval) as runners,
        running_notices(dsn, settings, clock=clock),
    ):
        yield runners


class ProjectorProcess:
    """A child process (`command`, normally `ceu-ledger project`) kept running until `run`'s
    `stop` is set: restarted when it exits or is killed (after 0.5 s, doubling up to
    `max_delay` while it keeps dying young), then stopped with SIGTERM, and SIGKILL if it has
    not exited after `stop_timeout` seconds (its own stop is bounded by SHUTDOWN_TIMEOUT per
    group of tasks).  The child runs in a session of its own, so a Ctrl-C in the terminal
    reaches only the parent, which stops it in order (the child would otherwise stop on its
    own and be restarted mid-shutdown); the child is told the parent's id and leaves by
    itself if the parent dies without stopping it."""

    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        *,
        stop_timeout: float = 4 * SHUTDOWN_TIMEOUT,
        max_delay: float = 10.0,
    ) -> None:
        self.command, self.env = list(command), dict(env)
        self.stop_timeout, self.max_delay = stop_timeout, max_delay
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def run(self, stop: asyncio.Event) -> None:
        delay = 0.5
        while not stop.is_set():
            loop = asyncio.get_running_loop()
            started = loop.time()
            process = await asyncio.create_subprocess_exec(
                *self.command, env=self.env, start_new_session=True
            )
            self.process, self.starts = process, self.starts + 1
            try:
                await _first(process.wait(), stop.wait())
            finally:
                if process.returncode is None:
                    await self._stop(process)
            if stop.is_set():
                return
            delay = 0.5 if loop.time() - started > 30 else min(delay * 2, self.max_delay)
            _log.warning(
                "projector process %d exited with %s; restarting it in %.1f s",
                process.pid, process.returncode, delay,
            )  # fmt: skip
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _stop(self, process: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), self.stop_timeout)
            _log.info("projector process %d stopped (%s)", process.pid, process.returncode)
        except TimeoutError:
            _log.warning("projector process %d did not stop in time; killed", process.pid)
            process.kill()
            await process.wait()
        except BaseException:  # cancelled while it stops: leave nothing behind
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ProjectorProcess]:
        """The child kept running until the block ends; stopped (bounded) when it does."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop), name="projector-process")
        try:
            yield self
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)


async def _first(*waits: Awaitable[object]) -> None:
    """Return when the first of the awaitables is done; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
