"""A filed renewal: the association's decision on it and, once approved, its credential (the
other credential routes are credentials.py's) and its certificate, a PDF made from the reads
the JSON answers use (ledger/documents/pdfs.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from ledger.api.controllers.credentials_views import IssuedView
from ledger.api.errors import WRITE_PROBLEMS, problems
from ledger.commands import renewals as cmd
from ledger.commands.loaders import find_renewal
from ledger.commands.messages import DecideRenewal
from ledger.documents.pdfs import certificate_pdf
from ledger.http.guards import auditor, deny_unless, holder_association_or_admin
from ledger.http.injected import (
    CredentialsDep,
    CurrentPrincipal,
    LedgerDep,
    ReadsDep,
    RequestContext,
)
from ledger.http.responses import pdf_response
from ledger.queries.views import DecisionView

__all__ = ["RenewalsController"]

PDF_RESPONSE = {
    200: ResponseSpec(data_container=bytes, media_type="application/pdf", description="a PDF")
}


class RenewalsController(Controller):
    path = "/v1/renewals"

    @post(
        "/{renewal_id:uuid}/decision",
        operation_id="decideRenewal",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
        guards=[auditor],
        tags=["associations"],
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
        result = await cmd.decide_renewal(ledger, ctx, renewal_id, data)
        return DecisionView(
            renewal_id=renewal_id, manager_id=filed.manager_id, program=filed.program,
            cycle=filed.cycle, decision=data.decision, reason=data.reason,
            position=result.last_position, decided_at=result.recorded_at,
        )  # fmt: skip

    @get(
        "/{renewal_id:uuid}/credential",
        operation_id="getRenewalCredential",
        responses=problems(401, 403, 404, 409, 503),
        guards=[holder_association_or_admin],
        tags=["credentials"],
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

    @get(
        "/{renewal_id:uuid}/certificate.pdf",
        operation_id="getRenewalCertificate",
        responses=problems(401, 403, 404, 409, 503) | PDF_RESPONSE,
        media_type="application/pdf",
        guards=[holder_association_or_admin],
        tags=["documents"],
    )
    async def certificate(
        self,
        request: Request[Any, Any, Any],
        renewal_id: FromPath[UUID],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        credentials: CredentialsDep,
    ) -> Response[bytes]:
        """The certificate of an approved renewal (409 while it is filed or if denied)."""
        filed = await find_renewal(reads.store, renewal_id)
        deny_unless(  # the renewal's manager and program, once it is looked up
            principal.is_admin() or principal.is_manager(filed.manager_id)
            or principal.audits(filed.program),
            "a certificate is its holder's, their association's and the admins'",
        )  # fmt: skip
        return pdf_response(*await certificate_pdf(reads, credentials, filed))
