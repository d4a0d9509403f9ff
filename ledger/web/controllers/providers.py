"""A provider's page: its activities, a roster upload with a result per line, its postings.

A roster is read as a spreadsheet writes it (`External ID`, any case, a byte order mark), and
a roster the API would refuse as a whole (over 1,000 lines, a header it cannot read) is
answered on the same page, beside the upload form.  A void cannot be undone, so its form has
a box to tick."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.exceptions import ClientException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from events.catalog import CompletionRecorded
from ledger.commands import Context, Ledger, catalogue, claims, completions
from ledger.commands.loaders import find_completion
from ledger.commands.messages import (
    AmendCompletion,
    DisputeClaim,
    PostCompletion,
    RegisterActivity,
    VoidCompletion,
)
from ledger.commands.rosters import record_completions
from ledger.csv_io import CSV_HEADER, RosterFormatError, csv_text
from ledger.documents.filters import day
from ledger.domain.errors import DomainError, Invalid, NotAllowed, WrongState
from ledger.domain.values import MAX_BATCH
from ledger.http.authn import SESSION_GUARDED
from ledger.http.guards import provider_of_path, provider_themselves
from ledger.http.injected import LedgerDep, ReadsDep, RequestContext
from ledger.http.rosters import batch_result, read_batch, spreadsheet_header
from ledger.queries.approvals import provider_section
from ledger.queries.claims import claims_of_provider
from ledger.queries.reads import Reads
from ledger.queries.views import BatchResult
from ledger.web.forms import FormInvalid, errors_of, form_values, parse_form
from ledger.web.session import OutOfScope, Viewer, flash, page_context, viewer

__all__ = ["ProviderPages"]

ACTIVITY_LABELS = {
    "activity_id": "an activity id",
    "title": "a title",
    "format": "the format",
    "ceus": "the CEUs",
    "category": "the category",
    "programs": "the programs",
    "starts_on": "the first day",
    "ends_on": "the last day",
}

COMPLETION_LABELS = {
    "external_id": "your reference for this completion",
    "manager_id": "the manager id",
    "activity_id": "the activity",
    "completed_on": "the day it was completed",
    "ceus": "the CEUs",
}


def _reason(error: dict[str, Any] | None) -> str:
    if not error:
        return ""
    if errors := error.get("errors"):
        return "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors)
    return str(error.get("detail", ""))


def result_csv(result: BatchResult) -> str:
    """The roster's result, one line per roster line, to download."""
    rows = (
        {
            "line": n,
            "external_id": r.external_id,
            "status": r.status,
            "completion_id": r.id,
            "reason": _reason(r.error),
        }
        for n, r in enumerate(result.results, start=2)
    )
    return csv_text(("line", "external_id", "status", "completion_id", "reason"), rows)


async def provider_page(
    request: Request[Any, Any, Any],
    principal: Viewer,
    reads: Reads,
    ledger: Ledger,
    provider_id: str,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, Any]] | None = None,
    roster: BatchResult | None = None,
    status_code: int = 200,
) -> Template:
    activities = [a for a in await reads.activities() if a.provider_id == provider_id]
    manager_id = request.query_params.get("manager_id", "").strip() or None
    result_href = None
    if roster is not None:
        encoded = base64.b64encode(result_csv(roster).encode()).decode()
        result_href = f"data:text/csv;base64,{encoded}"
    context = {
        **page_context(request, principal),
        "provider_id": provider_id,
        "activities": activities,
        "activity_options": [(a.activity_id, f"{a.title} ({a.ceus} CEUs)") for a in activities],
        # Newest first on the page; the API's page is in log order.
        "postings": (
            await reads.postings(provider_id, manager_id=manager_id, after=0, limit=500)
        ).completions[::-1],
        "manager_filter": manager_id or "",
        "errors": errors or {},
        "values": values or {},
        "roster": roster,
        "roster_reasons": [_reason(r.error) for r in roster.results] if roster else [],
        "result_href": result_href,
        "csv_header": ",".join(CSV_HEADER),
        "today": ledger.today(),
        # Claims (SPEC 11): the open ones, as GET /v1/providers/{id}/claims lists them.
        "claims": await claims_of_provider(reads, provider_id),
        # Approvals (SPEC 12): ledger/web/controllers/approvals.py, provider_approvals.html
        **await provider_section(reads, provider_id),
    }
    return Template("provider.html", context=context, status_code=status_code)


class ProviderPages(Controller):
    path = "/providers/{provider_id:str}"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [provider_of_path]
    opt = {SESSION_GUARDED: True}

    @get("/")
    async def page(
        self, request: Request[Any, Any, Any], provider_id: FromPath[str], principal: Viewer,
        reads: ReadsDep, ledger: LedgerDep,
    ) -> Template:  # fmt: skip
        return await provider_page(request, principal, reads, ledger, provider_id)

    @post("/activities", status_code=303)
    async def add_activity(
        self,
        request: Request[Any, Any, Any],
        provider_id: FromPath[str],
        principal: Viewer,
        reads: ReadsDep,
        ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template | Redirect:
        values = form_values(await request.form(), lists=("programs",))
        try:
            body = parse_form(values, RegisterActivity, ACTIVITY_LABELS)
            activity = catalogue.activity_of(provider_id, body)
            await catalogue.register_activity(ledger, ctx, activity)
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            values["programs"] = " ".join(values.get("programs", []))
            return await provider_page(
                request,
                principal,
                reads,
                ledger,
                provider_id,
                errors={"activity": found},
                values={"activity": values},
                status_code=422,
            )
        flash(request, f"{body.title} is added to your activities ({body.activity_id}).")
        return Redirect(f"/providers/{provider_id}#activities", status_code=303)

    @post("/completions", status_code=303, guards=[provider_themselves])
    async def post_completion(
        self,
        request: Request[Any, Any, Any],
        provider_id: FromPath[str],
        principal: Viewer,
        reads: ReadsDep,
        ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template | Redirect:
        """One completion, as POST /v1/completions; the same form sent twice (a reload, a
        second tab) records nothing new and says so."""
        values = form_values(await request.form())
        try:
            body = parse_form(values, PostCompletion, COMPLETION_LABELS)
            posted = await completions.record_completion(ledger, ctx, provider_id, body)
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await provider_page(
                request, principal, reads, ledger, provider_id, errors={"completion": found},
                values={"completion": values}, status_code=422,
            )  # fmt: skip
        receipt = posted.receipt
        if posted.created:
            flash(request, f"Posted {receipt.external_id} for {receipt.manager_id}.")
        else:
            flash(request, f"{receipt.external_id} was already posted on"
                  f" {day(receipt.recorded_at)}: nothing new was recorded.")  # fmt: skip
        return Redirect(f"/providers/{provider_id}#postings", status_code=303)

    @post("/roster", status_code=200, guards=[provider_themselves])
    async def upload_roster(
        self,
        request: Request[Any, Any, Any],
        provider_id: FromPath[str],
        principal: Viewer,
        reads: ReadsDep,
        ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template:
        upload = (await request.form()).get("roster")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        if not content:
            errors = {"roster": "Choose a CSV file to upload"}
            return await provider_page(
                request, principal, reads, ledger, provider_id, errors={"roster": errors},
                status_code=422,
            )  # fmt: skip
        try:
            if (lines := _roster_lines(content)) > MAX_BATCH:
                raise RosterFormatError(
                    "items",
                    f"it has {lines:,} lines and a roster holds at most {MAX_BATCH:,}: split it"
                    f" into files of at most {MAX_BATCH:,} lines, each with the header line",
                )
            result = await _upload_roster(ledger, ctx, provider_id, content)
        except (RosterFormatError, Invalid, ClientException) as exc:
            errors = {"roster": f"The file cannot be read as a roster: {_whole_roster(exc)}"}
            return await provider_page(
                request, principal, reads, ledger, provider_id, errors={"roster": errors},
                status_code=422,
            )  # fmt: skip
        return await provider_page(request, principal, reads, ledger, provider_id, roster=result)

    async def _corrector(self, ledger: Ledger, principal: Viewer,
                         provider_id: str, completion_id: UUID) -> str | None:  # fmt: skip
        posting = await _posting(ledger, completion_id)
        if posting is None or posting.provider_id != provider_id:
            raise OutOfScope(detail="That posting is not this provider's.")
        return None if principal.is_admin() else principal.provider_id

    @post("/postings/{completion_id:uuid}/void", status_code=303)
    async def void(
        self,
        request: Request[Any, Any, Any],
        provider_id: FromPath[str],
        completion_id: FromPath[UUID],
        principal: Viewer,
        reads: ReadsDep,
        ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template | Redirect:
        async def apply(values: dict[str, Any], corrector: str | None) -> None:
            confirmed = values.pop("confirm", "") == "yes"
            try:
                body = parse_form(values, VoidCompletion, {"reason": "the reason"})
            except FormInvalid as exc:
                errors = exc.errors
            else:
                errors = {}
            if not confirmed:
                errors["confirm"] = "Tick the box to confirm the void: it cannot be undone"
            if errors:
                raise FormInvalid(errors)
            await completions.void_completion(
                ledger, ctx, completion_id, body, provider_id=corrector
            )

        return await self._correct(
            request, principal, reads, ledger, provider_id, completion_id, "void", apply
        )

    @post("/postings/{completion_id:uuid}/amend", status_code=303)
    async def amend(
        self,
        request: Request[Any, Any, Any],
        provider_id: FromPath[str],
        completion_id: FromPath[UUID],
        principal: Viewer,
        reads: ReadsDep,
        ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template | Redirect:
        labels = {"reason": "the reason", "ceus": "the CEUs", "completed_on": "the date"}

        async def apply(values: dict[str, Any], corrector: str | None) -> None:
            body = parse_form(values, AmendCompletion, labels)
            await completions.amend_completion(
                ledger, ctx, completion_id, body, provider_id=corrector
            )

        return await self._correct(
            request, principal, reads, ledger, provider_id, completion_id, "amend", apply
        )

    async def _correct(
        self, request: Request[Any, Any, Any], principal: Viewer, reads: Reads, ledger: Ledger,
        provider_id: str, completion_id: UUID, kind: str, apply: Any,
    ) -> Template | Redirect:  # fmt: skip
        """A void or an amendment from its form: the page again with the errors beside the
        form, or back to the postings."""
        corrector = await self._corrector(ledger, principal, provider_id, completion_id)
        values = form_values(await request.form())
        try:
            await apply(values, corrector)
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            if isinstance(exc, WrongState) and (done := await _voided(reads, completion_id)):
                found = {"stale": done}  # a stale tab: say what happened, not the rule
            key = f"{kind}-{completion_id}"
            return await provider_page(
                request, principal, reads, ledger, provider_id, errors={key: found},
                values={key: values}, status_code=422,
            )  # fmt: skip
        posting = await _posting(ledger, completion_id)
        what = (
            f"{posting.external_id} ({posting.manager_id}, {day(posting.completed_on)})"
            if posting is not None
            else ""
        )
        flash(request, f"The posting {what} is {kind}ed.")
        return Redirect(f"/providers/{provider_id}#postings", status_code=303)

    @post("/claims/{claim_id:uuid}/dispute", status_code=303, guards=[provider_themselves])
    async def dispute_claim(
        self,
        request: Request[Any, Any, Any],
        provider_id: FromPath[str],
        claim_id: FromPath[UUID],
        principal: Viewer,
        reads: ReadsDep,
        ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template | Redirect:
        """A dispute, as POST /v1/claims/{id}/dispute, with a box to tick (it cannot be
        undone); a claim answered meanwhile (posted, or disputed from another tab) says so."""
        values = form_values(await request.form())
        confirmed = values.pop("confirm", "") == "yes"
        key = f"dispute-{claim_id}"
        try:
            body = parse_form(values, DisputeClaim, {"reason": "the reason"})
            if not confirmed:
                raise FormInvalid({"confirm": "Tick the box to confirm: a dispute is final"})
            filed, _, _ = await claims.dispute_claim(
                ledger, ctx, claim_id, body, provider_id=provider_id
            )
        except WrongState as stale:
            flash(request, f"Nothing new was recorded: {stale.detail}.")
            return Redirect(f"/providers/{provider_id}#claims", status_code=303)
        except NotAllowed as other:
            raise OutOfScope(detail="That claim is another provider's.") from other
        except (FormInvalid, Invalid) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await provider_page(
                request, principal, reads, ledger, provider_id, errors={key: found},
                values={key: values}, status_code=422,
            )  # fmt: skip
        flash(request, f"You disputed the claim of {filed.manager_id} for {filed.activity_id}.")
        return Redirect(f"/providers/{provider_id}#claims", status_code=303)


async def _posting(ledger: Ledger, completion_id: UUID) -> CompletionRecorded | None:
    """The posting itself (who posted it, for whom), to decide who may correct it."""
    found = await find_completion(ledger.store, completion_id)
    return None if found is None else found[0]


async def _upload_roster(
    ledger: Ledger, ctx: Context, provider_id: str, csv_bytes: bytes
) -> BatchResult:
    """POST /v1/completions/batch with text/csv, the header read as a spreadsheet writes it."""
    parsed = await read_batch(spreadsheet_header(csv_bytes), "text/csv")
    postings = [p for p in parsed if isinstance(p, PostCompletion)]
    outcomes = await record_completions(ledger, ctx, provider_id, postings)
    return batch_result(parsed, outcomes)


async def _voided(reads: Reads, completion_id: UUID) -> str:
    """ "This posting was already voided on 6 December 2026 (reason): ...", if it was."""
    view = await reads.completion(completion_id)
    void = next((c for c in view.history if c.kind == "voided"), None)
    if void is None:
        return ""
    why = f" ({void.reason})" if void.reason else ""
    return (
        f"This posting was already voided on {day(void.at)}{why}, perhaps from another"
        " tab or by the association: nothing more was recorded."
    )


def _roster_lines(content: bytes) -> int:
    """The roster's lines after the header, blank ones aside: counted before any is read."""
    return sum(1 for line in content.splitlines()[1:] if line.strip(b" ,\r\t"))


def _whole_roster(exc: Exception) -> str:
    """Why a roster was refused as a whole, in words."""
    if isinstance(exc, RosterFormatError):
        return exc.message
    if isinstance(exc, Invalid):
        return "; ".join(e.message for e in exc.errors)
    return str(getattr(exc, "detail", exc))
