"""Who is looking at a page: the session cookie, its check on every request, CSRF, and the
pages for "sign in first", "not yours" and "not there".

The session is kept on the server (`WebSessions`, a row per session in PostgreSQL); the cookie
is Litestar's encrypted, signed cookie (AES-GCM) holding only that session's random id, never
the token.  HttpOnly, SameSite=Strict, and Secure unless the public URL is plain http (secure
by default).  Every page looks the session and its token up again, so signing out (the row is
deleted) or revoking the token ends the session at the next click in every process, whatever
the cookie says about its own lifetime.

CSRF: every form carries a token bound to the session, an HMAC of a random seed kept in the
session itself; an unsafe method of the pages' router must send the token of *its* session, so
a token from one session (an attacker's own, or a stolen page) is refused in another.  Signing
in starts a new session with a new seed.  The JSON API under /v1 is not on this router and
stays bearer-only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from ledger.access.errors import Forbidden, Unauthenticated
from ledger.access.principals import Principal
from ledger.access.sessions import WebSessions
from ledger.access.tokens import TokenStore
from ledger.domain.errors import DomainError, NotFound
from ledger.http.problems import RETRY_AFTER
from ledger.infra.workers import WorkersBusy

__all__ = [
    "OutOfScope",
    "WEB_EXCEPTION_HANDLERS",
    "home_of",
    "page_context",
    "pending_check_in",
    "sign_in",
    "sign_out",
    "session_middleware",
    "Viewer",
    "viewer",
]

SESSION_HOURS = 8
CHECK_IN = "/check-in/"
_NEXT = "next"
_SEED = "csrf_seed"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

Viewer = NamedDependency[Principal]
"""A page handler's signed-in principal (the `viewer` dependency, named `principal`)."""


class OutOfScope(Forbidden):
    """A page outside the viewer's scope: a 403 page (never a redirect loop)."""


class _SessionMiddleware:
    """Litestar's cookie-session middleware, built when the route stack is: the router is
    deep-copied at registration, and the backend's AES-GCM key object cannot be copied."""

    def __init__(self, app: ASGIApp, secret: bytes, secure: bool) -> None:
        config = CookieBackendConfig(
            secret=secret,
            key="ceu_session",
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            samesite="strict",
            secure=secure,
        )
        self._inner = config.middleware(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._inner(scope, receive, send)


class _SessionCsrfMiddleware:
    """CSRF tokens bound to the session (inside the session middleware, which has put the
    session in the scope).  The token is HMAC(secret, the session's seed); a session without a
    seed gets one (the login form's anonymous session included).  Litestar's own CSRF
    middleware is a double-submit cookie, valid in any session that presents its pair."""

    def __init__(self, app: ASGIApp, secret: bytes) -> None:
        self.app = app
        self._key = hashlib.sha256(b"csrf:" + secret).digest()

    def _token(self, seed: str) -> str:
        return hmac.new(self._key, seed.encode(), hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        session = scope.get("session")
        session = dict(session) if isinstance(session, dict) else {}
        if not isinstance(session.get(_SEED), str):
            session[_SEED] = secrets.token_hex(16)
            scope["session"] = session
        expected = self._token(session[_SEED])
        if scope["method"] not in _SAFE_METHODS:
            request: Request[Any, Any, Any] = Request(scope, receive)
            sent = request.headers.get("x-csrftoken")
            if sent is None and request.content_type[0] in _FORMS:
                sent = (await request.form()).get("_csrf_token")
            if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
                raise PermissionDeniedException("CSRF token verification failed")
        ScopeState.from_scope(scope).csrf_token = expected
        await self.app(scope, receive, send)


class _SessionAuthentication:
    """Who is signed in, once per page request (inside the session and its CSRF check): the
    session's principal in `scope["user"]`, or None with `Unauthenticated` in `scope["auth"]`,
    which the routes' guards (ledger/http/guards.py) read as the API's do."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            state = scope["app"].state
            principal = await current(Request(scope, receive), state.sessions, state.tokens)
            scope["user"] = principal
            scope["auth"] = None if principal else Unauthenticated("sign in first")
        await self.app(scope, receive, send)


def session_middleware(secret: bytes, *, secure: bool = True) -> list[DefineMiddleware]:
    """The session cookie, the session's CSRF check on every form of the pages, then who is
    signed in."""
    return [
        DefineMiddleware(_SessionMiddleware, secret=secret, secure=secure),
        DefineMiddleware(_SessionCsrfMiddleware, secret=secret),
        DefineMiddleware(_SessionAuthentication),
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


async def current(
    request: Request[Any, Any, Any], sessions: WebSessions, tokens: TokenStore
) -> Principal | None:
    """The signed-in principal: the session's row on the server, then its token, both live
    (None once the session ended or its token was revoked)."""
    session_id = request.session.get("sid") if request.session else None
    if not isinstance(session_id, str):
        return None
    token_id = await sessions.token_of(session_id)
    principal = None if token_id is None else await tokens.principal_of(token_id)
    if principal is None:
        request.clear_session()
    return principal


async def principal_for_token(tokens: TokenStore, token: str) -> Principal | None:
    """The principal a token typed at the login form stands for (the API's own check), or
    None if it is unknown, revoked or expired."""
    try:
        return await tokens.principal(f"Bearer {token}")
    except Unauthenticated:
        return None


async def sign_in(
    request: Request[Any, Any, Any], sessions: WebSessions, principal: Principal
) -> str:
    """Start a session of `principal` on the server: a new session id and a new CSRF seed in
    the cookie (nothing of the anonymous session before it is kept); its home."""
    home = home_of(principal)
    session_id = await sessions.start(principal.token_id)
    request.set_session({"sid": session_id, "home": home, _SEED: secrets.token_hex(16)})
    return home


async def sign_out(request: Request[Any, Any, Any], sessions: WebSessions) -> None:
    """End the session on the server (its cookie opens nothing afterwards) and drop it."""
    session_id = request.session.get("sid") if request.session else None
    if isinstance(session_id, str):
        await sessions.end(session_id)
    request.clear_session()


async def viewer(request: Request[Any, Any, Any]) -> Principal:
    """The pages' `principal`: who `_SessionAuthentication` found signed in, or
    Unauthenticated (the login page)."""
    principal = request.scope.get("user")
    if not isinstance(principal, Principal):
        raise Unauthenticated("sign in first")
    return principal


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
        "signed_in": bool(session.get("sid")),
        "home": session.get("home"),
        "flash": None,
        "status": status,
        "title": title,
        "detail": detail,
    }
    return Template("error.html", context=context, status_code=status)


def _login_required(request: Request[Any, Any, Any], exc: Unauthenticated) -> Redirect:
    """The sign-in page; a workshop's check-in page opened before signing in (a manager who
    scanned the door's code) is remembered in the session, to go back to after."""
    if request.method == "GET" and request.url.path.startswith(CHECK_IN):
        request.set_session({**(request.session or {}), _NEXT: request.url.path})
    return Redirect("/login")


def pending_check_in(request: Request[Any, Any, Any]) -> str | None:
    """The check-in page remembered by `_login_required`, if any (only such a path of this
    site: never an address from outside)."""
    path = request.session.get(_NEXT) if request.session else None
    if isinstance(path, str) and path.startswith(CHECK_IN) and "//" not in path:
        return path
    return None


def _forbidden(request: Request[Any, Any, Any], exc: Forbidden) -> Response[Any]:
    return _error_page(request, 403, "You cannot see this page", exc.detail)


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


def _busy(request: Request[Any, Any, Any], exc: WorkersBusy) -> Response[Any]:
    page = _error_page(request, 503, "Busy: try again in a moment", str(exc))
    page.headers["Retry-After"] = RETRY_AFTER
    return page


WEB_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    Unauthenticated: _login_required,
    Forbidden: _forbidden,
    WorkersBusy: _busy,
    HTTPException: _http,
    NotFoundException: _http,
    DomainError: _domain,
}
