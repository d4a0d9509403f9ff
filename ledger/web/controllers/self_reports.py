"""Self-reports on the pages (SPEC 9, 12): the manager reports with an upload from their page;
the association reviews its queue with each file beside its report and accepts or rejects; the
file itself, for the session (an <img> or a link on those pages).

The same commands, reads and guards as the API (ledger/api/controllers/self_reports.py); the
upload's form is the API's multipart form, read by the same helper (ledger/http/uploads.py)
under the same body limit.  A refusal keeps the form and what was typed (except the file: a
browser never lets a page fill a file input), with each mistake beside its field.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ledger.commands import self_reports as cmd
from ledger.commands.messages import AcceptSelfReport, RejectSelfReport, ReportSelf
from ledger.documents.filters import day
from ledger.domain.errors import DomainError, NotFound, WrongState
from ledger.http.authn import SESSION_GUARDED
from ledger.http.guards import (
    auditor_of_path_program,
    manager_themselves,
    reporter_association_or_admin,
)
from ledger.http.injected import (
    CredentialsDep,
    EvidenceDep,
    LedgerDep,
    ReadsDep,
    RequestContext,
)
from ledger.http.uploads import UPLOAD_BODY_BYTES, evidence_response, read_upload, too_large
from ledger.queries.reads import Reads
from ledger.queries.self_reports import evidence_file, review_queue, seen_report
from ledger.web.controllers.managers import manager_page
from ledger.web.forms import FormInvalid, errors_of, form_values, parse_form
from ledger.web.session import OutOfScope, Viewer, flash, page_context, viewer

__all__ = ["EvidencePages", "ReportPages", "ReviewPages"]

REPORT_LABELS = {
    "title": "the activity's title",
    "provider_name": "who gave it",
    "completed_on": "the day you completed it",
    "ceus": "the CEUs",
    "category": "the category",
    "programs": "the credentials it counts for",
}
STATE_WORDS = {"pending": "waiting for review", "accepted": "accepted", "rejected": "rejected"}


def page_url(code: str) -> str:
    return f"/programs/{code}/self-reports"


class ReportPages(Controller):
    """The manager's upload (their page shows the form and their reports)."""

    path = "/managers/{manager_id:str}/self-reports"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [manager_themselves]
    opt = {SESSION_GUARDED: True}

    @post("/", status_code=303, request_max_body_size=UPLOAD_BODY_BYTES)
    async def report(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer,
        reads: ReadsDep, credentials: CredentialsDep, ledger: LedgerDep, ctx: RequestContext,
        evidence: EvidenceDep,
    ) -> Template | Redirect:  # fmt: skip
        upload = await read_upload(request)
        values = upload.fields | {"programs": upload.fields.get("programs", [])}
        try:
            body = parse_form(values, ReportSelf, REPORT_LABELS)
            if upload.data is None or not upload.data or upload.files != 1:
                raise FormInvalid({"file": "Choose the certificate: one PDF, PNG or JPEG file"})
            if too_large(upload.data):
                raise FormInvalid({"file": "The file is larger than 10 MB: choose a smaller one"})
            await cmd.report(
                ledger, ctx, evidence, manager_id, message=body, data=upload.data,
                filename=upload.filename,
            )  # fmt: skip
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await manager_page(
                request, principal, reads, credentials, manager_id,
                form_errors={"self_report": found}, form_values={"self_report": values},
            )  # fmt: skip
        flash(request, f"Your report of {body.title} is sent. An auditor will review it.")
        return Redirect(f"/managers/{manager_id}#self-reports", status_code=303)


class ReviewPages(Controller):
    """The association's review queue: each report with its file, accept or reject."""

    path = "/programs/{code:str}/self-reports"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [auditor_of_path_program]
    opt = {SESSION_GUARDED: True}

    @get("/")
    async def queue(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        reads: ReadsDep,
    ) -> Template:  # fmt: skip
        return await self._queue_page(request, principal, reads, code)

    async def _queue_page(
        self, request: Request[Any, Any, Any], principal: Viewer, reads: Reads, code: str, *,
        errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
    ) -> Template:  # fmt: skip
        program = await reads.program(code)
        pending = await review_queue(reads, code, state="pending")
        decided = await review_queue(reads, code, state=None)
        context = {
            **page_context(request, principal),
            "code": code,
            "program": program,
            "categories": program.versions[-1].categories,
            "pending": pending,
            "decided": [r for r in decided.self_reports if r.state != "pending"][-20:][::-1],
            "names": decided.names,
            "state_words": STATE_WORDS,
            "errors": errors or {},
            "values": values or {},
        }
        status = 422 if errors else 200
        return Template("self_reports_queue.html", context=context, status_code=status)

    async def _decide(
        self, request: Request[Any, Any, Any], principal: Viewer, reads: Reads, code: str,
        report_id: UUID, decide: Any,
    ) -> Template | Redirect:  # fmt: skip
        values = form_values(await request.form()) | {"report_id": str(report_id)}
        try:
            seen = await seen_report(reads, principal, report_id)
            if seen is None or code not in seen[0].programs:
                raise NotFound("self-report", report_id)
            await decide(values)
        except WrongState:
            seen = await seen_report(reads, principal, report_id)
            assert seen is not None
            view = seen[1]
            flash(request, f"Nothing was recorded: this report was already {view.state}"
                           f" on {day(view.decided_at)}.")  # fmt: skip
            return Redirect(page_url(code), status_code=303)
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await self._queue_page(
                request, principal, reads, code, errors=found, values=values
            )
        return Redirect(page_url(code), status_code=303)

    @post("/{report_id:uuid}/accept", status_code=303)
    async def accept(
        self, request: Request[Any, Any, Any], code: FromPath[str], report_id: FromPath[UUID],
        principal: Viewer, reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        async def decide(values: dict[str, Any]) -> None:
            body = parse_form(values, AcceptSelfReport, {"ceus": "the CEUs to count"})
            await cmd.accept(ledger, ctx, report_id, body)
            flash(request, f"Accepted: {body.ceus} CEUs now count.")

        return await self._decide(request, principal, reads, code, report_id, decide)

    @post("/{report_id:uuid}/reject", status_code=303)
    async def reject(
        self, request: Request[Any, Any, Any], code: FromPath[str], report_id: FromPath[UUID],
        principal: Viewer, reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        async def decide(values: dict[str, Any]) -> None:
            body = parse_form(values, RejectSelfReport, {"reason": "the reason"})
            if values.get("confirm") != "yes":
                raise FormInvalid({"confirm": "Confirm the rejection: it cannot be undone"})
            await cmd.reject(ledger, ctx, report_id, body)
            flash(request, "Rejected. The manager sees your reason and may report again.")

        return await self._decide(request, principal, reads, code, report_id, decide)


class EvidencePages(Controller):
    """A report's file for the session: the manager's, its programs' auditors', admins'."""

    path = "/self-reports"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [reporter_association_or_admin]
    opt = {SESSION_GUARDED: True}

    @get("/{report_id:uuid}/evidence")
    async def evidence(
        self, report_id: FromPath[UUID], principal: Viewer, reads: ReadsDep,
        evidence: EvidenceDep,
    ) -> Response[bytes]:  # fmt: skip
        seen = await seen_report(reads, principal, report_id)
        if seen is None:
            raise OutOfScope("A report's file is its manager's, their association's and admins'.")
        view = seen[1]
        data = await evidence_file(evidence, view)
        return evidence_response(data, view.evidence.media_type, view.evidence.filename)
