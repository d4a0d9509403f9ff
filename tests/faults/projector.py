"""A test-only projector process: every projection, small batches, until SIGTERM.

python -m tests.faults.projector DSN BATCH_SIZE
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from ledger.infra.projectors import running_projectors


async def run(dsn: str, batch_size: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with running_projectors(dsn, poll_interval=0.2, batch_size=batch_size):
        await stop.wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run(sys.argv[1], int(sys.argv[2])))
