"""An address nobody serves, answered in the asker's language: a page for a browser, RFC 9457
problem+json for an API client.

The pages' own router answers its 404s with a page (ledger/web/session.py), but an address
that matches no route never reaches a router: the app's handler answers it.  An address under
/v1 is the API's, whatever the client accepts; elsewhere a client that accepts HTML (every
browser's navigation does) gets the page, and any other client (curl's `*/*`, a JSON
client) the problem document it gets today."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.response import Template

__all__ = ["API_PREFIX", "not_found_for", "wants_page"]

API_PREFIX = "/v1"

Handler = Callable[[Request[Any, Any, Any], Exception], Response[Any]]


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """A browser asking for an address outside the API."""
    path = request.url.path
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        return False
    accept = request.headers.get("accept", "")
    return MediaType.HTML.value in accept


def not_found_for(api_handler: Handler) -> Callable[..., Response[Any]]:
    """The app's 404 handler: the page for a browser, else `api_handler`'s problem+json."""

    def not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
        if not wants_page(request):
            return api_handler(request, exc)
        context = {
            "principal": None,
            "signed_in": False,
            "home": "/",
            "flash": None,
            "status": 404,
            "title": "Page not found",
            "detail": "There is nothing at this address. Check it, or start again from your"
            " home page.",
        }
        return Template("error.html", context=context, status_code=404)

    return not_found
