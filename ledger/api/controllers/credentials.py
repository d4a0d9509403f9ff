"""Verifiable credentials: an approved renewal's Open Badges 3.0 credential (VC-JWT), the
programs' status lists and their issuers (docs/credentials.md).

Public: a credential by its id (an unguessable random UUID, which its holder hands out; it
says what the public verification page says), the status lists and the issuers' profiles and
keys, which any verifier must fetch without an account.  The holder, their association and
the admins get the credential of a renewal by the renewal's id.  One module per path: this one
(/v1/credentials), status_lists.py, issuers.py and renewals.py (a renewal's credential); what
they share is in credentials_views.py.

A signed document (a credential, a status list) is served as `text/plain`, as OB 3.0 says a
compact JWS should be; `Accept: application/vc+jwt` gets the same bytes under VC-JOSE-COSE's
media type, and `format=json` (or `Accept: application/json`) the document inside.  A status
list carries an ETag (of the signed bytes) and `Cache-Control: public, max-age=300`: it is
re-signed only when a bit changes or half its one-day validity has passed, and answers
`If-None-Match` with 304.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from ledger.api.controllers.credentials_views import (
    PUBLIC_PROBLEMS,
    SIGNED,
    Format,
    SignedOperation,
    media_type,
    signed,
)
from ledger.http.guards import public
from ledger.http.injected import CredentialsDep

__all__ = ["CredentialsController"]


class CredentialsController(Controller):
    path = "/v1/credentials"
    tags = ("credentials",)
    guards = [public]

    @get(
        "/{credential_id:uuid}",
        operation_id="getCredential",
        responses=PUBLIC_PROBLEMS | SIGNED,
        security=[],
        operation_class=SignedOperation,
    )
    async def credential(
        self,
        request: Request[Any, Any, Any],
        credential_id: FromPath[UUID],
        credentials: CredentialsDep,
        format: Format = "jwt",
    ) -> Response[Any]:
        """The Open Badges 3.0 credential, signed by the association (no login)."""
        issued = await credentials.find(credential_id)
        return signed(issued.vc_jwt, media_type(request, format))
