"""A manager's page: where each credential stands, the transcript, the cycle history."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ledger.api.controllers.documents import transcript_pdf
from ledger.api.controllers.records import TRANSCRIPT_COLUMNS
from ledger.api.openapi import csv_response
from ledger.domain.errors import RenewalNotReady
from ledger.web import data
from ledger.web.session import OutOfScope, Viewer, context_of, flash, page_context, viewer

__all__ = ["ManagerPages"]


def _may_read(principal: Viewer, manager_id: str) -> None:
    if not principal.may_read_manager(manager_id):
        raise OutOfScope(detail="A manager's page is for that manager and the associations.")


async def manager_page(
    request: Request[Any, Any, Any],
    principal: Viewer,
    manager_id: str,
    *,
    refused: RenewalNotReady | None = None,
    refused_program: str | None = None,
) -> Template:
    state = request.app.state
    status = await data.manager_status(state, manager_id)
    cycles = {
        c.program: await data.manager_cycles(state, manager_id, c.program)
        for c in status.certifications
    }
    context = {
        **page_context(request, principal),
        "manager_id": manager_id,
        "status": status,
        "transcript": await data.manager_transcript(state, manager_id),
        "cycles": cycles,
        "notices": (await data.manager_notices(state, manager_id)).notices,
        "is_self": principal.is_manager(manager_id),
        "refused": refused,
        "refused_program": refused_program,
    }
    return Template("manager.html", context=context, status_code=200 if refused is None else 422)


class ManagerPages(Controller):
    path = "/managers"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}

    @get("/{manager_id:str}")
    async def page(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer
    ) -> Template:
        _may_read(principal, manager_id)
        return await manager_page(request, principal, manager_id)

    @get("/{manager_id:str}/transcript.csv")
    async def transcript_csv(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer
    ) -> Response[str]:
        _may_read(principal, manager_id)
        lines = await data.manager_transcript(request.app.state, manager_id)
        return csv_response(TRANSCRIPT_COLUMNS, lines, f"transcript-{manager_id}.csv")

    @get("/{manager_id:str}/transcript.pdf")
    async def transcript_pdf(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer
    ) -> Response[bytes]:
        """The API's transcript PDF (ledger/api/controllers/documents.py), for the session."""
        _may_read(principal, manager_id)
        state = request.app.state
        base = state.credentials.public_url  # never the request's Host (SPEC 6)
        return await transcript_pdf(
            state.reads, state.credentials, base, manager_id, None, as_of=None, known_at=None
        )

    @post("/{manager_id:str}/renewals", status_code=303)
    async def file_renewal(
        self, request: Request[Any, Any, Any], manager_id: FromPath[str], principal: Viewer
    ) -> Template | Redirect:
        if not principal.is_manager(manager_id):
            raise OutOfScope(detail="Only the manager files their own renewal.")
        program = str((await request.form()).get("program", ""))
        try:
            await data.file_renewal(
                request.app.state, context_of(request, principal), manager_id, program
            )
        except RenewalNotReady as refused:
            return await manager_page(
                request, principal, manager_id, refused=refused, refused_program=program
            )
        flash(request, f"Your {program} renewal is filed. The association will decide on it.")
        return Redirect(f"/managers/{manager_id}", status_code=303)
