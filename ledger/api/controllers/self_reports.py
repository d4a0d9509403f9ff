"""Self-reports (SPEC 12): a manager reports credit with one file of evidence, an auditor of
one of its programs accepts or rejects it, and the file is served back to those who see the
report.  One controller for the resource, though its routes hang under three paths (the
manager's, the report's, the program's queue), so that all of its doors are read in one place.

Who: the report by the manager only; its list by whoever sees the manager (an auditor: the
reports naming one of its programs); the decision by an auditor of one of its programs; the
file by the manager, auditors of its programs and admins; the queue by auditors of the program.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS, problems
from ledger.api.strict import invalid
from ledger.commands import self_reports as cmd
from ledger.commands.messages import AcceptSelfReport, RejectSelfReport, ReportSelf, convert_form
from ledger.domain.errors import FieldError, Invalid
from ledger.http.guards import (
    auditor,
    auditor_of_path_program,
    deny_unless,
    manager_of_path,
    manager_themselves,
    reporter_association_or_admin,
)
from ledger.http.injected import (
    CurrentPrincipal,
    EvidenceDep,
    LedgerDep,
    ReadsDep,
    RequestContext,
    SeenDep,
)
from ledger.http.uploads import (
    UPLOAD_BODY_BYTES,
    evidence_response,
    is_multipart,
    read_upload,
    too_large,
)
from ledger.queries.self_reports import (
    QueueView,
    SelfReportView,
    evidence_file,
    manager_reports,
    review_queue,
    seen_report,
)

__all__ = ["SelfReportsController"]

FILE_RESPONSE = {
    200: ResponseSpec(
        data_container=bytes, media_type="application/octet-stream",
        description="the file, as an attachment of its sniffed type (PDF, PNG or JPEG)",
    )
}  # fmt: skip
STATES = ("pending", "accepted", "rejected")
_NO_FILE = {
    "key": "file",
    "message": "attach one file (field `file`): a PDF, PNG or JPEG",
    "source": "body",
}


def _fields(fields: dict[str, Any]) -> ReportSelf:
    """The form's fields as the message, strictly for what is not text (422 naming one)."""
    try:
        return convert_form(fields, ReportSelf)
    except msgspec.ValidationError as exc:
        raise invalid(exc) from exc


async def _decidable(
    reads: ReadsDep, principal: CurrentPrincipal, report_id: UUID
) -> tuple[str, tuple[str, ...]]:
    """An auditor decides a report naming one of its programs (the manager holds them all)."""
    reported = await cmd.find_self_report(reads.store, report_id)
    deny_unless(
        any(principal.audits(p) for p in reported.programs),
        f"only an auditor of {' or '.join(reported.programs)}",
    )
    return reported.manager_id, reported.programs


class SelfReportsController(Controller):
    path = "/v1"
    tags = ("self-reports",)

    @post(
        "/managers/{manager_id:str}/self-reports",
        operation_id="reportSelf",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[manager_themselves],
        request_max_body_size=UPLOAD_BODY_BYTES,
    )
    async def report(
        self,
        request: Request[Any, Any, Any],
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        evidence: EvidenceDep,
    ) -> SelfReportView:
        """Report credit no provider posts: multipart/form-data with `title`, `provider_name`,
        `completed_on`, `ceus`, `category`, `programs` (repeated, or separated by commas) and
        one `file` (a PDF, PNG or JPEG of at most 10 MB, its type read from its bytes).  It
        counts once an auditor accepts it."""
        if not is_multipart(request):
            raise HTTPException(status_code=415, detail="send the report as multipart/form-data")
        upload = await read_upload(request)
        message = _fields(upload.fields)
        if upload.data is None or upload.files != 1:
            raise ValidationException(detail="the request has invalid fields", extra=[_NO_FILE])
        if too_large(upload.data):
            raise HTTPException(status_code=413, detail="the file is larger than 10 MB")
        reported, result = await cmd.report(
            ledger, ctx, evidence, manager_id, message=message, data=upload.data,
            filename=upload.filename,
        )  # fmt: skip
        return SelfReportView.reported(reported, result)

    @get(
        "/managers/{manager_id:str}/self-reports",
        operation_id="listSelfReports",
        responses=READ_PROBLEMS,
        guards=[manager_of_path],
    )
    async def list_reports(
        self, manager_id: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep,
        seen: SeenDep,
    ) -> list[SelfReportView]:  # fmt: skip
        """The manager's reports, newest first, with their state (an auditor: those naming
        one of its programs)."""
        return await manager_reports(reads, manager_id, scope=seen)

    @post(
        "/self-reports/{report_id:uuid}/accept",
        operation_id="acceptSelfReport",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
        guards=[auditor],
    )
    async def accept(
        self, report_id: FromPath[UUID], data: JSONBody[AcceptSelfReport],
        principal: CurrentPrincipal, ctx: RequestContext, ledger: LedgerDep, reads: ReadsDep,
    ) -> SelfReportView:  # fmt: skip
        """Accept a pending report for at most its reported CEUs, in a category of its
        programs: it counts from now on (source `self`)."""
        manager_id, _ = await _decidable(reads, principal, report_id)
        result = await cmd.accept(ledger, ctx, report_id, data)
        return await self._now(reads, manager_id, report_id, result)

    @post(
        "/self-reports/{report_id:uuid}/reject",
        operation_id="rejectSelfReport",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
        guards=[auditor],
    )
    async def reject(
        self, report_id: FromPath[UUID], data: JSONBody[RejectSelfReport],
        principal: CurrentPrincipal, ctx: RequestContext, ledger: LedgerDep, reads: ReadsDep,
    ) -> SelfReportView:  # fmt: skip
        """Reject a pending report with a reason the manager sees; it never counts, and the
        manager may report again."""
        manager_id, _ = await _decidable(reads, principal, report_id)
        result = await cmd.reject(ledger, ctx, report_id, data)
        return await self._now(reads, manager_id, report_id, result)

    @staticmethod
    async def _now(
        reads: ReadsDep, manager_id: str, report_id: UUID, result: Any
    ) -> SelfReportView:
        record = await reads.record(manager_id)
        return SelfReportView.of(manager_id, record.self_reports[report_id], result)

    @get(
        "/self-reports/{report_id:uuid}/evidence",
        operation_id="getSelfReportEvidence",
        responses=problems(401, 403, 404, 503) | FILE_RESPONSE,
        guards=[reporter_association_or_admin],
    )
    async def evidence(
        self, report_id: FromPath[UUID], principal: CurrentPrincipal, reads: ReadsDep,
        evidence: EvidenceDep,
    ) -> Response[bytes]:  # fmt: skip
        """The report's file, as an attachment of the type sniffed from its bytes."""
        seen = await seen_report(reads, principal, report_id)
        deny_unless(
            seen is not None,
            "a self-report's evidence is its reporter's, their association's and the admins'",
        )
        assert seen is not None
        view = seen[1]
        data = await evidence_file(evidence, view)
        return evidence_response(data, view.evidence.media_type, view.evidence.filename)

    @get(
        "/programs/{code:str}/self-reports",
        operation_id="selfReportQueue",
        responses=READ_PROBLEMS,
        guards=[auditor_of_path_program],
    )
    async def queue(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: CurrentPrincipal,
        reads: ReadsDep,
    ) -> QueueView:  # fmt: skip
        """The program's review queue: the reports naming it, oldest first (`?state=pending`:
        those still to decide; `accepted`, `rejected`)."""
        state = request.query_params.get("state")  # `state` is a name Litestar keeps
        if state not in (None, *STATES):
            raise Invalid([FieldError("state", f"one of {', '.join(STATES)}")])
        return await review_queue(reads, code, state=state)
