"""Claims: the provider's answer to one (SPEC 11).  A claim is filed on its manager
(POST /v1/managers/{id}/claims), listed there and on its provider
(GET /v1/providers/{id}/claims), and fulfilled by the posting of its activity."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from ledger.api.errors import WRITE_PROBLEMS
from ledger.commands import claims as cmd
from ledger.commands.messages import DisputeClaim
from ledger.http.guards import answering_provider
from ledger.http.injected import CurrentPrincipal, LedgerDep, RequestContext
from ledger.queries.claims import ClaimDisputedView

__all__ = ["ClaimsController"]


class ClaimsController(Controller):
    path = "/v1/claims"
    tags = ("claims",)

    @post(
        "/{claim_id:uuid}/dispute",
        operation_id="disputeClaim",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[answering_provider],
    )
    async def dispute(
        self,
        claim_id: FromPath[UUID],
        data: JSONBody[DisputeClaim],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> ClaimDisputedView:
        """Dispute an open claim on one of the provider's activities, saying why (403 for
        another provider's claim, 409 for a claim no longer open)."""
        assert principal.provider_id is not None  # the guard let a provider through
        filed, disputed, result = await cmd.dispute_claim(
            ledger, ctx, claim_id, data, provider_id=principal.provider_id
        )
        return ClaimDisputedView.of(filed, disputed, result)
