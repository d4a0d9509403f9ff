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

from ledger.access.policy import ManagerScope, scope_of
from ledger.api.controllers.documents import RenewalDocumentsController, transcript_pdf
from ledger.api.controllers.records import TRANSCRIPT_COLUMNS
from ledger.api.openapi import csv_response
from ledger.documents.filters import day
from ledger.domain.errors import NotFound, RenewalNotReady, WrongState
from ledger.http.authn import SESSION_GUARDED
from ledger.http.guards import MANAGER_SCOPE_KEY, manager_page_of_path, manager_themselves
from ledger.web import data
from ledger.web.session import OutOfScope, Viewer, context_of, flash, page_context, viewer

__all__ = ["ManagerPages"]


async def _scope(
    request: Request[Any, Any, Any], principal: Viewer, manager_id: str
) -> ManagerScope:
    """What the viewer sees of the manager (ledger/access/policy.py): all of it
    for the manager and an admin; an auditor, only the programs it audits that the manager
    holds; OutOfScope if nothing.  On the manager's own routes the `manager_page_of_path`
    guard has found it already; a program page showing a manager's page asks here."""
    found = request.scope.get("state", {}).get(MANAGER_SCOPE_KEY)
    if isinstance(found, ManagerScope) and request.path_params.get("manager_id") == manager_id:
        return found
    held: tuple[str, ...] = ()
    if principal.role == "auditor":
        try:
            held = tuple((await data.manager_record(request.app.state, manager_id)).certifications)
        except NotFound:
            held = ()
    scope = scope_of(principal, manager_id, held)
    if not scope.any:
        raise OutOfScope(detail="A manager's page is for that manager and the associations.")
    return scope


async def manager_page(
    request: Request[Any, Any, Any],
    principal: Viewer,
    manager_id: str,
    *,
    refused: RenewalNotReady | None = None,
    refused_program: str | None = None,
    form_errors: dict[str, dict[str, str]] | None = None,
    form_values: dict[str, dict[str, str]] | None = None,
) -> Template:
    state = request.app.state
    scope = await _scope(request, principal, manager_id)
    status = await data.manager_status(state, manager_id, scope)
    record = scope.record(await data.manager_record(state, manager_id))
    held = tuple(c.program for c in status.certifications)
    names = await data.associations(state)
    cycles = {
        c.program: await data.manager_cycles(state, manager_id, c.program, scope)
        for c in status.certifications
    }
    context = {
        **page_context(request, principal),
        "manager_id": manager_id,
        "name": record.name,
        "status": status,
        "standing": {code: data.standing_of(record, code, names.get(code, code)) for code in held},
        "credentials": await data.credentials_of(state, record, held),
        "fees": {
            code: [f for f in record.certifications[code].fees if f.fee_id is not None]
            for code in held
            if principal.audits(code) or principal.is_admin()
        },
        "transcript": await data.manager_transcript(state, manager_id, scope=scope),
        "cycles": cycles,
        "notices": (await data.manager_notices(state, manager_id, scope)).notices,
        "is_self": principal.is_manager(manager_id),
        "refused": refused,
        "refused_program": refused_program,
        "errors": form_errors or {},
        "values": form_values or {},
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
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer
    ) -> Template:
        return await manager_page(request, principal, manager_id)

    @get("/{manager_id:str}/transcript.csv")
    async def transcript_csv(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer
    ) -> Response[str]:
        scope = await _scope(request, principal, manager_id)
        lines = await data.manager_transcript(request.app.state, manager_id, scope=scope)
        return csv_response(TRANSCRIPT_COLUMNS, lines, f"transcript-{manager_id}.csv")

    @get("/{manager_id:str}/transcript.pdf")
    async def transcript_pdf(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer
    ) -> Response[bytes]:
        """The API's transcript PDF (ledger/api/controllers/documents.py), for the session."""
        scope = await _scope(request, principal, manager_id)
        state = request.app.state
        return await transcript_pdf(
            state.reads,
            state.credentials,
            manager_id,
            None,
            as_of=None,
            known_at=None,
            scope=scope,
        )

    @get("/{manager_id:str}/renewals/{renewal_id:uuid}/certificate.pdf")
    async def certificate_pdf(
        self,
        request: Request[Any, Any, Any],
        manager_id: FromPath[str],
        renewal_id: FromPath[UUID],
        principal: Viewer,
    ) -> Response[bytes]:
        """The API's certificate PDF (GET /v1/renewals/{id}/certificate.pdf, its own checks),
        for the session."""
        await _scope(request, principal, manager_id)
        state = request.app.state
        certificate = RenewalDocumentsController.certificate.fn
        return await certificate(  # type: ignore[no-any-return]
            None, request, renewal_id, principal, state.reads, state.credentials
        )

    @post("/{manager_id:str}/renewals", status_code=303, guards=[manager_themselves])
    async def file_renewal(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer
    ) -> Template | Redirect:
        program = str((await request.form()).get("program", ""))
        try:
            await data.file_renewal(
                request.app.state, context_of(request, principal), manager_id, program
            )
        except RenewalNotReady as refused:
            return await manager_page(
                request, principal, manager_id, refused=refused, refused_program=program
            )
        except WrongState:
            status = await data.manager_status(request.app.state, manager_id)
            held = next((c for c in status.certifications if c.program == program), None)
            if held is None or held.renewal is None:
                raise
            on = held.renewal.decided_at or held.renewal.filed_at
            flash(request, f"Nothing new was filed: your {program} renewal was already "
                           f"{held.renewal.state} on {day(on)}.")  # fmt: skip
            return Redirect(f"/managers/{manager_id}", status_code=303)
        flash(request, f"Your {program} renewal is filed. The association will decide on it.")
        return Redirect(f"/managers/{manager_id}", status_code=303)
