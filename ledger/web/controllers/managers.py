"""A manager's page: where each credential stands, the transcript, the cycle history, and the
documents of each approved renewal (certificate PDF, signed credential, public verify link);
for the association, the fees it may refund."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ledger.access.policy import ManagerScope
from ledger.commands import claims, renewals
from ledger.commands.loaders import find_renewal
from ledger.commands.messages import FileClaim, FileRenewal
from ledger.documents.filters import day
from ledger.documents.pdfs import attendance_pdf as attendance_certificate
from ledger.documents.pdfs import certificate_pdf, transcript_pdf
from ledger.domain.errors import (
    AlreadyExists,
    AlreadyRecorded,
    DomainError,
    NotFound,
    RenewalNotReady,
    WrongState,
)
from ledger.http.authn import SESSION_GUARDED
from ledger.http.guards import (
    MANAGER_SCOPE_KEY,
    attendee_of_path_activity,
    claimant_of_path,
    manager_page_of_path,
    manager_themselves,
)
from ledger.http.injected import CredentialsDep, LedgerDep, ReadsDep, RequestContext
from ledger.http.responses import csv_response, pdf_response
from ledger.queries.claims import claims_of_manager
from ledger.queries.managers import associations, seen_by, standing_of
from ledger.queries.notices import notices_of
from ledger.queries.reads import Reads
from ledger.queries.self_reports import manager_reports, report_categories
from ledger.queries.views import TRANSCRIPT_COLUMNS
from ledger.queries.workshop_views import workshops_of
from ledger.queries.workshops import attendee_at
from ledger.web.forms import FormInvalid, errors_of, form_values, parse_form
from ledger.web.session import OutOfScope, Viewer, flash, page_context, viewer

__all__ = ["ManagerPages"]


async def _scope(
    request: Request[Any, Any, Any], reads: Reads, principal: Viewer, manager_id: str
) -> ManagerScope:
    """What the viewer sees of the manager (ledger/access/policy.py): all of it
    for the manager and an admin; an auditor, only the programs it audits that the manager
    holds; OutOfScope if nothing.  On the manager's own routes the `manager_page_of_path`
    guard has found it already; a program page showing a manager's page asks here."""
    found = request.scope.get("state", {}).get(MANAGER_SCOPE_KEY)
    if isinstance(found, ManagerScope) and request.path_params.get("manager_id") == manager_id:
        return found
    scope = await seen_by(reads, principal, manager_id, unknown_holds_nothing=True)
    if not scope.any:
        raise OutOfScope(detail="A manager's page is for that manager and the associations.")
    return scope


async def manager_page(
    request: Request[Any, Any, Any],
    principal: Viewer,
    reads: Reads,
    credentials: CredentialsDep,
    manager_id: str,
    *,
    refused: RenewalNotReady | None = None,
    refused_program: str | None = None,
    form_errors: dict[str, dict[str, str]] | None = None,
    form_values: dict[str, dict[str, str]] | None = None,
) -> Template:
    scope = await _scope(request, reads, principal, manager_id)
    status = await reads.status(manager_id, scope=scope)
    record = scope.record(await reads.record(manager_id))
    held = tuple(c.program for c in status.certifications)
    names = await associations(reads)
    cycles = {
        c.program: await reads.cycles(manager_id, c.program, scope=scope)
        for c in status.certifications
    }
    context = {
        **page_context(request, principal),
        "manager_id": manager_id,
        "name": record.name,
        "status": status,
        "standing": {code: standing_of(record, code, names.get(code, code)) for code in held},
        "credentials": await credentials.held(record, held),
        "fees": {
            code: [f for f in record.certifications[code].fees if f.fee_id is not None]
            for code in held
            if principal.audits(code) or principal.is_admin()
        },
        "transcript": await reads.transcript(manager_id, None, scope=scope),
        "cycles": cycles,
        "notices": (await notices_of(reads, manager_id, scope=scope)).notices,
        "workshops": await workshops_of(reads, record, scope, reads.today()),
        # Claims (SPEC 11): the API's list, and the form to file one (the manager, an admin).
        "claims": await claims_of_manager(reads, manager_id, scope=scope),
        "may_claim": principal.is_admin() or principal.is_manager(manager_id),
        "is_self": principal.is_manager(manager_id),
        "refused": refused,
        "refused_program": refused_program,
        "errors": form_errors or {},
        "values": form_values or {},
        # SPEC 12: the manager's self-reports and the form to report one
        "self_reports": await manager_reports(reads, manager_id, scope=scope),
        "report_categories": await report_categories(reads, held),
    }
    failed = refused is not None or bool(form_errors)
    return Template("manager.html", context=context, status_code=422 if failed else 200)


class ManagerPages(Controller):
    path = "/managers"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [manager_page_of_path]
    opt = {SESSION_GUARDED: True}

    @get("/{manager_id:str}")
    async def page(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer,
        reads: ReadsDep, credentials: CredentialsDep,
    ) -> Template:  # fmt: skip
        return await manager_page(request, principal, reads, credentials, manager_id)

    @get("/{manager_id:str}/transcript.csv")
    async def transcript_csv(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer,
        reads: ReadsDep,
    ) -> Response[str]:  # fmt: skip
        scope = await _scope(request, reads, principal, manager_id)
        lines = await reads.transcript(manager_id, None, scope=scope)
        return csv_response(TRANSCRIPT_COLUMNS, lines, f"transcript-{manager_id}.csv")

    @get("/{manager_id:str}/transcript.pdf")
    async def transcript_pdf(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer,
        reads: ReadsDep, credentials: CredentialsDep,
    ) -> Response[bytes]:  # fmt: skip
        """The API's transcript PDF (ledger/documents/pdfs.py), for the session."""
        scope = await _scope(request, reads, principal, manager_id)
        return pdf_response(
            *await transcript_pdf(
                reads, credentials, manager_id, None, as_of=None, known_at=None, scope=scope
            )
        )

    @get("/{manager_id:str}/renewals/{renewal_id:uuid}/certificate.pdf")
    async def certificate_pdf(
        self,
        request: Request[Any, Any, Any],
        manager_id: FromPath[str],
        renewal_id: FromPath[UUID],
        principal: Viewer,
        reads: ReadsDep,
        credentials: CredentialsDep,
    ) -> Response[bytes]:
        """The API's certificate PDF (GET /v1/renewals/{id}/certificate.pdf, its checks), for
        the session."""
        await _scope(request, reads, principal, manager_id)
        filed = await find_renewal(reads.store, renewal_id)
        if not (
            principal.is_admin() or principal.is_manager(filed.manager_id)
            or principal.audits(filed.program)
        ):  # fmt: skip
            raise OutOfScope("a certificate is its holder's, their association's and the admins'")
        return pdf_response(*await certificate_pdf(reads, credentials, filed))

    @get(
        "/{manager_id:str}/activities/{activity_id:str}/certificate.pdf",
        guards=[attendee_of_path_activity],
    )
    async def attendance_pdf(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str],
        activity_id: FromPath[str], principal: Viewer, reads: ReadsDep,
        credentials: CredentialsDep,
    ) -> Response[bytes]:  # fmt: skip
        """The API's certificate of attendance (GET /v1/activities/{id}/attendance/{manager_id}/
        certificate.pdf, its guard beside the page's), for the session."""
        await _scope(request, reads, principal, manager_id)
        view = await attendee_at(reads, activity_id, manager_id)
        return pdf_response(*await attendance_certificate(reads, credentials, view))

    @post("/{manager_id:str}/renewals", status_code=303, guards=[manager_themselves])
    async def file_renewal(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer,
        reads: ReadsDep, credentials: CredentialsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        program = str((await request.form()).get("program", ""))
        try:
            await renewals.file_renewal(ledger, ctx, manager_id, FileRenewal(program=program))
        except RenewalNotReady as refused:
            return await manager_page(
                request, principal, reads, credentials, manager_id, refused=refused,
                refused_program=program,
            )  # fmt: skip
        except WrongState:
            status = await reads.status(manager_id)
            held = next((c for c in status.certifications if c.program == program), None)
            if held is None or held.renewal is None:
                raise
            on = held.renewal.decided_at or held.renewal.filed_at
            flash(request, f"Nothing new was filed: your {program} renewal was already "
                           f"{held.renewal.state} on {day(on)}.")  # fmt: skip
            return Redirect(f"/managers/{manager_id}", status_code=303)
        flash(request, f"Your {program} renewal is filed. The association will decide on it.")
        return Redirect(f"/managers/{manager_id}", status_code=303)

    @post("/{manager_id:str}/claims", status_code=303, guards=[claimant_of_path])
    async def file_claim(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer,
        reads: ReadsDep, credentials: CredentialsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        """A claim, as POST /v1/managers/{id}/claims; the form again with what was typed and
        each mistake beside its field if refused."""
        values = form_values(await request.form())
        try:
            body = parse_form(values, FileClaim, CLAIM_LABELS)
            filed, _ = await claims.file_claim(ledger, ctx, manager_id, body)
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else _claim_errors(exc)
            return await manager_page(
                request, principal, reads, credentials, manager_id,
                form_errors={"claim": found}, form_values={"claim": values},
            )  # fmt: skip
        flash(request, f"Your claim for {filed.activity_id} is filed: {filed.provider_id} will"
              " post it or say why not.")  # fmt: skip
        return Redirect(f"/managers/{manager_id}#claims", status_code=303)


def _claim_errors(refused: DomainError) -> dict[str, str]:
    """A refused claim in the manager's words, beside the activity's field."""
    match refused:
        case NotFound(kind="activity"):
            return {"activity_id": "There is no activity with that id: check your certificate"}
        case AlreadyRecorded():
            return {"activity_id": "That activity is already posted: it is on your transcript"}
        case AlreadyExists():
            return {"activity_id": "You have an open claim for that activity already"}
    return errors_of(refused)


CLAIM_LABELS = {
    "activity_id": "the activity id",
    "completed_on": "the day you attended",
    "note": "a note",
}
