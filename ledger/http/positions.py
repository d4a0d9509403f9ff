"""Read-your-writes across replicas (SPEC 8), as an ASGI middleware around the whole app.

* Every write (POST, PUT, PATCH, DELETE) that the app answers below 500 carries
  `Ledger-Position`: the last position its appends wrote (an exact retry's original one), or,
  for a write that appended nothing, the ledger's head as the primary has it then.  A request
  that came with cookies (a person's browser on the pages) also gets the `ledger_position`
  cookie: the pages' session remembers its last write without any page knowing.
* A read (GET, HEAD), with replicas configured, goes to a replica (round robin).  When it
  carries `Min-Position` (or the cookie), it waits until that replica has replayed at least
  that position (at most `MAX_WAIT` seconds), and otherwise reads the primary: a read never
  shows a state older than the caller's own last write.  Without either it reads the replica
  as it is, which may be behind.
* A replica that does not answer is not the reader's problem: a read it answered 503 (its
  database unreachable, or a read model behind there) is run again on the primary (GET and
  HEAD change nothing), and the replica is skipped until it answers again
  (ledger/infra/replicas.py).
* The choice is put in the scope (`READS_KEY`), where the `reads` dependency of both doors
  takes it (ledger/app/dependencies.py).

The position of a request's appends is collected by `note_position`, an observer of the store
(events.observed), into a holder that this middleware puts in a context variable for the
request.
"""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Sequence
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from events.store import AppendItem, AppendResult, EventStoreError

if TYPE_CHECKING:
    from ledger.infra.replicas import Replica
    from ledger.queries.reads import Reads

__all__ = [
    "MAX_WAIT",
    "READS_KEY",
    "note_position",
    "PositionsMiddleware",
]

MAX_WAIT = 2.0
"""Seconds a read waits for a replica to reach its Min-Position before it reads the primary."""
READS_KEY = "ledger.reads"
COOKIE = "ledger_position"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_READS = frozenset({"GET", "HEAD"})


class _Written:
    __slots__ = ("position",)

    def __init__(self) -> None:
        self.position = 0


_written: contextvars.ContextVar[_Written | None] = contextvars.ContextVar(
    "ledger_written", default=None
)


def _no_body(receive: Receive) -> Receive:
    """`receive` for a read run a second time: its (empty) body again, then the original."""
    sent = False

    async def again() -> ReceiveMessage:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    return again


def note_position(
    items: Sequence[AppendItem], outcomes: Sequence[AppendResult | EventStoreError]
) -> None:
    """An observer of the store (events.observed): the last position the request's appends
    wrote, for its `Ledger-Position` header."""
    if (written := _written.get()) is not None:
        for outcome in outcomes:
            if isinstance(outcome, AppendResult):
                written.position = max(written.position, outcome.last_position)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value
    return None


def _wanted(scope: Scope) -> int | None:
    """The position a read must not go back before: Min-Position, or the pages' cookie."""
    found = []
    if (raw := _header(scope, b"min-position")) is not None and raw.strip().isdigit():
        found.append(int(raw))
    if (cookies := _header(scope, b"cookie")) is not None:
        morsel = SimpleCookie(cookies.decode("latin-1")).get(COOKIE)
        if morsel is not None and morsel.value.isdigit():
            found.append(int(morsel.value))
    return max(found) if found else None


class PositionsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._turn = itertools.count()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        if scope["method"] in _WRITES:
            await self._write(scope, receive, send)
            return
        replicas: list[tuple[Replica, Reads]] = getattr(scope["app"].state, "replicas", [])
        if scope["method"] in _READS and replicas:
            replica, reads = replicas[next(self._turn) % len(replicas)]
            wanted = _wanted(scope)
            if replica.usable() and (wanted is None or await replica.reached(wanted, MAX_WAIT)):
                await self._read_on_replica(scope, receive, send, replica, reads)
                return
        await self.app(scope, receive, send)

    async def _read_on_replica(
        self, scope: Scope, receive: Receive, send: Send, replica: Replica, reads: Reads
    ) -> None:
        """The read on `reads`; if it answers 503, the replica is marked down and the same
        read runs on the primary (its 503 is never sent)."""
        held = False

        async def send_unless_503(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message["status"] == 503:
                held = True
            if not held:
                await send(message)

        state = scope.setdefault("state", {})
        state[READS_KEY] = reads
        await self.app(scope, receive, send_unless_503)
        if held:
            replica.failed()
            del state[READS_KEY]
            await self.app(scope, _no_body(receive), send)

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        written = _Written()
        token = _written.set(written)
        browser = _header(scope, b"cookie") is not None

        async def send_with_position(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 500:
                position = written.position or await _head(scope)
                headers = list(message.get("headers", ()))
                if position is not None:
                    headers.append((b"ledger-position", b"%d" % position))
                if browser and position is not None:
                    cookie = f"{COOKIE}={position}; Path=/; HttpOnly; SameSite=Lax"
                    headers.append((b"set-cookie", cookie.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_position)
        finally:
            _written.reset(token)


async def _head(scope: Scope) -> int | None:
    """The primary's head (None if it cannot say: the answer goes out without the header)."""
    try:
        return int(await scope["app"].state.pool.fetchval("SELECT position FROM event_head"))
    except Exception:
        return None
