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

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from ledger.access.errors import Unauthenticated
from ledger.access.tokens import TokenStore
from ledger.http.guards import declared, public
from ledger.http.request_log import request_info

__all__ = ["BearerAuthentication", "SESSION_GUARDED"]

SESSION_GUARDED = "session"
"""The `opt` key a page route sets: its caller is the session's (ledger/web/session.py)."""


def _needs_bearer(scope: Scope) -> bool:
    handler: Any = scope.get("route_handler")
    if handler is None or handler.opt.get(SESSION_GUARDED):
        return False
    return public not in declared(handler)


class BearerAuthentication:
    """Who is calling, from `Authorization: Bearer <token>`, once (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and _needs_bearer(scope):
            tokens: TokenStore = scope["app"].state.tokens
            try:
                principal = await tokens.principal(Headers.from_scope(scope).get("authorization"))
            except Unauthenticated as refused:
                scope["user"], scope["auth"] = None, refused
            else:
                scope["user"], scope["auth"] = principal, None
                if (info := request_info(scope)) is not None:
                    info.actor_role = principal.role
        await self.app(scope, receive, send)
