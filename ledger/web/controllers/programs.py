"""An association's page for one program: the register, the due list, renewals to decide,
audits, standing (revoke, reinstate, extend), enrolment, certification, fees and refunds, and
the ledger's own check: every action the API offers an auditor (SPEC section 9).

Amounts are typed as people write them: money in dollars ("75" or "75.00", never cents), the
audit rate as a percentage ("10" is 10%).  An irreversible action (revoke, deny, a failed
finding) needs its "I confirm" box ticked (no script: the pages' CSP forbids inline code); a
form posted twice says what had already happened instead of a bare refusal."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template
from msgspec import Meta

from ledger.commands import Ledger, audits, managers, renewals
from ledger.commands import standing as standings
from ledger.commands.loaders import find_fee
from ledger.commands.messages import (
    ChangeStanding,
    DecideRenewal,
    DrawAudit,
    EnrollManager,
    ExtendDeadline,
    GrantCertification,
    PayFee,
    RecordFinding,
    RefundFee,
)
from ledger.csv_io import columns_of
from ledger.documents.filters import age_in_words, day, money, percent
from ledger.domain.errors import DomainError, NotFound, WrongState
from ledger.domain.values import MAX_SEED, Reason, Text
from ledger.http.authn import SESSION_GUARDED
from ledger.http.guards import auditor_of_path_program
from ledger.http.injected import CredentialsDep, LedgerDep, ReadsDep, RequestContext
from ledger.http.responses import csv_response
from ledger.queries import claims as claims_reads
from ledger.queries import program_page as program_reads
from ledger.queries.approvals import renewal_sources
from ledger.queries.managers import associations, standing_of
from ledger.queries.programs import manager_names, renewal_evidence, renewal_register
from ledger.queries.reads import Reads
from ledger.queries.self_reports import renewal_lines
from ledger.queries.views import AuditView
from ledger.web.controllers.managers import manager_page
from ledger.web.forms import FormInvalid, errors_of, form_values, parse_form
from ledger.web.session import Viewer, flash, page_context, viewer
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


class AuditForm(msgspec.Struct, frozen=True, kw_only=True):
    filed_from: date
    filed_to: date
    rate: str | None = None
    """A percentage as typed ("10" is 10%); the program's rate if empty."""
    seed: Annotated[int, Meta(ge=0, le=MAX_SEED)] | None = None


class GrantForm(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: Annotated[str, Meta(min_length=1, max_length=64)]
    certified_on: date


class FeeForm(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: Annotated[str, Meta(min_length=1, max_length=64)]
    amount: str
    reference: Text


class RefundForm(msgspec.Struct, frozen=True, kw_only=True):
    amount: str
    reason: Reason


_DOLLARS = re.compile(r"^\$?\s*([0-9]{1,3}(?:,?[0-9]{3})*|[0-9]+)(?:\.([0-9]{1,2}))?$")
_PERCENT = re.compile(r"^([0-9]{1,3})(?:\.([0-9]{1,4}))?\s*%?$")


def cents_of(typed: str, field: str, label: str) -> int:
    """ "75", "$75.00", "1,250.5" -> cents; anything else is a FormInvalid naming `field`."""
    found = _DOLLARS.match(typed.strip())
    if found is None:
        raise FormInvalid(
            {field: f"Enter {label} in dollars with a dot for cents, for example 75.00"}
        )
    cents = int(found.group(1).replace(",", "")) * 100 + int((found.group(2) or "0").ljust(2, "0"))
    if not 0 < cents <= 10_000_000:
        raise FormInvalid({field: f"Enter {label} between $0.01 and $100,000.00"})
    return cents


def rate_of(typed: str | None) -> Decimal | None:
    """A percentage as typed ("10", "12.5", "10%") -> the fraction the API takes (0.1)."""
    if typed is None:
        return None
    found = _PERCENT.match(typed.strip())
    if found is None:
        raise FormInvalid(
            {"rate": "Enter the rate as a percentage with a dot for decimals, for example 10"}
        )
    shown = Decimal(found.group(1) + "." + (found.group(2) or "0"))
    if not 0 < shown <= 100:
        raise FormInvalid({"rate": "Enter the rate as a percentage above 0, at most 100"})
    return shown / 100


def _confirmed(values: dict[str, Any], what: str) -> None:
    """An irreversible action's "I confirm" box must be ticked."""
    if values.get("confirm") != "yes":
        raise FormInvalid({"confirm": f"Tick the box to confirm that you want to {what}"})


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
ENROL_LABELS = {"manager_id": "the manager id", "name": "the name", "email": "the email address"}
GRANT_LABELS = {"manager_id": "the manager id", "certified_on": "the day of certification"}
FEE_LABELS = {"manager_id": "the manager id", "amount": "the amount", "reference": "a reference"}
REFUND_LABELS = {"amount": "the amount", "reason": "the reason"}
STANDING_LABELS = {
    "action": "what to do",
    "manager_id": "the manager id",
    "reason": "the reason",
    "ends_on": "the new deadline",
}


async def _decided(reads: Reads, code: str, renewal_id: UUID) -> str | None:
    """What a decision posted twice finds: when and by whom the renewal was decided; None if
    it is still to decide."""
    _, row = await renewal_evidence(reads, renewal_id)
    if row is None or row.decided_at is None:
        return None
    by = (await associations(reads)).get(code, code)
    return (
        f"Nothing was recorded: this renewal was already {row.state} on {day(row.decided_at)} "
        f"by {by}."
    )


async def _revoked(reads: Reads, manager_id: str, code: str) -> str | None:
    """What a revocation posted twice (a reload, a second tab) finds: when and by whom the
    certification was revoked; None if it is not revoked after all."""
    record = await reads.record(manager_id)
    names = await associations(reads)
    held = standing_of(record, code, names.get(code, code))
    if held is None:
        return None
    return (
        f"Nothing was recorded: the {code} certification of {record.name} was already revoked "
        f"on {day(held.at)} by {held.association}."
    )


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


def _page_number(request: Request[Any, Any, Any], name: str) -> int:
    """`?register_page=2`: a page number as typed; anything else is the first page."""
    typed = request.query_params.get(name, "")
    return int(typed) if typed.isdigit() and 0 < len(typed) < 7 else 1


def _page_link(request: Request[Any, Any, Any], name: str, page: int, anchor: str) -> str:
    """This page's address with `name` set to `page` (the other parameters kept)."""
    params = {k: v for k, v in form_values(request.query_params).items() if k != name}
    if page > 1:
        params[name] = str(page)
    query = urlencode(params)
    return f"{request.url.path}{'?' + query if query else ''}#{anchor}"


async def program_page(
    request: Request[Any, Any, Any],
    principal: Viewer,
    reads: Reads,
    ledger: Ledger,
    code: str,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Template:
    filters, filter_errors, filter_values = _filters(request)
    register = await program_reads.register_page(
        reads, code, page=_page_number(request, "register_page"), **filters
    )
    due = await program_reads.due_page(reads, code, page=_page_number(request, "due_page"))
    verification = await program_reads.verification(reads)
    links = {
        f"{what}_{way}": _page_link(request, f"{what}_page", shown.page + step, what)
        for what, shown in (("register", register), ("due", due))
        for way, step in (("previous", -1), ("next", 1))
    }
    context = {
        **page_context(request, principal),
        "code": code,
        "register": register.rows,
        "register_page": register,
        "names": register.names,
        "register_counts": register.counts,
        "register_total": register.total,
        "filter_errors": filter_errors,
        "filter_values": filter_values,
        "csv_query": str(request.url.query or ""),
        "due": due.lines,
        "due_page": due,
        "page_links": links,
        "audits": await reads.audits(code),
        "verification": verification,
        "verification_age": age_in_words(verification.checked_at, datetime.now(UTC)),
        "errors": errors or {},
        "values": values or {},
        "today": ledger.today(),
        "program": await reads.program(code),
        # Claims (SPEC 11): as GET /v1/programs/{code}/claims and /providers answer.
        "overdue_claims": await claims_reads.overdue_of_program(reads, code),
        "timeliness": await claims_reads.timeliness(reads, code),
    }
    return Template("program.html", context=context, status_code=status_code)


class ProgramPages(Controller):
    path = "/programs/{code:str}"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [auditor_of_path_program]  # the association's pages (as in the API)
    opt = {SESSION_GUARDED: True}

    @get("/")
    async def page(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        reads: ReadsDep, ledger: LedgerDep,
    ) -> Template:  # fmt: skip
        return await program_page(request, principal, reads, ledger, code)

    @get("/renewals.csv")
    async def register_csv(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        reads: ReadsDep,
    ) -> Response[str]:  # fmt: skip
        filters, _errors, _ = _filters(request)
        rows = await renewal_register(reads, code, **filters)
        return csv_response(columns_of(RegisterRow), rows, f"renewals-{code}.csv")

    @get("/renewals/{renewal_id:uuid}")
    async def renewal(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        renewal_id: FromPath[UUID],
        principal: Viewer,
        reads: ReadsDep,
    ) -> Template:
        return await self._renewal_page(request, principal, reads, code, renewal_id)

    async def _renewal_page(self, request: Request[Any, Any, Any], principal: Viewer,
                            reads: Reads, code: str, renewal_id: UUID, *,
                            errors: dict[str, str] | None = None,
                            values: dict[str, Any] | None = None,
                            status_code: int = 200) -> Template:  # fmt: skip
        filed, row = await renewal_evidence(reads, renewal_id)
        if filed.program != code:
            raise NotFound("renewal", renewal_id)
        transcript = {
            line.completion_id: line for line in await reads.transcript(filed.manager_id, code)
        }
        context = {
            **page_context(request, principal),
            "code": code,
            "filed": filed,
            "name": (await reads.record(filed.manager_id)).name,
            "row": row,
            "lines": transcript,
            "counted": {
                c.completion_id: c for c in (await renewal_lines(reads, renewal_id)).completions
            },  # SPEC 12: a self-report with its file
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
        reads: ReadsDep,
        ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template | Redirect:
        values = form_values(await request.form())
        try:
            body = parse_form(values, DecideRenewal, {"decision": "approve or deny"})
            if body.decision == "deny" and not body.reason:
                raise FormInvalid({"reason": "Enter the reason for the denial"})
            if body.decision == "deny":
                _confirmed(values, "deny this renewal")
            await renewals.decide_renewal(ledger, ctx, renewal_id, body)
        except (FormInvalid, DomainError) as exc:
            # Posted twice (a reload, a stale second tab, its "I confirm" ticked or not): say
            # what had happened, and by whom, rather than what is wrong with a stale form.
            if (done := await _decided(reads, code, renewal_id)) is not None:
                flash(request, done)
                return Redirect(f"/programs/{code}/renewals/{renewal_id}", status_code=303)
            if isinstance(exc, WrongState):
                raise
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await self._renewal_page(
                request, principal, reads, code, renewal_id, errors=found, values=values,
                status_code=422,
            )  # fmt: skip
        flash(request, f"Renewal {'approved' if body.decision == 'approve' else 'denied'}.")
        return Redirect(f"/programs/{code}/renewals/{renewal_id}", status_code=303)

    @post("/audits", status_code=303)
    async def draw(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        values = form_values(await request.form())
        try:
            body = parse_form(values, AuditForm, AUDIT_LABELS)
            if body.filed_to < body.filed_from:
                raise FormInvalid({"filed_to": "The last filing day must not be before the first"})
            rate = rate_of(body.rate)
            await reads.program(code)
            drawn = AuditView.of(
                await audits.draw_audit(
                    ledger, ctx, code,
                    DrawAudit(
                        filed_from=body.filed_from, filed_to=body.filed_to, rate=rate,
                        seed=body.seed,
                    ),
                    population=await reads.audit_population(code, body.filed_from, body.filed_to),
                )
            )  # fmt: skip
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await program_page(
                request, principal, reads, ledger, code, errors={"audit": found},
                values={"audit": values}, status_code=422,
            )  # fmt: skip
        flash(
            request,
            f"Audit drawn at {percent(drawn.rate)}: {len(drawn.selected)} of "
            f"{len(drawn.population)} renewals selected.",
        )
        return Redirect(f"/programs/{code}/audits/{drawn.audit_id}", status_code=303)

    @get("/audits/{audit_id:uuid}")
    async def audit(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        audit_id: FromPath[UUID],
        principal: Viewer,
        reads: ReadsDep,
    ) -> Template:
        return await self._audit_page(request, principal, reads, code, audit_id)

    async def _audit_page(self, request: Request[Any, Any, Any], principal: Viewer,
                          reads: Reads, code: str, audit_id: UUID, *,
                          errors: dict[str, str] | None = None,
                          values: dict[str, Any] | None = None,
                          status_code: int = 200) -> Template:  # fmt: skip
        try:
            found: AuditView | None = await reads.audit(audit_id)
        except NotFound:
            found = None
        if found is None or found.program != code:
            raise NotFound("audit", audit_id)
        context = {
            **page_context(request, principal),
            "code": code,
            "audit": found,
            "findings": {f.renewal_id: f for f in found.findings},
            "names": await manager_names(reads, code),
            "holders": {
                str(r.renewal_id): r.manager_id
                for r in await renewal_register(reads, code)
                if r.renewal_id in found.selected
            },
            "selected_ids": [str(rid) for rid in found.selected],
            # SPEC 12: each selected renewal's counted completions, a self-report's with its file
            "counted": {str(rid): await renewal_lines(reads, rid) for rid in found.selected},
            "sources": await renewal_sources(reads, found.selected),
            "errors": errors or {},
            "values": values or {},
        }
        return Template("audit.html", context=context, status_code=status_code)

    @post("/audits/{audit_id:uuid}/findings", status_code=303)
    async def finding(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        audit_id: FromPath[UUID],
        principal: Viewer,
        reads: ReadsDep,
        ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template | Redirect:
        values = form_values(await request.form())
        try:
            body = parse_form(values, RecordFinding, {"outcome": "passed or failed"})
            if body.outcome == "failed":
                _confirmed(values, "record a failed finding, which revokes the certification")
            await audits.record_finding(ledger, ctx, audit_id, body)
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await self._audit_page(
                request, principal, reads, code, audit_id, errors=found, values=values,
                status_code=422,
            )  # fmt: skip
        flash(request, f"Finding recorded: {body.outcome}.")
        return Redirect(f"/programs/{code}/audits/{audit_id}", status_code=303)

    @post("/standing", status_code=303)
    async def standing(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        values = form_values(await request.form())
        try:
            body = parse_form(values, StandingForm, STANDING_LABELS)
            change = ChangeStanding(reason=body.reason)
            match body.action:
                case "revoke":
                    _confirmed(values, "revoke this certification")
                    try:
                        await standings.revoke(ledger, ctx, body.manager_id, code, change)
                    except WrongState:
                        if (done := await _revoked(reads, body.manager_id, code)) is None:
                            raise
                        flash(request, done)
                        return Redirect(f"/programs/{code}#standing", status_code=303)
                case "reinstate":
                    await standings.reinstate(ledger, ctx, body.manager_id, code, change)
                case "extend":
                    if body.ends_on is None:
                        raise FormInvalid({"ends_on": "Enter the new deadline, YYYY-MM-DD"})
                    more = ExtendDeadline(ends_on=body.ends_on, reason=body.reason)
                    await standings.extend_deadline(ledger, ctx, body.manager_id, code, more)
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await program_page(
                request, principal, reads, ledger, code, errors={"standing": found},
                values={"standing": values}, status_code=422,
            )  # fmt: skip
        done = {
            "revoke": "revoked",
            "reinstate": "reinstated",
            "extend": f"deadline moved to {day(body.ends_on)}",
        }[body.action]
        flash(request, f"{code} certification of {body.manager_id}: {done}.")
        return Redirect(f"/programs/{code}#standing", status_code=303)

    async def _act(
        self, request: Request[Any, Any, Any], principal: Viewer, reads: Reads, ledger: Ledger,
        code: str, form: str, values: dict[str, Any], exc: FormInvalid | DomainError,
    ) -> Template:  # fmt: skip
        """The program page again, with `form`'s mistakes beside its fields and what was typed."""
        found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
        return await program_page(
            request, principal, reads, ledger, code, errors={form: found}, values={form: values},
            status_code=422,
        )  # fmt: skip

    @post("/managers", status_code=303)
    async def enrol(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        """Enrol a manager and certify them in this program (POST /v1/managers, then
        POST /v1/managers/{id}/certifications when a day is given)."""
        values = form_values(await request.form())
        try:
            body = parse_form(values, EnrollManager, ENROL_LABELS)
            await managers.enroll_manager(ledger, ctx, body)
        except (FormInvalid, DomainError) as exc:
            return await self._act(request, principal, reads, ledger, code, "enrol", values, exc)
        flash(request, f"{body.name} is enrolled as {body.manager_id}. Grant {code} below.")
        return Redirect(f"/programs/{code}#certify", status_code=303)

    @post("/certifications", status_code=303)
    async def certify(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        """POST /v1/managers/{manager_id}/certifications for this program."""
        values = form_values(await request.form())
        try:
            body = parse_form(values, GrantForm, GRANT_LABELS)
            grant = GrantCertification(program=code, certified_on=body.certified_on)
            await managers.grant_certification(ledger, ctx, body.manager_id, grant)
        except (FormInvalid, DomainError) as exc:
            return await self._act(request, principal, reads, ledger, code, "certify", values, exc)
        flash(request, f"{code} granted to {body.manager_id} from {day(body.certified_on)}.")
        return Redirect(f"/managers/{body.manager_id}", status_code=303)

    @post("/fees", status_code=303)
    async def fee(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        """POST /v1/managers/{manager_id}/fees for this program, the amount in dollars."""
        values = form_values(await request.form())
        try:
            body = parse_form(values, FeeForm, FEE_LABELS)
            cents = cents_of(body.amount, "amount", "the amount")
            await renewals.pay_fee(
                ledger, ctx, body.manager_id,
                PayFee(program=code, amount_cents=cents, reference=body.reference),
            )  # fmt: skip
        except (FormInvalid, DomainError) as exc:
            return await self._act(request, principal, reads, ledger, code, "fee", values, exc)
        flash(request, f"{money(cents)} {code} fee of {body.manager_id} recorded.")
        return Redirect(f"/programs/{code}#fee", status_code=303)

    @post("/fees/{fee_id:uuid}/refund", status_code=303)
    async def refund(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        fee_id: FromPath[UUID],
        principal: Viewer,
        reads: ReadsDep,
        credentials: CredentialsDep,
        ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template | Redirect:
        """POST /v1/fees/{fee_id}/refund, from the manager's page (where the fees are)."""
        paid = await find_fee(ledger.store, fee_id)
        if paid.program != code:
            raise NotFound("fee", fee_id)
        values = form_values(await request.form())
        try:
            body = parse_form(values, RefundForm, REFUND_LABELS)
            cents = cents_of(body.amount, "amount", "the amount")
            await renewals.refund_fee(
                ledger, ctx, fee_id, RefundFee(amount_cents=cents, reason=body.reason)
            )
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await manager_page(
                request, principal, reads, credentials, paid.manager_id,
                form_errors={str(fee_id): found},
                form_values={str(fee_id): values},
            )  # fmt: skip
        flash(request, f"{money(cents)} of the {code} fee refunded.")
        return Redirect(f"/managers/{paid.manager_id}#fees", status_code=303)
