"""The programs' status lists (docs/credentials.md): public, signed, cached (see
credentials.py)."""

from __future__ import annotations

import hashlib
from typing import Any

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
from ledger.credentials.service import CredentialService
from ledger.credentials.status_list import PURPOSES, TTL
from ledger.domain.errors import NotFound
from ledger.http.guards import public
from ledger.http.injected import CredentialsDep

__all__ = ["StatusListsController"]

LIST_CACHE = f"public, max-age={int(TTL.total_seconds())}"


class StatusListsController(Controller):
    path = "/v1/status-lists"
    tags = ("credentials",)
    guards = [public]

    @get(
        "/{program:str}",
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
        "/{program:str}/{purpose:str}",
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
