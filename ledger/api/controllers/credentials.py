"""Verifiable credentials: an approved renewal's Open Badges 3.0 credential (VC-JWT), the
programs' status lists and their issuers (docs/credentials.md).

Public: a credential by its id (an unguessable random UUID, which its holder hands out; it
says what the public verification page says), the status lists and the issuers' profiles and
keys, which any verifier must fetch without an account.  The holder, their association and
the admins get the credential of a renewal by the renewal's id.

A signed document (a credential, a status list) is served as `text/plain`, as OB 3.0 says a
compact JWS should be; `Accept: application/vc+jwt` gets the same bytes under VC-JOSE-COSE's
media type, and `format=json` (or `Accept: application/json`) the document inside.  A status
list carries an ETag (of the signed bytes) and `Cache-Control: public, max-age=300`: it is
re-signed only when a bit changes or half its one-day validity has passed, and answers
`If-None-Match` with 304.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromPath, FromQuery

from ledger.api.errors import problems
from ledger.commands.loaders import find_renewal
from ledger.credentials.registry import Issued
from ledger.credentials.service import CredentialService
from ledger.credentials.status_list import PURPOSES, TTL
from ledger.domain.errors import NotFound
from ledger.http.guards import deny_unless, holder_association_or_admin, public
from ledger.http.injected import CredentialsDep, CurrentPrincipal, ReadsDep

__all__ = ["CredentialsController", "IssuersController", "RenewalCredentialsController"]

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
LIST_CACHE = f"public, max-age={int(TTL.total_seconds())}"

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


class RenewalCredentialsController(Controller):
    path = "/v1/renewals"
    tags = ("credentials",)

    @get(
        "/{renewal_id:uuid}/credential",
        operation_id="getRenewalCredential",
        responses=problems(401, 403, 404, 409, 503),
        guards=[holder_association_or_admin],
    )
    async def credential(
        self,
        renewal_id: FromPath[UUID],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        credentials: CredentialsDep,
    ) -> IssuedView:
        """The approved renewal's credential, issued on first request (409 unless approved)."""
        filed = await find_renewal(reads.store, renewal_id)
        deny_unless(  # the renewal's manager and program, once it is looked up
            principal.is_admin() or principal.is_manager(filed.manager_id)
            or principal.audits(filed.program),
            "a credential is its holder's, their association's and the admins'",
        )  # fmt: skip
        issued = await credentials.for_renewal(renewal_id)
        return IssuedView.of(issued, credentials.public_url)


class CredentialsController(Controller):
    path = "/v1"
    tags = ("credentials",)
    guards = [public]

    @get(
        "/credentials/{credential_id:uuid}",
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

    @get(
        "/status-lists/{program:str}",
        operation_id="getRevocationList",
        responses=PUBLIC_PROBLEMS | SIGNED,
        security=[],
        operation_class=SignedOperation,
    )
    async def revocation_list(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        credentials: CredentialsDep,
        format: Format = "jwt",
    ) -> Response[Any]:
        """The program's revocation list (as `/status-lists/{program}/revocation`)."""
        return await _status_list(request, credentials, program, "revocation", format)

    @get(
        "/status-lists/{program:str}/{purpose:str}",
        operation_id="getStatusList",
        responses=PUBLIC_PROBLEMS | SIGNED,
        security=[],
        operation_class=SignedOperation,
    )
    async def status_list(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        purpose: FromPath[str],
        credentials: CredentialsDep,
        format: Format = "jwt",
    ) -> Response[Any]:
        """The program's Bitstring Status List credential for `revocation` or `suspension`
        (revoked or lapsed: the entry credentials name), valid for a day, re-signed only when
        a bit changes (no login)."""
        return await _status_list(request, credentials, program, purpose, format)


async def _status_list(
    request: Request[Any, Any, Any],
    credentials: CredentialService,
    program: str,
    purpose: str,
    format: str,
) -> Response[Any]:
    if purpose not in PURPOSES:
        raise NotFound("status list", f"{program}/{purpose}")
    listed = await credentials.status_list(program, purpose)
    media = media_type(request, format)
    digest = hashlib.sha256(f"{media}\n{listed.vc_jwt}".encode()).hexdigest()[:32]
    headers = {"ETag": f'"{digest}"', "Cache-Control": LIST_CACHE}
    if digest in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers={"Vary": "Accept", **headers})
    return signed(listed.vc_jwt, media, headers)


class IssuersController(Controller):
    path = "/v1/issuers"
    tags = ("credentials",)
    guards = [public]

    @get("/{program:str}", operation_id="getIssuer", responses=PUBLIC_PROBLEMS, security=[])
    async def issuer(self, program: FromPath[str], credentials: CredentialsDep) -> dict[str, Any]:
        """The association's Open Badges Profile for the program, with its public key."""
        return await credentials.issuer(program)

    @get(
        "/{program:str}/jwks", operation_id="getIssuerKeys", responses=PUBLIC_PROBLEMS, security=[]
    )
    async def jwks(self, program: FromPath[str], credentials: CredentialsDep) -> dict[str, Any]:
        """The program's public signing keys as a JWK Set (RFC 7517)."""
        return await credentials.jwks(program)

    @get(
        "/{program:str}/keys/{thumbprint:str}",
        operation_id="getIssuerKey",
        responses=PUBLIC_PROBLEMS,
        security=[],
        media_type="application/jwk+json",
    )
    async def key(
        self, program: FromPath[str], thumbprint: FromPath[str], credentials: CredentialsDep
    ) -> dict[str, Any]:
        """The public key a credential's `kid` names, as a JWK (RFC 7517): the `kid` URL
        dereferences to it, as OB 3.0 asks."""
        return await credentials.key_jwk(program, thumbprint)
