"""The public verification page of a credential: `/verify/{credential_id}` (HTML for a
browser, JSON for `Accept: application/json` or the `.json` variant), no login.

It says what the credential's holder agreed to show by handing out its id: their name, the
program, the certification's status now, the validity dates and whether it was revoked or has
lapsed.  The page and the JSON are the same `Verification` (CredentialService.verification);
its links are on LEDGER_PUBLIC_URL, never on the Host the request names, and its holder's name
is shown without control or bidirectional characters, even one an old event holds.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from ledger.domain.errors import NotFound
from ledger.http.guards import public
from ledger.http.injected import CredentialsDep

__all__ = ["VerifyPages"]

JSON, HTML = "application/json", "text/html"


class VerifyPages(Controller):
    path = "/verify"
    include_in_schema = False
    guards = [public]

    @get("/{credential_id:str}")
    async def verify(
        self,
        request: Request[Any, Any, Any],
        credential_id: FromPath[str],
        credentials: CredentialsDep,
    ) -> Template | Response[Any]:
        wants_json = (
            credential_id.endswith(".json")
            or request.accept.best_match([HTML, JSON], default=HTML) == JSON
        )
        raw = credential_id.removesuffix(".json")
        try:
            found = await credentials.verification(uuid.UUID(raw))
        except (ValueError, NotFound):
            if wants_json:
                detail = {"status": 404, "title": "Not Found", "detail": f"no credential {raw}"}
                return Response(detail, status_code=404, media_type="application/problem+json")
            context = {"found": None, "credential_id": raw}
            return Template("verify.html", context=context, status_code=404)
        if wants_json:
            return Response(found)
        return Template("verify.html", context={"found": found, "credential_id": raw})
