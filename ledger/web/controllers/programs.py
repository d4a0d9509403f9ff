"""An association's page for one program: the register, the due list, renewals to decide,
audits, standing (revoke, reinstate, extend) and the ledger's own check."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template
from msgspec import Meta

from ledger.api.openapi import csv_response
from ledger.api.schemas import AuditBody, DecisionBody, FindingBody, Reason
from ledger.csv_io import columns_of
from ledger.domain.errors import DomainError, NotFound
from ledger.web import data
from ledger.web.forms import FormInvalid, errors_of, form_values, parse_form
from ledger.web.session import OutOfScope, Viewer, context_of, flash, page_context, viewer
from projections.ceu_queries import RegisterRow

__all__ = ["ProgramPages"]


class RegisterFilter(msgspec.Struct, frozen=True, kw_only=True):
    state: Literal["filed", "approved", "denied"] | None = None
    cycle_ends_from: date | None = None
    cycle_ends_to: date | None = None


class StandingForm(msgspec.Struct, frozen=True, kw_only=True):
    action: Literal["revoke", "reinstate", "extend"]
    manager_id: Annotated[str, Meta(min_length=1, max_length=64)]
    reason: Reason
    ends_on: date | None = None


FILTER_LABELS = {
    "state": "a state",
    "cycle_ends_from": "the first cycle end",
    "cycle_ends_to": "the last cycle end",
}
AUDIT_LABELS = {
    "filed_from": "the first filing day",
    "filed_to": "the last filing day",
    "rate": "the rate",
    "seed": "the seed",
}
STANDING_LABELS = {
    "action": "what to do",
    "manager_id": "the manager id",
    "reason": "the reason",
    "ends_on": "the new deadline",
}


def _may_audit(principal: Viewer, code: str) -> None:
    """The register, the due list and audits are the association's (as in the API)."""
    if not principal.audits(code):
        raise OutOfScope(detail=f"This page is for the auditors of {code}.")


def _filters(
    request: Request[Any, Any, Any],
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    values = form_values(request.query_params)
    raw = {k: values.get(k, "") for k in FILTER_LABELS}
    try:
        parsed = parse_form(raw, RegisterFilter, FILTER_LABELS)
    except FormInvalid as exc:
        return {}, exc.errors, raw
    return msgspec.structs.asdict(parsed), {}, raw


async def program_page(
    request: Request[Any, Any, Any],
    principal: Viewer,
    code: str,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Template:
    state = request.app.state
    filters, filter_errors, filter_values = _filters(request)
    register = await data.renewal_register(state, code, **filters)
    everything = (
        register
        if not filters or not any(filters.values())
        else (await data.renewal_register(state, code))
    )
    counts = {s: sum(r.state == s for r in everything) for s in ("filed", "approved", "denied")}
    context = {
        **page_context(request, principal),
        "code": code,
        "register": register,
        "register_counts": counts,
        "register_total": len(everything),
        "filter_errors": filter_errors,
        "filter_values": filter_values,
        "csv_query": str(request.url.query or ""),
        "due": await data.due_list(state, code),
        "audits": await data.program_audits(state, code),
        "verification": await data.verify_ledger(state),
        "errors": errors or {},
        "values": values or {},
        "today": state.ledger.today(),
    }
    return Template("program.html", context=context, status_code=status_code)


class ProgramPages(Controller):
    path = "/programs/{code:str}"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}

    @get("/")
    async def page(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer
    ) -> Template:
        _may_audit(principal, code)
        return await program_page(request, principal, code)

    @get("/renewals.csv")
    async def register_csv(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer
    ) -> Response[str]:
        _may_audit(principal, code)
        filters, _errors, _ = _filters(request)
        rows = await data.renewal_register(request.app.state, code, **filters)
        return csv_response(columns_of(RegisterRow), rows, f"renewals-{code}.csv")

    @get("/renewals/{renewal_id:uuid}")
    async def renewal(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        renewal_id: FromPath[UUID],
        principal: Viewer,
    ) -> Template:
        _may_audit(principal, code)
        return await self._renewal_page(request, principal, code, renewal_id)

    async def _renewal_page(self, request: Request[Any, Any, Any], principal: Viewer,
                            code: str, renewal_id: UUID, *, errors: dict[str, str] | None = None,
                            values: dict[str, Any] | None = None,
                            status_code: int = 200) -> Template:  # fmt: skip
        state = request.app.state
        filed, row = await data.renewal_evidence(state, renewal_id)
        if filed.program != code:
            raise NotFound("renewal", renewal_id)
        transcript = {
            line.completion_id: line
            for line in await data.manager_transcript(state, filed.manager_id, code)
        }
        context = {
            **page_context(request, principal),
            "code": code,
            "filed": filed,
            "row": row,
            "lines": transcript,
            "errors": errors or {},
            "values": values or {},
        }
        return Template("renewal.html", context=context, status_code=status_code)

    @post("/renewals/{renewal_id:uuid}/decision", status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        renewal_id: FromPath[UUID],
        principal: Viewer,
    ) -> Template | Redirect:
        _may_audit(principal, code)
        values = form_values(await request.form())
        try:
            body = parse_form(values, DecisionBody, {"decision": "approve or deny"})
            if body.decision == "deny" and not body.reason:
                raise FormInvalid({"reason": "Enter the reason for the denial"})
            await data.decide_renewal(
                request.app.state,
                context_of(request, principal),
                renewal_id,
                approve=body.decision == "approve",
                reason=body.reason,
            )
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await self._renewal_page(
                request, principal, code, renewal_id, errors=found, values=values,
                status_code=422,
            )  # fmt: skip
        flash(request, f"Renewal {'approved' if body.decision == 'approve' else 'denied'}.")
        return Redirect(f"/programs/{code}/renewals/{renewal_id}", status_code=303)

    @post("/audits", status_code=303)
    async def draw(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer
    ) -> Template | Redirect:
        _may_audit(principal, code)
        values = form_values(await request.form())
        try:
            body = parse_form(values, AuditBody, AUDIT_LABELS)
            if body.filed_to < body.filed_from:
                raise FormInvalid({"filed_to": "The last filing day must not be before the first"})
            if body.rate is not None and not (body.rate.is_finite() and 0 < body.rate <= 1):
                raise FormInvalid({"rate": "Enter the rate as a fraction above 0, at most 1"})
            drawn = await data.draw_audit(
                request.app.state, context_of(request, principal), code,
                filed_from=body.filed_from, filed_to=body.filed_to, rate=body.rate,
                seed=body.seed,
            )  # fmt: skip
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await program_page(
                request, principal, code, errors={"audit": found}, values={"audit": values},
                status_code=422,
            )  # fmt: skip
        flash(request, f"Audit drawn: {len(drawn.selected)} of {len(drawn.population)} selected.")
        return Redirect(f"/programs/{code}/audits/{drawn.audit_id}", status_code=303)

    @get("/audits/{audit_id:uuid}")
    async def audit(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        audit_id: FromPath[UUID],
        principal: Viewer,
    ) -> Template:
        _may_audit(principal, code)
        return await self._audit_page(request, principal, code, audit_id)

    async def _audit_page(self, request: Request[Any, Any, Any], principal: Viewer, code: str,
                          audit_id: UUID, *, errors: dict[str, str] | None = None,
                          status_code: int = 200) -> Template:  # fmt: skip
        found = await data.audit(request.app.state, audit_id)
        if found is None or found.program != code:
            raise NotFound("audit", audit_id)
        context = {
            **page_context(request, principal),
            "code": code,
            "audit": found,
            "findings": {f.renewal_id: f for f in found.findings},
            "errors": errors or {},
        }
        return Template("audit.html", context=context, status_code=status_code)

    @post("/audits/{audit_id:uuid}/findings", status_code=303)
    async def finding(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        audit_id: FromPath[UUID],
        principal: Viewer,
    ) -> Template | Redirect:
        _may_audit(principal, code)
        values = form_values(await request.form())
        try:
            body = parse_form(values, FindingBody, {"outcome": "passed or failed"})
            await data.record_finding(
                request.app.state, context_of(request, principal), audit_id,
                renewal_id=body.renewal_id, passed=body.outcome == "passed", note=body.note,
            )  # fmt: skip
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await self._audit_page(
                request, principal, code, audit_id, errors=found, status_code=422
            )
        flash(request, f"Finding recorded: {body.outcome}.")
        return Redirect(f"/programs/{code}/audits/{audit_id}", status_code=303)

    @post("/standing", status_code=303)
    async def standing(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer
    ) -> Template | Redirect:
        _may_audit(principal, code)
        values = form_values(await request.form())
        state, ctx = request.app.state, context_of(request, principal)
        try:
            body = parse_form(values, StandingForm, STANDING_LABELS)
            match body.action:
                case "revoke":
                    await data.revoke(state, ctx, body.manager_id, code, body.reason)
                case "reinstate":
                    await data.reinstate(state, ctx, body.manager_id, code, body.reason)
                case "extend":
                    if body.ends_on is None:
                        raise FormInvalid({"ends_on": "Enter the new deadline, YYYY-MM-DD"})
                    await data.extend_deadline(
                        state, ctx, body.manager_id, code, body.ends_on, body.reason
                    )
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await program_page(
                request, principal, code, errors={"standing": found},
                values={"standing": values}, status_code=422,
            )  # fmt: skip
        done = {"revoke": "revoked", "reinstate": "reinstated", "extend": "extended"}[body.action]
        flash(request, f"{code} certification of {body.manager_id}: {done}.")
        return Redirect(f"/programs/{code}#standing", status_code=303)
