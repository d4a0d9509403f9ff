"""Bounds on every wait: the API pool's timeouts and the HTTP server's limits.

While PostgreSQL is down or restarting, a request must fail fast (a 503, ledger/api/errors.py)
rather than wait, and the same process must recover on its own once the server is back.
asyncpg's pool already reconnects lazily: a connection whose socket closed is discarded on
release or at the next acquire, and a new one is opened then.  What it does not do by
default is bound the waits, so a connection attempt to a socket that accepts nothing, or a
statement on a connection that died mid-flight, could hold a request (and a pool slot)
for a long time.  These options bound them (the bounds themselves: events/timeouts.py).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from events.timeouts import CONNECT_TIMEOUT, REQUEST_STATEMENT_TIMEOUT

__all__ = [
    "HTTP_PARSERS",
    "LOOPS",
    "freeze_startup_heap",
    "pool_options",
    "run_loop",
    "server_options",
]

T = TypeVar("T")


def pool_options() -> dict[str, Any]:
    """Keyword arguments for `create_pool` (asyncpg.create_pool)."""
    return {
        # No floor: asyncpg would keep reopening it in the background during an outage,
        # logging a traceback each time; connections are opened when requests need them.
        "min_size": 0,
        "timeout": CONNECT_TIMEOUT,
        "command_timeout": REQUEST_STATEMENT_TIMEOUT,
        # Idle connections are recycled, so a pool never holds on to half-dead sockets.
        "max_inactive_connection_lifetime": 60.0,
    }


LOOPS = ("uvloop", "asyncio")
HTTP_PARSERS = ("httptools", "h11")


def server_options(*, loop: str = LOOPS[0], http: str = HTTP_PARSERS[0]) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.Config`: uvloop's event loop and httptools' HTTP/1.1
    parser (SPEC 10's baseline runs on them; asyncio's own loop and h11, uvicorn's fallbacks,
    only for comparison: `serve --loop asyncio --http h11`), and a stop that cannot hang on
    open keep-alive connections (the lifespan's own shutdown is bounded in
    ledger/infra/projectors.py)."""
    return {
        "loop": loop,
        "http": http,
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": 10,
    }


def freeze_startup_heap() -> None:
    """Move every object alive now (the modules, the app, its routes and schemas) out of
    the garbage collector's reach (`gc.freeze`), for a long-running process just before it
    starts its work.  Those objects live as long as the process; left tracked, each full
    collection walks them all again, and under load those passes landed inside requests
    (bench/roster.py measured full-pass pauses of 20-100 ms per roster of 1,000, and about a
    sixth of a roster's CPU).  Objects made afterwards are collected as usual.
    https://docs.python.org/3/library/gc.html#gc.freeze"""
    gc.collect()
    gc.freeze()


def run_loop(main: Coroutine[Any, Any, T], *, loop: str | None = None) -> T:
    """Run `main` to its end on a new event loop, as `asyncio.run` does: uvloop's if `loop`
    is "uvloop" (`serve` passes its `--loop`), asyncio's own otherwise.  A one-process
    `serve` awaits uvicorn's `Server.serve()` inside the CLI's loop, so this, not uvicorn's
    `loop` option, is the loop it runs on.  The other commands keep asyncio's loop: uvloop's
    subprocesses take no `user=` (ledger/infra/backup.py runs pg_basebackup as another user)."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
