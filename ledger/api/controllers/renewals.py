"""Fees and refunds, filing a renewal, and the association's decision on it."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from ledger.api.errors import WRITE_PROBLEMS
from ledger.commands import renewals as cmd
from ledger.commands.loaders import find_renewal
from ledger.commands.messages import DecideRenewal
from ledger.http.guards import auditor, deny_unless
from ledger.http.injected import CurrentPrincipal, LedgerDep, RequestContext
from ledger.queries.views import DecisionView

__all__ = ["RenewalsController"]


class RenewalsController(Controller):
    path = "/v1/renewals"
    tags = ("associations",)

    @post(
        "/{renewal_id:uuid}/decision",
        operation_id="decideRenewal",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
        guards=[auditor],
    )
    async def decide(
        self,
        renewal_id: FromPath[UUID],
        data: JSONBody[DecideRenewal],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> DecisionView:
        """Approve or deny a filed renewal (an auditor of its program)."""
        filed = await find_renewal(ledger.store, renewal_id)
        deny_unless(principal.audits(filed.program), f"only an auditor of {filed.program}")
        result = await cmd.decide_renewal(
            ledger, ctx, renewal_id, approve=data.decision == "approve", reason=data.reason
        )
        return DecisionView(
            renewal_id=renewal_id, manager_id=filed.manager_id, program=filed.program,
            cycle=filed.cycle, decision=data.decision, reason=data.reason,
            position=result.last_position, decided_at=result.recorded_at,
        )  # fmt: skip
