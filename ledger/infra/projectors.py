"""Run every registered projection in the background of a process, and stop them cleanly.

Each runner competes for its projection's advisory lock, so any number of processes can run
this: one is active per projection, the others stand by (projections/engine.py).  A runner
never ends by itself: it retries every error with backoff.  Stopping is bounded: the runners
get `SHUTDOWN_TIMEOUT` seconds to finish their batch, then they are cancelled (their batch
rolls back, nothing is lost), so a stop while the database is down cannot hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from projections.engine import Projection, ProjectionRunner
from projections.registry import all_projections

__all__ = ["SHUTDOWN_TIMEOUT", "running_projectors"]

SHUTDOWN_TIMEOUT = 5.0

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
