"""PDF documents: a manager's transcript and an approved renewal's certificate.

Every figure on them comes from the reads the JSON answers use (`Reads.status`,
`Reads.transcript`, the renewal in the manager's record); this module only gathers them, adds
the ledger position and hash they were made from, and hands them to the template.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from ledger.api.errors import problems
from ledger.commands.loaders import find_renewal
from ledger.documents.pdfs import certificate_pdf
from ledger.http.guards import deny_unless, holder_association_or_admin
from ledger.http.injected import CredentialsDep, CurrentPrincipal, ReadsDep
from ledger.http.responses import pdf_response

__all__ = ["RenewalDocumentsController"]

PDF_RESPONSE = {
    200: ResponseSpec(data_container=bytes, media_type="application/pdf", description="a PDF")
}


class RenewalDocumentsController(Controller):
    path = "/v1/renewals"
    tags = ("documents",)

    @get(
        "/{renewal_id:uuid}/certificate.pdf",
        operation_id="getRenewalCertificate",
        responses=problems(401, 403, 404, 409, 503) | PDF_RESPONSE,
        media_type="application/pdf",
        guards=[holder_association_or_admin],
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
