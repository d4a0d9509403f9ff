"""The issuers: each program's association as an Open Badges Profile, and its public keys
(public: see credentials.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.params import FromPath

from ledger.api.controllers.credentials_views import PUBLIC_PROBLEMS
from ledger.http.guards import public
from ledger.http.injected import CredentialsDep

__all__ = ["IssuersController"]


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
