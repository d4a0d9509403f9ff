"""Who is looking at a page: the session cookie, its check on every request, CSRF, and the
pages for "sign in first", "not yours" and "not there".

The session is an encrypted, signed cookie (Litestar's cookie backend: AES-GCM) holding the
token's id only, never the token; HttpOnly and SameSite=Strict.  Every page looks the token up
again by that id, so revoking the token ends the session at the next click.  Forms carry a
CSRF token (Litestar's double-submit cookie, checked on every unsafe method of the pages'
router); the JSON API under /v1 is not on this router and stays bearer-only.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Receive, Scope, Send

from events.codec import Actor
from ledger.api.auth import Principal
from ledger.commands import Context
from ledger.domain.errors import DomainError, NotFound
from ledger.web import data

__all__ = [
    "LoginRequired",
    "OutOfScope",
    "WEB_EXCEPTION_HANDLERS",
    "home_of",
    "page_context",
    "session_middleware",
    "Viewer",
    "viewer",
]

SESSION_HOURS = 8

Viewer = NamedDependency[Principal]
"""A page handler's signed-in principal (the `viewer` dependency, named `principal`)."""


class LoginRequired(Exception):
    """No session, or its token was revoked: the answer is the login page."""


class OutOfScope(PermissionDeniedException):
    """A page outside the viewer's scope: a 403 page (never a redirect loop)."""


class _SessionMiddleware:
    """Litestar's cookie-session middleware, built when the route stack is: the router is
    deep-copied at registration, and the backend's AES-GCM key object cannot be copied."""

    def __init__(self, app: ASGIApp, secret: bytes) -> None:
        config = CookieBackendConfig(
            secret=secret,
            key="ceu_session",
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            samesite="strict",
            secure=False,  # the demo serves plain http on 127.0.0.1; behind TLS set it
        )
        self._inner = config.middleware(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._inner(scope, receive, send)


def session_middleware(secret: bytes) -> list[DefineMiddleware]:
    """The session cookie, then CSRF on every form of the pages."""
    csrf = CSRFConfig(
        secret=secret.hex(),
        cookie_name="ceu_csrf",
        cookie_httponly=True,
        cookie_samesite="strict",
    )
    return [
        DefineMiddleware(_SessionMiddleware, secret=secret),
        DefineMiddleware(CSRFMiddleware, config=csrf),
    ]


def home_of(principal: Principal) -> str:
    """Where a role lands after login (SPEC section 9)."""
    match principal.role:
        case "manager":
            return f"/managers/{principal.manager_id}"
        case "provider":
            return f"/providers/{principal.provider_id}"
        case "auditor":
            return f"/programs/{principal.programs[0]}"
    return "/admin"


async def current(request: Request[Any, Any, Any]) -> Principal | None:
    raw = request.session.get("token_id") if request.session else None
    if not raw:
        return None
    try:
        token_id = UUID(raw)
    except ValueError:
        return None
    principal = await data.session_principal(request.app.state, token_id)
    if principal is None:
        request.clear_session()
    return principal


async def viewer(request: Request[Any, Any, Any]) -> Principal:
    """The dependency of every page: the signed-in principal, or LoginRequired."""
    principal = await current(request)
    if principal is None:
        raise LoginRequired
    return principal


def context_of(request: Request[Any, Any, Any], principal: Principal) -> Context:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    return Context(
        actor=Actor(role=principal.role, id=principal.actor.id), request_id=request_id[:128]
    )


def page_context(request: Request[Any, Any, Any], principal: Principal | None) -> dict[str, Any]:
    """What the layout needs: who is signed in, their home, a one-time message."""
    flash = request.session.pop("flash", None) if request.session else None
    return {
        "principal": principal,
        "signed_in": principal is not None,
        "home": home_of(principal) if principal else None,
        "flash": flash,
    }


def flash(request: Request[Any, Any, Any], message: str) -> None:
    request.set_session({**(request.session or {}), "flash": message})


def _error_page(request: Request[Any, Any, Any], status: int, title: str, detail: str) -> Template:
    session = request.session if request.scope.get("session") else {}
    context = {
        "principal": None,
        "signed_in": bool(session.get("token_id")),
        "home": session.get("home"),
        "flash": None,
        "status": status,
        "title": title,
        "detail": detail,
    }
    return Template("error.html", context=context, status_code=status)


def _login_required(request: Request[Any, Any, Any], exc: LoginRequired) -> Redirect:
    return Redirect("/login")


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    match exc.status_code:
        case 403:
            detail = (
                "The form had expired or was not sent from this site. Go back, reload the"
                " page and try again."
                if "CSRF" in exc.detail
                else exc.detail
            )
            return _error_page(request, 403, "You cannot see this page", detail)
        case 404:
            return _error_page(request, 404, "Page not found", "There is nothing at this address.")
    return _error_page(request, exc.status_code, "Something is wrong with the request", exc.detail)


def _domain(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, NotFound):
        return _error_page(request, 404, "Not found", exc.detail)
    return _error_page(request, 422, "That cannot be done", exc.detail)


WEB_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    LoginRequired: _login_required,
    HTTPException: _http,
    NotFoundException: _http,
    DomainError: _domain,
}


def state_of(request: Request[Any, Any, Any]) -> State:
    return request.app.state
