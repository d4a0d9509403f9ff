"""The security headers of every answer (SPEC 6): what a browser may load, frame and keep.

* `Content-Security-Policy`: everything from this app only; no inline script or style (the
  templates have none: styles are in /static), no plugin, no `<base>`, forms post only here,
  and no page may be framed (`frame-ancestors 'none'`, with `X-Frame-Options: DENY` for old
  browsers).  The one exception is Swagger UI under /schema: Litestar renders it with an
  inline bootstrap script, so its pages allow inline script and style, and nothing else more.
* `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` everywhere.
* `Cache-Control: no-store` on every answer but the static files: pages and API answers show
  personal data or a secret (a new token's page) and must not be kept by a browser or proxy.
  An answer that sets its own Cache-Control keeps it.

It is an ASGI wrapper around the whole app rather than route middleware, so that 404s, 405s,
the 429s of the throttle and the error pages carry the headers too.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "SecurityHeadersMiddleware"]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
_SWAGGER_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)
_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
_OURS = {name for name, _ in _ALWAYS} | {b"content-security-policy"}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = _SWAGGER_CSP if path == "/schema" or path.startswith("/schema/") else CSP
        cacheable = path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0].lower() not in _OURS]
                headers += [*_ALWAYS, (b"content-security-policy", csp.encode())]
                if not cacheable and not any(h[0].lower() == b"cache-control" for h in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
