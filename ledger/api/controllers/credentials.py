"""Verifiable credentials: an approved renewal's Open Badges 3.0 credential (VC-JWT), the
programs' status lists and their issuers (docs/credentials.md).

Public: a credential by its id (an unguessable random UUID, which its holder hands out; it
says what the public verification page says), the status lists and the issuers' profiles and
keys, which any verifier must fetch without an account.  The holder, their association and
the admins get the credential of a renewal by the renewal's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromPath, FromQuery

from ledger.api.controllers.documents import CREDENTIALS, CredentialsDep
from ledger.api.deps import CurrentPrincipal, ReadsDep, allow
from ledger.api.errors import problems
from ledger.commands.loaders import find_renewal
from ledger.credentials.registry import Issued
from ledger.credentials.service import CredentialService
from ledger.credentials.status_list import PURPOSES
from ledger.domain.errors import NotFound

__all__ = ["CredentialsController", "IssuersController", "RenewalCredentialsController"]

VC_JWT = "application/vc+jwt"
PUBLIC_PROBLEMS = problems(404, 422, 503)
SIGNED = {
    200: ResponseSpec(
        data_container=str,
        media_type=VC_JWT,
        description="the credential as a VC-JWT (compact JWS, EdDSA over Ed25519); "
        "format=json gives the credential document it carries",
    )
}

Format = FromQuery[Literal["jwt", "json"]]


@dataclass
class SignedOperation(Operation):
    """A signed document's 200 in both media types it answers: the VC-JWT, and with
    format=json the credential document (`application/json`) it carries."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            document = OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT))
            ok.content = {**(ok.content or {}), "application/json": document}


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


def signed(vc_jwt: str, document: dict[str, Any], format: str) -> Response[Any]:
    if format == "json":
        return Response(document, media_type="application/json")
    return Response(vc_jwt, media_type=VC_JWT)


class RenewalCredentialsController(Controller):
    path = "/v1/renewals"
    tags = ("credentials",)
    dependencies = CREDENTIALS

    @get(
        "/{renewal_id:uuid}/credential",
        operation_id="getRenewalCredential",
        responses=problems(401, 403, 404, 409, 503),
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
        allow(
            principal.is_admin() or principal.is_manager(filed.manager_id)
            or principal.audits(filed.program),
            "a credential is its holder's, their association's and the admins'",
        )  # fmt: skip
        issued = await credentials.for_renewal(renewal_id)
        return IssuedView.of(issued, credentials.public_url)


class CredentialsController(Controller):
    path = "/v1"
    tags = ("credentials",)
    dependencies = CREDENTIALS

    @get(
        "/credentials/{credential_id:uuid}",
        operation_id="getCredential",
        responses=PUBLIC_PROBLEMS | SIGNED,
        security=[],
        operation_class=SignedOperation,
    )
    async def credential(
        self, credential_id: FromPath[UUID], credentials: CredentialsDep, format: Format = "jwt"
    ) -> Response[Any]:
        """The Open Badges 3.0 credential, signed by the association (no login)."""
        issued = await credentials.find(credential_id)
        return signed(issued.vc_jwt, credentials.document(issued), format)

    @get(
        "/status-lists/{program:str}",
        operation_id="getRevocationList",
        responses=PUBLIC_PROBLEMS | SIGNED,
        security=[],
        operation_class=SignedOperation,
    )
    async def revocation_list(
        self, program: FromPath[str], credentials: CredentialsDep, format: Format = "jwt"
    ) -> Response[Any]:
        """The program's revocation list (as `/status-lists/{program}/revocation`)."""
        return await _status_list(credentials, program, "revocation", format)

    @get(
        "/status-lists/{program:str}/{purpose:str}",
        operation_id="getStatusList",
        responses=PUBLIC_PROBLEMS | SIGNED,
        security=[],
        operation_class=SignedOperation,
    )
    async def status_list(
        self,
        program: FromPath[str],
        purpose: FromPath[str],
        credentials: CredentialsDep,
        format: Format = "jwt",
    ) -> Response[Any]:
        """The program's Bitstring Status List credential for `revocation` or `suspension`
        (lapsed certifications), signed now (no login)."""
        return await _status_list(credentials, program, purpose, format)


async def _status_list(
    credentials: CredentialService, program: str, purpose: str, format: str
) -> Response[Any]:
    if purpose not in PURPOSES:
        raise NotFound("status list", f"{program}/{purpose}")
    document = await credentials.status_list(program, purpose)  # type: ignore[arg-type]
    vc_jwt = "" if format == "json" else await credentials.registry.sign(program, document)
    return signed(vc_jwt, document, format)


class IssuersController(Controller):
    path = "/v1/issuers"
    tags = ("credentials",)
    dependencies = CREDENTIALS

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
