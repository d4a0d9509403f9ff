"""Fees: refunding all or part of a fee paid."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from ledger.api.errors import WRITE_PROBLEMS
from ledger.commands import renewals as cmd
from ledger.commands.loaders import find_fee
from ledger.commands.messages import RefundFee
from ledger.http.guards import admin_or_auditor, deny_unless
from ledger.http.injected import CurrentPrincipal, LedgerDep, RequestContext
from ledger.queries.views import RefundView

__all__ = ["FeesController"]


class FeesController(Controller):
    path = "/v1/fees"
    tags = ("renewals",)

    @post(
        "/{fee_id:uuid}/refund",
        operation_id="refundFee",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin_or_auditor],
    )
    async def refund(
        self,
        fee_id: FromPath[UUID],
        data: JSONBody[RefundFee],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> RefundView:
        """Refund all or part of a fee; the cycle's fee_paid goes down."""
        paid = await find_fee(ledger.store, fee_id)
        deny_unless(  # the fee's program, once it is looked up
            principal.is_admin() or principal.audits(paid.program),
            f"only an admin or a {paid.program} auditor",
        )
        refunded, result = await cmd.refund_fee(ledger, ctx, fee_id, data)
        return RefundView.of_fact(refunded, result)
