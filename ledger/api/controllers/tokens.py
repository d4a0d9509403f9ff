"""Tokens: issuing, listing and revoking the API's bearer tokens."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ledger.access.tokens import Created, TokenEntry
from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS
from ledger.commands.messages import IssueToken
from ledger.domain.errors import FieldError, Invalid, NotFound
from ledger.http.guards import admin
from ledger.http.injected import CurrentPrincipal, TokensDep

__all__ = ["TokensController"]


class TokensController(Controller):
    path = "/v1/tokens"
    tags = ("auth",)

    @post(
        "/",
        operation_id="createToken",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin],
    )
    async def create(
        self, data: JSONBody[IssueToken], principal: CurrentPrincipal, tokens: TokensDep
    ) -> Created:
        """Issue a token; the token itself is in this response only, never again."""
        scope = {"provider_id": data.provider_id, "manager_id": data.manager_id}
        errors = _scope_shape(data) + await tokens.unknown_scope(
            **scope, programs=data.programs, expires_at=data.expires_at
        )
        if errors:
            raise Invalid(errors)
        return await tokens.create(
            role=data.role,
            created_by=principal.actor.id,
            **scope,
            programs=tuple(data.programs),
            expires_at=data.expires_at,
        )

    @get("/", operation_id="listTokens", responses=READ_PROBLEMS, guards=[admin])
    async def list_tokens(self, principal: CurrentPrincipal, tokens: TokensDep) -> list[TokenEntry]:
        """Every token issued, oldest first: its scope and its life, never the token."""
        return await tokens.entries()

    @post(
        "/{token_id:uuid}/revoke",
        operation_id="revokeToken",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
        guards=[admin],
    )
    async def revoke(
        self, token_id: FromPath[UUID], principal: CurrentPrincipal, tokens: TokensDep
    ) -> TokenEntry:
        """Revoke a token, at once in every API process; revoking it again changes nothing."""
        if (entry := await tokens.revoke(token_id)) is None:
            raise NotFound("token", token_id)
        return entry


def _scope_shape(data: IssueToken) -> list[FieldError]:
    """Each role has exactly its own scope field."""
    errors = []
    if (data.role == "provider") != (data.provider_id is not None):
        errors.append(FieldError("provider_id", "required for a provider token, and only for one"))
    if (data.role == "manager") != (data.manager_id is not None):
        errors.append(FieldError("manager_id", "required for a manager token, and only for one"))
    if (data.role == "auditor") != bool(data.programs):
        errors.append(FieldError("programs", "an auditor token needs programs, and only one does"))
    return errors
