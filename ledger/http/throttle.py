"""Throttling of guessed credentials: failed logins and bad bearer tokens, per client address.

An attempt is a request that presents a credential: an `Authorization` header anywhere, or a
`POST /login`.  One that is answered 401 is a failure.  After `LIMIT` failures within `WINDOW`
seconds from one address, that address's attempts are answered 429 (problem+json for the API,
a page for the web) with `Retry-After` until the oldest failure leaves the window.  Requests
that present no credential (/health, /verify, a page's static files) are never throttled, and
the answer of a throttled attempt is decided before any credential is looked up.

Why in-process is acceptable: tokens are 256 random bits, so throttling does not protect them
from being guessed (nothing can guess them); it keeps a flood of bad attempts from costing the
database a look-up each, and makes a scan loud.  A caller spread over N API processes gets N
times the budget, still nothing against 2^256.  A fleet behind a load balancer that wants one
budget per address needs a shared counter (a PostgreSQL table keyed by address and minute, or
the load balancer's own rate limiting), and the client address must be the real one: run
uvicorn with `--proxy-headers --forwarded-allow-ips=<the balancer>` so that `scope["client"]`
is not the balancer's address.

The window is a sliding one (the times of the last `LIMIT` failures per address), on an
injected monotonic clock so that tests move time without sleeping.  At most `MAX_ADDRESSES`
addresses are remembered; the one remembered longest is forgotten first.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

import msgspec
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Message,
    Receive,
    Scope,
    Send,
)

__all__ = ["LIMIT", "WINDOW", "FailureWindow", "ThrottleMiddleware"]

LIMIT = 10
WINDOW = 60.0
MAX_ADDRESSES = 100_000

_PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    "<title>Too many attempts · CEU Ledger</title>\n"
    '<link rel="stylesheet" href="/static/ledger.css">\n</head>\n<body>\n'
    '<main id="main">\n<h1>Too many attempts</h1>\n'
    "<p>There were too many sign-ins with a wrong token from this address. Wait {seconds}"
    " seconds, then try again.</p>\n"
    '<p><a href="/login">Back to sign in</a></p>\n</main>\n</body>\n</html>\n'
)


class FailureWindow:
    """The recent failures of each client address (a sliding window of `window` seconds)."""

    def __init__(
        self,
        *,
        limit: int = LIMIT,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float] | None:
        times = self._failures.get(address)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[address]
            return None
        return times

    def wait(self, address: str) -> float:
        """Seconds until `address` may try again (0: it may now)."""
        now = self.clock()
        times = self._recent(address, now)
        if times is None or len(times) < self.limit:
            return 0.0
        return times[0] + self.window - now

    def failed(self, address: str) -> None:
        now = self.clock()
        times = self._recent(address, now)
        if times is None:
            if len(self._failures) >= MAX_ADDRESSES:
                del self._failures[next(iter(self._failures))]
            times = self._failures[address] = deque(maxlen=self.limit)
        times.append(now)


def _attempt(scope: HTTPScope) -> bool:
    if scope["method"] == "POST" and scope["path"] == "/login":
        return True
    return any(name == b"authorization" for name, _ in scope.get("headers", ()))


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class ThrottleMiddleware:
    """The ASGI guard around the whole app (API and pages alike)."""

    def __init__(self, app: ASGIApp, failures: FailureWindow) -> None:
        self.app = app
        self.failures = failures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not _attempt(scope):
            await self.app(scope, receive, send)
            return
        address = _client(scope)
        wait = self.failures.wait(address)
        if wait > 0:
            await _too_many(scope, send, math.ceil(wait))
            return
        status = 0

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, noting)
        if status == 401:
            self.failures.failed(address)


async def _too_many(scope: Scope, send: Send, seconds: int) -> None:
    if scope["path"].startswith("/v1/") or scope["path"] in ("/health", "/metrics"):
        content_type = b"application/problem+json"
        body = msgspec.json.encode(
            {
                "type": "about:blank",
                "title": "Too Many Requests",
                "status": 429,
                "detail": "too many failed attempts with a bad token from this address;"
                f" try again in {seconds} s",
            }
        )
    else:
        content_type = b"text/html; charset=utf-8"
        body = _PAGE.format(seconds=seconds).encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 429,
        "headers": [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(seconds).encode()),
        ],
    }
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(end)
