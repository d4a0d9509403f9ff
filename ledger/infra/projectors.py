"""Run every registered projection in the background of a process, and stop them cleanly.

Each runner competes for its projection's advisory lock, so any number of processes can run
this: one is active per projection, the others stand by (projections/engine.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from projections.engine import ProjectionRunner
from projections.registry import all_projections

__all__ = ["running_projectors"]


@contextlib.asynccontextmanager
async def running_projectors(
    dsn: str, *, poll_interval: float
) -> AsyncIterator[list[ProjectionRunner]]:
    stop = asyncio.Event()
    runners = [ProjectionRunner(dsn, p, poll_interval=poll_interval) for p in all_projections()]
    tasks = [
        asyncio.create_task(r.run(stop), name=f"projector:{r.projection.name}") for r in runners
    ]
    try:
        yield runners
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
