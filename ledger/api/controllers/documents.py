"""PDF documents: a manager's transcript and an approved renewal's certificate.

Every figure on them comes from the reads the JSON answers use (`Reads.status`,
`Reads.transcript`, the renewal in the manager's record); this module only gathers them, adds
the ledger position and hash they were made from, and hands them to the template.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from events.codec import decode
from events.store import RecordedEvent
from ledger.access.policy import WHOLE, ManagerScope
from ledger.api.deps import CurrentPrincipal, ReadsDep
from ledger.api.errors import problems
from ledger.commands.loaders import find_renewal
from ledger.commands.streams import manager_stream
from ledger.credentials.service import CredentialService
from ledger.documents.render import pdf, qr_data_uri
from ledger.domain.errors import NotFound
from ledger.http.guards import deny_unless, holder_association_or_admin
from ledger.queries.reads import Reads

__all__ = ["CredentialsDep", "RenewalDocumentsController", "provide_credentials", "transcript_pdf"]

CredentialsDep = NamedDependency[CredentialService]


def provide_credentials(state: State) -> CredentialService:
    return state.credentials


CREDENTIALS = {"credentials": Provide(provide_credentials, sync_to_thread=False)}

PDF_RESPONSE = {
    200: ResponseSpec(data_container=bytes, media_type="application/pdf", description="a PDF")
}


def pdf_response(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


async def _last_event(reads: Reads, manager_id: str, version: int) -> RecordedEvent:
    """The manager's event at `version`: the last fact a document made from it reflects."""
    found = await reads.store.read_stream(manager_stream(manager_id), after_version=version - 1)
    return found[0]


async def transcript_pdf(
    reads: Reads, credentials: CredentialService, manager_id: str,
    program: str | None, *, as_of: date | None, known_at: datetime | None,
    scope: ManagerScope = WHOLE,
) -> Response[bytes]:  # fmt: skip
    """The transcript (and the status beside it) as a PDF, with a verification link per
    program whose latest renewal was approved: only what `scope` sees (ledger/access/policy.py).
    Its links name the configured public URL, never the request's Host (SPEC 6)."""
    base = credentials.public_url
    status = await reads.status(manager_id, as_of=as_of, known_at=known_at, scope=scope)
    lines = await reads.transcript(manager_id, program, as_of=as_of, known_at=known_at, scope=scope)
    record = scope.record(await reads.record(manager_id, as_of=as_of, known_at=known_at))
    held = [c for c in status.certifications if program is None or c.program == program]
    verify = []
    for c in held:
        approved = [r for r in record.certifications[c.program].renewals if r.state == "approved"]
        if approved:
            issued = await credentials.for_renewal(approved[-1].renewal_id)
            url = f"{base}/verify/{issued.credential_id}"
            verify.append({"program": c.program, "url": url, "qr": qr_data_uri(url)})
    last = await _last_event(reads, manager_id, record.version)
    content = await pdf(
        "transcript.html", manager_id=manager_id, name=record.name, program=program,
        as_of=status.as_of, certifications=held, lines=lines, verify=verify, position=last.position,
        hash=last.hash.hex(), version=record.version, made_at=reads.clock().replace(microsecond=0),
    )  # fmt: skip
    return pdf_response(content, f"{manager_id}-transcript.pdf")


async def _approval_event(reads: Reads, manager_id: str, renewal_id: UUID) -> RecordedEvent:
    for recorded in await reads.store.read_stream(manager_stream(manager_id)):
        if recorded.type == "renewal_approved" and decode(recorded).renewal_id == renewal_id:  # type: ignore[attr-defined]
            return recorded
    raise NotFound("approval of renewal", renewal_id)


class RenewalDocumentsController(Controller):
    path = "/v1/renewals"
    tags = ("documents",)
    dependencies = CREDENTIALS

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
        base = credentials.public_url  # never the request's Host (SPEC 6)
        issued = await credentials.for_renewal(renewal_id)
        record = await reads.record(filed.manager_id, known_at=issued.approved_at)
        renewal = record.certifications[filed.program].renewal(renewal_id)
        program = await reads.catalogue.program(filed.program, known_at=issued.approved_at)
        approval = await _approval_event(reads, filed.manager_id, renewal_id)
        document = credentials.document(issued)
        subject = document["credentialSubject"]
        verify_url = f"{base}/verify/{issued.credential_id}"
        content = await pdf(
            "certificate.html", program=program, holder_name=issued.holder_name,
            renewal=renewal, renewed_from=subject["activityStartDate"][:10],
            renewed_to=subject["activityEndDate"][:10],
            approved_on=issued.approved_at.date(), valid_until=issued.valid_until.date(),
            verify_url=verify_url, qr=qr_data_uri(verify_url),
            credential_id=issued.credential_id, position=approval.position,
            hash=approval.hash.hex(), made_at=reads.clock().replace(microsecond=0),
        )  # fmt: skip
        return pdf_response(content, f"{filed.program}-renewal-{renewal_id}.pdf")
