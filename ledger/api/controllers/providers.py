"""Providers: registering them, their postings and registering their activities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIType, Operation, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS, bad_query
from ledger.commands import catalogue as cmd
from ledger.commands.messages import RegisterActivity, RegisterProvider
from ledger.http.guards import admin, authenticated, provider_of_path
from ledger.http.injected import CurrentPrincipal, LedgerDep, ReadsDep, RequestContext
from ledger.queries.claims import CLAIM_STATES, ClaimRow, claims_of_provider
from ledger.queries.views import PostingsPage, ProviderView

__all__ = ["ProvidersController"]


@dataclass
class _ClaimsOperation(Operation):
    """`state` is a reserved name for Litestar handler parameters, so the handler reads it from
    the query string itself; this documents it."""

    def __post_init__(self) -> None:
        state = OpenAPIParameter(
            name="state",
            param_in=ParamType.QUERY,
            required=False,
            description="open (the default), overdue (open past the claim window), fulfilled,"
            " disputed or all",
            schema=Schema(type=OpenAPIType.STRING, enum=list(CLAIM_STATES)),
        )
        self.parameters = [*(self.parameters or []), state]


class ProvidersController(Controller):
    path = "/v1/providers"
    tags = ("providers",)

    @post(
        "/",
        operation_id="registerProvider",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin],
    )
    async def register(
        self,
        data: JSONBody[RegisterProvider],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> RegisterProvider:
        """Register a provider and the programs it is approved for (an admin)."""
        await cmd.register_provider(ledger, ctx, data)
        return data

    @get("/", operation_id="listProviders", responses=READ_PROBLEMS, guards=[authenticated])
    async def list_providers(
        self, principal: CurrentPrincipal, reads: ReadsDep
    ) -> list[ProviderView]:
        """Every provider and the programs it is approved for (any role)."""
        return await reads.providers()

    @get(
        "/{provider_id:str}/completions",
        operation_id="providerPostings",
        responses=READ_PROBLEMS,
        guards=[provider_of_path],
    )
    async def postings(
        self,
        provider_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        manager_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**63 - 1)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> PostingsPage:
        """The provider's own postings in log order; `after` is the previous page's cursor."""
        return await reads.postings(provider_id, manager_id=manager_id, after=after, limit=limit)

    @get(
        "/{provider_id:str}/claims",
        operation_id="providerClaims",
        responses=READ_PROBLEMS,
        operation_class=_ClaimsOperation,
        guards=[provider_of_path],
    )
    async def claims(
        self,
        provider_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        request: Request[Any, Any, Any],
    ) -> list[ClaimRow]:
        """Claims on the provider's activities, oldest first: the open ones, or `?state=`
        overdue, fulfilled, disputed or all.  Post the completion to fulfil one, or dispute it."""
        # `state` is a reserved name for Litestar handler parameters: read from the query.
        state = request.query_params.get("state", "open")
        if state not in CLAIM_STATES:
            raise bad_query("state", f"one of {', '.join(CLAIM_STATES)}")
        return await claims_of_provider(reads, provider_id, state)

    @post(
        "/{provider_id:str}/activities",
        operation_id="registerActivity",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[provider_of_path],
    )
    async def register_activity(
        self,
        provider_id: FromPath[str],
        data: JSONBody[RegisterActivity],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> RegisterActivity:
        """Register an activity of the provider: its CEUs, category, programs and dates."""
        await cmd.register_activity(ledger, ctx, cmd.activity_of(provider_id, data))
        return data
