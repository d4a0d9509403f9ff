"""PDF documents: a manager's transcript, an approved renewal's certificate, and a
certificate of attendance at a workshop.

Every figure on them comes from the reads the JSON answers use (`Reads.status`,
`Reads.transcript`, the renewal in the manager's record); this module only gathers them, adds
the ledger position and hash they were made from, and hands them to the template.  Both doors
answer with them (the API's documents and transcript, the manager's page).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple
from uuid import UUID

from events.catalog import RenewalFiled
from events.codec import decode
from events.store import RecordedEvent
from ledger.access.policy import WHOLE, ManagerScope
from ledger.commands.streams import manager_stream
from ledger.credentials.service import CredentialService
from ledger.documents.render import pdf, qr_data_uri
from ledger.domain.errors import NotFound
from ledger.queries.reads import Reads
from ledger.queries.workshops import AttendeeView

__all__ = ["Pdf", "attendance_pdf", "certificate_pdf", "transcript_pdf"]


class Pdf(NamedTuple):
    content: bytes
    filename: str


async def _last_event(reads: Reads, manager_id: str, version: int) -> RecordedEvent:
    """The manager's event at `version`: the last fact a document made from it reflects."""
    found = await reads.store.read_stream(manager_stream(manager_id), after_version=version - 1)
    return found[0]


async def transcript_pdf(
    reads: Reads, credentials: CredentialService, manager_id: str,
    program: str | None, *, as_of: date | None, known_at: datetime | None,
    scope: ManagerScope = WHOLE,
) -> Pdf:  # fmt: skip
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
    return Pdf(content, f"{manager_id}-transcript.pdf")


async def _approval_event(reads: Reads, manager_id: str, renewal_id: UUID) -> RecordedEvent:
    for recorded in await reads.store.read_stream(manager_stream(manager_id)):
        if recorded.type == "renewal_approved" and decode(recorded).renewal_id == renewal_id:  # type: ignore[attr-defined]
            return recorded
    raise NotFound("approval of renewal", renewal_id)


async def certificate_pdf(reads: Reads, credentials: CredentialService, filed: RenewalFiled) -> Pdf:
    """The certificate of an approved renewal (WrongState while it is filed or if denied),
    with its verification link and QR code on the configured public URL (SPEC 6)."""
    base = credentials.public_url  # never the request's Host (SPEC 6)
    issued = await credentials.for_renewal(filed.renewal_id)
    record = await reads.record(filed.manager_id, known_at=issued.approved_at)
    renewal = record.certifications[filed.program].renewal(filed.renewal_id)
    program = await reads.catalogue.program(filed.program, known_at=issued.approved_at)
    approval = await _approval_event(reads, filed.manager_id, filed.renewal_id)
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
    return Pdf(content, f"{filed.program}-renewal-{filed.renewal_id}.pdf")


async def attendance_pdf(reads: Reads, credentials: CredentialService, view: AttendeeView) -> Pdf:
    """A manager's certificate of attendance at a workshop (SPEC 11): the figures of
    GET /v1/activities/{id}/attendance/{manager_id} (`view`), the provider, and the workshop's
    last event (position and hash) they were made from.  Its QR code links to that event in
    the ledger's feed on the configured public URL (never the request's Host, SPEC 6), where
    an auditor finds the same hash."""
    base = credentials.public_url
    record = await reads.record(view.manager_id)
    provider = await reads.catalogue.provider(view.provider_id)
    verify_url = f"{base}/v1/events?after={view.position - 1}&limit=1"
    content = await pdf(
        "attendance.html", view=view, name=record.name,
        provider_name=view.provider_id if provider is None else provider.name,
        verify_url=verify_url, qr=qr_data_uri(verify_url),
        made_at=reads.clock().replace(microsecond=0),
    )  # fmt: skip
    return Pdf(content, f"{view.activity_id}-attendance-{view.manager_id}.pdf")
