"""Authentication, once per request, before any guard: who the bearer token speaks for.

`BearerAuthentication` is route middleware (it runs after routing, so it knows the route's
guards): on a route that is not `public`, it looks the `Authorization` header up in the token
store once and puts the `Principal` in `scope["user"]` (Litestar's `request.user`).  A missing,
unknown, revoked or expired token is not refused here: `scope["user"]` is None and
`scope["auth"]` holds the `Unauthenticated` saying why, and the route's guard refuses it
(`ledger.http.guards.principal_of`), so a public route never answers 401 for a bad header.

The pages (their routes carry the page guards) sign in by their session instead
(ledger/web/session.py), and are skipped here.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from ledger.access.errors import Unauthenticated
from ledger.access.principals import Principal
from ledger.access.tokens import TokenStore
from ledger.commands.streams import manager_stream
from ledger.http.guards import declared, public
from ledger.http.positions import READS_KEY
from ledger.http.request_log import request_info
from ledger.queries.reads import Current

__all__ = ["READS_MANAGER_NOW", "SESSION_GUARDED", "BearerAuthentication", "manager_now"]

SESSION_GUARDED = "session"
"""The `opt` key a page route sets: its caller is the session's (ledger/web/session.py)."""
READS_MANAGER_NOW = "reads_manager_now"
"""The `opt` key of a route that reads its path's manager's record now (GET status): the
token is checked and the record's tail read in one statement (`manager_now`)."""
_NOW_KEY = "ledger.manager_now"


def _needs_bearer(scope: Scope) -> bool:
    handler: Any = scope.get("route_handler")
    if handler is None or handler.opt.get(SESSION_GUARDED):
        return False
    return public not in declared(handler)


def _manager_now(scope: Scope) -> str | None:
    """The path's manager, if the route reads its record now (`READS_MANAGER_NOW`) from the
    primary (no replica chosen for it: ledger/http/positions.py) with neither `as_of` nor
    `known_at` (those fold the whole stream, never the snapshot)."""
    handler: Any = scope.get("route_handler")
    if not handler.opt.get(READS_MANAGER_NOW) or READS_KEY in scope.get("state", {}):
        return None
    query = scope.get("query_string", b"")
    if b"as_of" in query or b"known_at" in query:
        return None
    manager_id = scope.get("path_params", {}).get("manager_id")
    return manager_id if isinstance(manager_id, str) else None


async def _principal_and_manager(scope: Scope, tokens: TokenStore, header: str | None) -> Principal:
    """The principal, and the path's manager's record now, in one round trip: the manager's
    tail after the snapshot this process keeps is read in the token's statement, folded onto
    the snapshot (and kept), and left in the scope for the handler (`manager_now`)."""
    manager_id = _manager_now(scope)
    if manager_id is None:
        return await tokens.principal(header)
    loader = scope["app"].state.reads.managers
    kept = loader.kept(manager_id)
    principal, tail = await tokens.principal_with_stream(
        header, manager_stream(manager_id), 0 if kept is None else kept.version
    )
    scope.setdefault("state", {})[_NOW_KEY] = Current(manager_id, loader.advanced(kept, tail))
    return principal


def manager_now(connection: ASGIConnection[Any, Any, Any, Any], manager_id: str) -> Current | None:
    """The record of `manager_id` now, if authentication read it with the token (a route
    with `READS_MANAGER_NOW`); None otherwise (the handler reads it as usual)."""
    now = connection.scope.get("state", {}).get(_NOW_KEY)
    return now if isinstance(now, Current) and now.manager_id == manager_id else None


class BearerAuthentication:
    """Who is calling, from `Authorization: Bearer <token>`, once (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and _needs_bearer(scope):
            tokens: TokenStore = scope["app"].state.tokens
            try:
                principal = await _principal_and_manager(
                    scope, tokens, Headers.from_scope(scope).get("authorization")
                )
            except Unauthenticated as refused:
                scope["user"], scope["auth"] = None, refused
            else:
                scope["user"], scope["auth"] = principal, None
                if (info := request_info(scope)) is not None:
                    info.actor_role = principal.role
        await self.app(scope, receive, send)
