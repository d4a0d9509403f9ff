"""Approvals on the pages (SPEC 12): a provider applies to a program and submits its
activities from its own page (the "Approvals" section of /providers/{id}); an association's
auditor approves or denies them on /programs/{code}/approvals.  The forms decode into the
API's own messages; a denial asks for confirmation; a form posted twice (a reload, a second
tab) says what had happened instead of what is wrong with a stale form."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ledger.commands import approvals as cmd
from ledger.commands.messages import (
    ApplyForApproval,
    ApproveActivity,
    ApproveProvider,
    DenyApproval,
    SubmitActivity,
)
from ledger.documents.filters import day
from ledger.domain.errors import DomainError
from ledger.http.authn import SESSION_GUARDED
from ledger.http.guards import auditor_of_path_program, provider_themselves
from ledger.http.injected import LedgerDep, ReadsDep, RequestContext
from ledger.queries import approvals as views
from ledger.queries.reads import Reads
from ledger.web.controllers.providers import provider_page
from ledger.web.forms import FormInvalid, errors_of, form_values, parse_form
from ledger.web.session import Viewer, flash, page_context, viewer

__all__ = ["ProgramApprovalPages", "ProviderApprovalPages"]

APPLY_LABELS = {"program": "the program", "contact_email": "the address for notices"}
SUBMIT_LABELS = {"program": "the program", "activity_id": "the activity"}
APPROVE_PROVIDER_LABELS = {
    "approval_number": "the approval number",
    "valid_until": "the day it lapses (YYYY-MM-DD)",
}
APPROVE_ACTIVITY_LABELS = {
    "index_number": "the index number",
    "ceus": "the CEUs approved",
    "category": "the category",
}


def _program(values: dict[str, Any]) -> str:
    program = str(values.pop("program", "")).strip()
    if not program:
        raise FormInvalid({"program": "Choose the program"})
    return program


class ProviderApprovalPages(Controller):
    """The provider's forms; its page is /providers/{id} (ledger/web/controllers/providers.py)."""

    path = "/providers/{provider_id:str}/approvals"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [provider_themselves]
    opt = {SESSION_GUARDED: True}

    async def _again(
        self, request: Request[Any, Any, Any], principal: Viewer, reads: Reads, ledger: Any,
        provider_id: str, key: str, exc: FormInvalid | DomainError, values: dict[str, Any],
    ) -> Template:  # fmt: skip
        found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
        return await provider_page(
            request, principal, reads, ledger, provider_id, errors={key: found},
            values={key: values}, status_code=422,
        )  # fmt: skip

    @post("/", status_code=303)
    async def apply(
        self, request: Request[Any, Any, Any], provider_id: FromPath[str], principal: Viewer,
        reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        """Apply to a program (or again, to renew): POST /v1/programs/{code}/provider-approvals."""
        values = form_values(await request.form())
        typed = dict(values)
        try:
            program = _program(values)
            body = parse_form(values, ApplyForApproval, APPLY_LABELS)
            await cmd.request_provider_approval(ledger, ctx, program, provider_id, body)
        except (FormInvalid, DomainError) as exc:
            return await self._again(request, principal, reads, ledger, provider_id, "apply",
                                     exc, typed)  # fmt: skip
        flash(request, f"Your application to {program} is sent; its auditors will decide.")
        return Redirect(f"/providers/{provider_id}#approvals", status_code=303)

    @post("/activities", status_code=303)
    async def submit(
        self, request: Request[Any, Any, Any], provider_id: FromPath[str], principal: Viewer,
        reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        """Submit an activity to a program: POST /v1/programs/{code}/activity-approvals."""
        values = form_values(await request.form())
        typed = dict(values)
        try:
            program = _program(values)
            body = parse_form(values, SubmitActivity, SUBMIT_LABELS)
            await cmd.request_activity_approval(ledger, ctx, program, provider_id, body)
        except (FormInvalid, DomainError) as exc:
            return await self._again(request, principal, reads, ledger, provider_id, "submit",
                                     exc, typed)  # fmt: skip
        flash(request, f"{body.activity_id} is submitted to {program} for approval.")
        return Redirect(f"/providers/{provider_id}#approvals", status_code=303)


async def approvals_page(
    request: Request[Any, Any, Any], principal: Viewer, reads: Reads, code: str, *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, Any]] | None = None, status_code: int = 200,
) -> Template:  # fmt: skip
    program = await reads.catalogue.program(code)
    providers = await views.provider_approvals(reads, code)
    activities = await views.activity_approvals(reads, code)
    context = {
        **page_context(request, principal),
        "code": code,
        "program": program,
        "category_options": [(c, c) for c in program.versions[-1].categories],
        "pending_providers": [p for p in providers if p.state == "pending"],
        "decided_providers": [p for p in providers if p.state != "pending"],
        "pending_activities": [a for a in activities if a.state == "pending"],
        "decided_activities": [a for a in activities if a.state != "pending"],
        "errors": errors or {},
        "values": values or {},
        "today": reads.today(),
    }
    return Template("approvals.html", context=context, status_code=status_code)


def _confirmed(values: dict[str, Any]) -> None:
    if values.pop("confirm", "") != "yes":
        raise FormInvalid({"confirm": "Tick the box to confirm the denial: it cannot be undone"})


class ProgramApprovalPages(Controller):
    """The association's page of approvals: what waits for a decision, and what was decided."""

    path = "/programs/{code:str}/approvals"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [auditor_of_path_program]
    opt = {SESSION_GUARDED: True}

    @get("/")
    async def page(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        reads: ReadsDep,
    ) -> Template:  # fmt: skip
        return await approvals_page(request, principal, reads, code)

    async def _decide(
        self, request: Request[Any, Any, Any], principal: Viewer, reads: Reads, code: str,
        key: str, what: str, decide: Any,
    ) -> Template | Redirect:  # fmt: skip
        """Decode the form and decide; the page again with the errors beside the form, or
        (nothing pending any more: posted twice) what had happened."""
        values = form_values(await request.form())
        typed = dict(values)
        try:
            done = await decide(values)
        except (FormInvalid, DomainError) as exc:
            if (already := await _already(reads, code, key)) is not None:
                flash(request, already)
                return Redirect(f"/programs/{code}/approvals", status_code=303)
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await approvals_page(request, principal, reads, code, errors={key: found},
                                        values={key: typed}, status_code=422)  # fmt: skip
        flash(request, f"{what} {done}.")
        return Redirect(f"/programs/{code}/approvals", status_code=303)

    @post("/providers/{provider_id:str}/approve", status_code=303)
    async def approve_provider(
        self, request: Request[Any, Any, Any], code: FromPath[str], provider_id: FromPath[str],
        principal: Viewer, reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        async def decide(values: dict[str, Any]) -> str:
            body = parse_form(values, ApproveProvider, APPROVE_PROVIDER_LABELS)
            await cmd.approve_provider(ledger, ctx, code, provider_id, body)
            return f"is approved ({body.approval_number}); it lapses on {day(body.valid_until)}"

        return await self._decide(request, principal, reads, code, f"provider-{provider_id}",
                                  provider_id, decide)  # fmt: skip

    @post("/providers/{provider_id:str}/deny", status_code=303)
    async def deny_provider(
        self, request: Request[Any, Any, Any], code: FromPath[str], provider_id: FromPath[str],
        principal: Viewer, reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        async def decide(values: dict[str, Any]) -> str:
            body = _denial(values)
            await cmd.deny_provider(ledger, ctx, code, provider_id, body)
            return "is denied"

        return await self._decide(request, principal, reads, code, f"provider-{provider_id}",
                                  provider_id, decide)  # fmt: skip

    @post("/activities/{activity_id:str}/approve", status_code=303)
    async def approve_activity(
        self, request: Request[Any, Any, Any], code: FromPath[str], activity_id: FromPath[str],
        principal: Viewer, reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        async def decide(values: dict[str, Any]) -> str:
            body = parse_form(values, ApproveActivity, APPROVE_ACTIVITY_LABELS)
            await cmd.approve_activity(ledger, ctx, code, activity_id, body)
            return f"is approved ({body.index_number})"

        return await self._decide(request, principal, reads, code, f"activity-{activity_id}",
                                  activity_id, decide)  # fmt: skip

    @post("/activities/{activity_id:str}/deny", status_code=303)
    async def deny_activity(
        self, request: Request[Any, Any, Any], code: FromPath[str], activity_id: FromPath[str],
        principal: Viewer, reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        async def decide(values: dict[str, Any]) -> str:
            body = _denial(values)
            await cmd.deny_activity(ledger, ctx, code, activity_id, body)
            return "is denied"

        return await self._decide(request, principal, reads, code, f"activity-{activity_id}",
                                  activity_id, decide)  # fmt: skip


def _denial(values: dict[str, Any]) -> DenyApproval:
    errors: dict[str, str] = {}
    try:
        _confirmed(values)
    except FormInvalid as exc:
        errors |= exc.errors
    try:
        body = parse_form(values, DenyApproval, {"reason": "the reason for the denial"})
    except FormInvalid as exc:
        errors |= exc.errors
    if errors:
        raise FormInvalid(errors)
    return body


async def _already(reads: Reads, code: str, key: str) -> str | None:
    """What happened to an application no longer pending (the form was posted twice), or
    None if it is still pending (or was never there)."""
    kind, _, ident = key.partition("-")
    latest: views.ProviderApprovalView | views.ActivityApprovalView | None
    if kind == "provider":
        found = await views.provider_approvals(reads, code)
        latest = next((p for p in found if p.provider_id == ident), None)
    else:
        found_activities = await views.activity_approvals(reads, code)
        latest = next((a for a in found_activities if a.activity_id == ident), None)
    if latest is None or latest.state == "pending" or latest.decided_at is None:
        return None
    return (
        f"{ident} was already {latest.state} on {day(latest.decided_at)}, perhaps from another"
        " tab: nothing more was recorded."
    )
