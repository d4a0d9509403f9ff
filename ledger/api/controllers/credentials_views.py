"""What the credentials' routes share (credentials.py, status_lists.py, issuers.py and a
renewal's credential in renewals.py): the media types a signed document is answered in and
their OpenAPI, and the view of an issued credential."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Request, Response
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromQuery

from ledger.api.errors import problems
from ledger.credentials.registry import Issued
from ledger.credentials.service import CredentialService

__all__ = [
    "JSON",
    "PUBLIC_PROBLEMS",
    "SIGNED",
    "TEXT",
    "VC_JWT",
    "Format",
    "IssuedView",
    "SignedOperation",
    "media_type",
    "signed",
]

TEXT, VC_JWT, JSON = "text/plain", "application/vc+jwt", "application/json"
PUBLIC_PROBLEMS = problems(404, 422, 503)
SIGNED = {
    200: ResponseSpec(
        data_container=str,
        media_type=TEXT,
        description="the credential as an OB 3.0 VC-JWT (compact JWS, EdDSA over Ed25519), "
        "text/plain as OB 3.0 asks, or application/vc+jwt when accepted; format=json gives "
        "the credential document it carries",
    )
}

Format = FromQuery[Literal["jwt", "json"]]


@dataclass
class SignedOperation(Operation):
    """A signed document's 200 in the media types it answers: the VC-JWT as text/plain or
    application/vc+jwt, and with format=json the credential document (`application/json`)."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            document = OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT))
            token = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
            ok.content = {**(ok.content or {}), VC_JWT: token, JSON: document}


class IssuedView(msgspec.Struct, frozen=True, kw_only=True):
    credential_id: UUID
    renewal_id: UUID
    program: str
    manager_id: str
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    credential_url: str
    verify_url: str
    vc_jwt: str

    @classmethod
    def of(cls, issued: Issued, base: str) -> IssuedView:
        return cls(
            credential_id=issued.credential_id, renewal_id=issued.renewal_id,
            program=issued.program, manager_id=issued.manager_id,
            valid_from=issued.valid_from, valid_until=issued.valid_until,
            issued_at=issued.issued_at,
            credential_url=f"{base}/v1/credentials/{issued.credential_id}",
            verify_url=f"{base}/verify/{issued.credential_id}", vc_jwt=issued.vc_jwt,
        )  # fmt: skip


def media_type(request: Request[Any, Any, Any], format: str) -> str:
    """What a signed document is answered as: `format=json` first, then Accept, text/plain
    when the client has no preference (OB 3.0 8.2: a compact JWS SHOULD be text/plain)."""
    if format == "json":
        return JSON
    return request.accept.best_match([TEXT, VC_JWT, JSON], default=TEXT) or TEXT


def signed(vc_jwt: str, media: str, headers: dict[str, str] | None = None) -> Response[Any]:
    headers = {"Vary": "Accept", **(headers or {})}
    if media == JSON:
        return Response(CredentialService.payload(vc_jwt), media_type=JSON, headers=headers)
    return Response(vc_jwt, media_type=media, headers=headers)
