"""Approvals (SPEC 12): providers apply to a program and submit their activities; the
program's auditors approve or deny.  The routes sit under the program they are about
(`/v1/programs/{code}/provider-approvals`, `/v1/programs/{code}/activity-approvals`), and a
provider reads its own at `/v1/providers/{provider_id}/approvals`; they are one controller of
their own, beside programs.py and providers.py, because they are one resource.

Who: a provider applies as itself (the provider is the token's, never a field) and submits
only its own activities; an auditor of the path's program lists and decides (not an admin:
the association vouches, as for renewals); a provider or an admin reads the provider's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIType, Operation, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS
from ledger.commands import approvals as cmd
from ledger.commands.messages import (
    ApplyForApproval,
    ApproveActivity,
    ApproveProvider,
    DenyApproval,
    SubmitActivity,
)
from ledger.domain.approvals import ApplicationState
from ledger.domain.errors import FieldError, Invalid
from ledger.http.guards import auditor_of_path_program, provider, provider_of_path
from ledger.http.injected import CurrentPrincipal, LedgerDep, ReadsDep, RequestContext
from ledger.queries import approvals as views
from ledger.queries.approvals import (
    APPLICATION_STATES,
    ActivityApprovalView,
    ProviderApprovalView,
    ProvidersApprovalsView,
)
from projections.provider_notices import ProviderNoticeRow

__all__ = ["ApprovalsController"]


@dataclass
class _StateOperation(Operation):
    """`state` is a reserved name for Litestar handler parameters, so the handler reads it from
    the query string itself; this documents it."""

    def __post_init__(self) -> None:
        state = OpenAPIParameter(
            name="state",
            param_in=ParamType.QUERY,
            required=False,
            description="only applications in this state",
            schema=Schema(type=OpenAPIType.STRING, enum=list(APPLICATION_STATES)),
        )
        self.parameters = [*(self.parameters or []), state]


def _state(request: Request[Any, Any, Any]) -> ApplicationState | None:
    state = request.query_params.get("state")
    for known in APPLICATION_STATES:
        if state == known:
            return known
    if state is not None:
        raise Invalid([FieldError("state", f"one of {', '.join(APPLICATION_STATES)}")])
    return None


def _provider_id(principal: CurrentPrincipal) -> str:
    assert principal.provider_id is not None, "the provider guard lets only providers through"
    return principal.provider_id


class ApprovalsController(Controller):
    path = "/v1"
    tags = ("approvals",)

    # -- provider approvals -----------------------------------------------------------------

    @post(
        "/programs/{code:str}/provider-approvals",
        operation_id="applyForProviderApproval",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[provider],
    )
    async def apply(
        self, code: FromPath[str], data: JSONBody[ApplyForApproval], principal: CurrentPrincipal,
        ctx: RequestContext, ledger: LedgerDep, reads: ReadsDep,
    ) -> ProviderApprovalView:  # fmt: skip
        """The calling provider applies to the program for approval, or for its renewal (409
        while an application of it is pending)."""
        provider_id = _provider_id(principal)
        await cmd.request_provider_approval(ledger, ctx, code, provider_id, data)
        return await views.provider_approval(reads, code, provider_id)

    @get(
        "/programs/{code:str}/provider-approvals",
        operation_id="listProviderApprovals",
        responses=READ_PROBLEMS,
        operation_class=_StateOperation,
        guards=[auditor_of_path_program],
    )
    async def list_providers(
        self, code: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep,
        request: Request[Any, Any, Any],
    ) -> list[ProviderApprovalView]:  # fmt: skip
        """The program's applications from providers, newest first (`state`: pending,
        approved or denied)."""
        return await views.provider_approvals(reads, code, _state(request))

    @post(
        "/programs/{code:str}/provider-approvals/{provider_id:str}/approve",
        operation_id="approveProvider",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
    )
    async def approve_provider(
        self, code: FromPath[str], provider_id: FromPath[str], data: JSONBody[ApproveProvider],
        principal: CurrentPrincipal, ctx: RequestContext, ledger: LedgerDep, reads: ReadsDep,
    ) -> ProviderApprovalView:  # fmt: skip
        """Approve the provider's pending application: valid from today until `valid_until`
        (the day it lapses)."""
        await cmd.approve_provider(ledger, ctx, code, provider_id, data)
        return await views.provider_approval(reads, code, provider_id)

    @post(
        "/programs/{code:str}/provider-approvals/{provider_id:str}/deny",
        operation_id="denyProvider",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
    )
    async def deny_provider(
        self, code: FromPath[str], provider_id: FromPath[str], data: JSONBody[DenyApproval],
        principal: CurrentPrincipal, ctx: RequestContext, ledger: LedgerDep, reads: ReadsDep,
    ) -> ProviderApprovalView:  # fmt: skip
        """Deny the provider's pending application, with the reason."""
        await cmd.deny_provider(ledger, ctx, code, provider_id, data)
        return await views.provider_approval(reads, code, provider_id)

    # -- activity approvals -----------------------------------------------------------------

    @post(
        "/programs/{code:str}/activity-approvals",
        operation_id="submitActivityForApproval",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[provider],
    )
    async def submit(
        self, code: FromPath[str], data: JSONBody[SubmitActivity], principal: CurrentPrincipal,
        ctx: RequestContext, ledger: LedgerDep, reads: ReadsDep,
    ) -> ActivityApprovalView:  # fmt: skip
        """The calling provider submits one of its activities (that counts for the program)
        for approval."""
        await cmd.request_activity_approval(ledger, ctx, code, _provider_id(principal), data)
        return await views.activity_approval(reads, code, data.activity_id)

    @get(
        "/programs/{code:str}/activity-approvals",
        operation_id="listActivityApprovals",
        responses=READ_PROBLEMS,
        operation_class=_StateOperation,
        guards=[auditor_of_path_program],
    )
    async def list_activities(
        self, code: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep,
        request: Request[Any, Any, Any],
    ) -> list[ActivityApprovalView]:  # fmt: skip
        """The program's approvals of activities, newest first (`state`: pending, approved
        or denied); approvals on registration are `automatic`."""
        return await views.activity_approvals(reads, code, _state(request))

    @post(
        "/programs/{code:str}/activity-approvals/{activity_id:str}/approve",
        operation_id="approveActivity",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
    )
    async def approve_activity(
        self, code: FromPath[str], activity_id: FromPath[str], data: JSONBody[ApproveActivity],
        principal: CurrentPrincipal, ctx: RequestContext, ledger: LedgerDep, reads: ReadsDep,
    ) -> ActivityApprovalView:  # fmt: skip
        """Approve the submitted activity with an index number, its CEUs (at most the
        activity's) and a category of the program."""
        await cmd.approve_activity(ledger, ctx, code, activity_id, data)
        return await views.activity_approval(reads, code, activity_id)

    @post(
        "/programs/{code:str}/activity-approvals/{activity_id:str}/deny",
        operation_id="denyActivity",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
    )
    async def deny_activity(
        self, code: FromPath[str], activity_id: FromPath[str], data: JSONBody[DenyApproval],
        principal: CurrentPrincipal, ctx: RequestContext, ledger: LedgerDep, reads: ReadsDep,
    ) -> ActivityApprovalView:  # fmt: skip
        """Deny the submitted activity, with the reason."""
        await cmd.deny_activity(ledger, ctx, code, activity_id, data)
        return await views.activity_approval(reads, code, activity_id)

    # -- a provider's own -------------------------------------------------------------------

    @get(
        "/providers/{provider_id:str}/approvals",
        operation_id="providerApprovals",
        responses=READ_PROBLEMS,
        guards=[provider_of_path],
    )
    async def own(
        self, provider_id: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep
    ) -> ProvidersApprovalsView:
        """The provider's applications to programs and its activities' approvals, newest
        first (that provider, or an admin)."""
        return await views.providers_own(reads, provider_id)

    @get(
        "/providers/{provider_id:str}/notices",
        operation_id="providerNotices",
        responses=READ_PROBLEMS,
        guards=[provider_of_path],
    )
    async def notices(
        self, provider_id: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep
    ) -> list[ProviderNoticeRow]:
        """The reminders queued for the provider: its approvals lapsing in 120 and in 30 days
        (that provider, or an admin)."""
        return await views.notices_of_provider(reads, provider_id)
