"""Every request's id and its one log line, as an ASGI middleware around the whole app.

The id is the client's `X-Request-ID` when it is sane (`SANE_ID`: 1 to 64 letters, digits and
`._:-`), else a new uuid4; nothing else ever reads the raw header (the web pages included), so a
client cannot write markup, line breaks or a megabyte into the log's metadata.  It is
put in the ASGI scope's state (where `deps.provide_context` reads it, so it reaches the
metadata of every event the request records), in a context variable (so every log record
written while serving the request carries it), and in the `X-Request-ID` response header.

It wraps Litestar's own ASGI handler rather than sitting in `middleware=[...]`: route
middleware does not run for a path that matches no route (404, 405), and every answer must
carry the id.  After the call the router has put the route template in the scope
(`path_template`, e.g. `/v1/managers/{manager_id}/status`); that, not the raw path, is logged,
so that log lines group by route and no path parameter (a manager's id) is written out.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ledger.infra.logs import database_outage, request_id_var

__all__ = ["SANE_ID", "RequestInfo", "RequestLogMiddleware", "request_info"]

SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_HEADER = b"x-request-id"
_log = logging.getLogger("ledger.request")


class RequestInfo:
    """What the log line says about a request; handlers' dependencies fill in the actor."""

    __slots__ = ("actor_role", "request_id")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.actor_role: str | None = None


def request_info(scope: Scope) -> RequestInfo | None:
    return scope.get("state", {}).get("ledger.request")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == _HEADER:
            sent = value.decode("latin-1")
            if SANE_ID.fullmatch(sent):
                return sent
            break
    return uuid.uuid4().hex


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        info = RequestInfo(_request_id(scope))
        scope.setdefault("state", {})["ledger.request"] = info
        token = request_id_var.set(info.request_id)
        header = (_HEADER, info.request_id.encode())
        status = 500  # unless the app answers: an exception that escapes it is uvicorn's 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", ()) if h[0].lower() != _HEADER]
                message["headers"] = [*headers, header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("path_template") or None
            if _log.isEnabledFor(logging.INFO):  # the fields are built only for a line written
                _log.info(
                    "request",
                    extra=_fields(scope, info, route, status, time.perf_counter() - started),
                )
            if 200 <= status < 300 and route is not None and _uses_database(route):
                database_outage.up()
            request_id_var.reset(token)


def _uses_database(route: str) -> bool:
    return route == "/health" or route.startswith("/v1/")


def _fields(
    scope: Scope, info: RequestInfo, route: str | None, status: int, seconds: float
) -> dict[str, Any]:
    return {
        "request_id": info.request_id,
        "method": scope.get("method"),
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "actor_role": info.actor_role,
    }
