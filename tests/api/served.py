"""The real app under a real uvicorn on 127.0.0.1, for tests that need real HTTP clients."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn

from ledger.app.factory import create_app
from ledger.settings import Secret, Settings
from tests.builders import SteppingClock

__all__ = ["served_app"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def served_app(dsn: str, clock: SteppingClock) -> AsyncIterator[str]:
    """The app on `dsn` (with its projectors), served until the block ends; its base URL."""
    port = _free_port()
    app = create_app(
        Settings(
            admin_token=Secret("admin"),
            pool_size=16,
            poll_interval=0.1,
            public_url=f"http://127.0.0.1:{port}",
        ),
        dsn,
        clock=clock,
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve())
    while not served.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        await task
