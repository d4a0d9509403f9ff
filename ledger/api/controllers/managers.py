"""Managers: enrolment, the managers list, profiles, certifications and their standing; what a
manager stands at (status, its explanation, the transcript, the cycle history); their notices;
and the fees paid and the renewals filed for them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS, bad_query
from ledger.api.openapi import CsvOperation, json_or_csv
from ledger.api.privacy import require_program
from ledger.commands import claims as claim_cmd
from ledger.commands import managers as cmd
from ledger.commands import renewals, standing
from ledger.commands.messages import (
    ChangeProfile,
    ChangeStanding,
    EnrollManager,
    ExtendDeadline,
    FileClaim,
    FileRenewal,
    GrantCertification,
    PayFee,
)
from ledger.documents.pdfs import transcript_pdf
from ledger.domain.reports import CycleReport, TranscriptLine
from ledger.domain.values import LATEST
from ledger.http.authn import READS_MANAGER_NOW, manager_now
from ledger.http.guards import (
    admin_or_auditor,
    auditor_of_path_program,
    claimant_of_path,
    deny_unless,
    manager_of_path,
    manager_or_admin_of_path,
    manager_themselves,
)
from ledger.http.injected import (
    CredentialsDep,
    CurrentPrincipal,
    LedgerDep,
    ReadsDep,
    RequestContext,
    SeenDep,
)
from ledger.http.responses import csv_response, pdf_response
from ledger.queries.claims import ClaimFiledView, ClaimRow, claims_of_manager
from ledger.queries.notices import notices_of
from ledger.queries.views import (
    TRANSCRIPT_COLUMNS,
    ExplainView,
    ExtensionView,
    FeeView,
    ManagerList,
    NoticesView,
    ProfileView,
    RenewalFiledView,
    StandingView,
    StatusView,
)

__all__ = ["ManagersController"]

Status = Annotated[
    str | None, QueryParameter(description="active, grace, lapsed or revoked", max_length=16)
]

AsOf = Annotated[date | None, QueryParameter(description="judge as of this day (default today)")]
KnownAt = Annotated[
    datetime | None, QueryParameter(description="only what had been recorded by this instant")
]


def _check_as_of(as_of: date | None) -> None:
    """422 for an `as_of` past the dates the ledger deals in: cycles are laid out up to the one
    holding it, and far enough ahead they would end past the calendar's year 9999 (a 500)."""
    if as_of is not None and as_of > LATEST:
        raise bad_query("as_of", f"at most {LATEST}")


class ManagersController(Controller):
    path = "/v1/managers"

    @post(
        "/",
        operation_id="enrollManager",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin_or_auditor],
        tags=["managers"],
    )
    async def enroll(
        self,
        data: JSONBody[EnrollManager],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> EnrollManager:
        """Enrol a manager (an admin or an auditor)."""
        await cmd.enroll_manager(ledger, ctx, data)
        return data

    @get(
        "/",
        operation_id="listManagers",
        responses=READ_PROBLEMS,
        guards=[admin_or_auditor],
        tags=["managers"],
    )
    async def list_managers(
        self,
        principal: CurrentPrincipal,
        reads: ReadsDep,
        program: Annotated[str | None, QueryParameter(max_length=16)] = None,
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        status: Status = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**63 - 1)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> ManagerList:
        """Managers certified in a program (an auditor must name one of its programs),
        searchable by id, name or email; `after` is the cursor of the previous page."""
        if not principal.is_admin():
            if program is None:
                raise bad_query("program", "name one of your programs")
            deny_unless(principal.audits(program), f"only an auditor of {program} or an admin")
        if status not in (None, "active", "grace", "lapsed", "revoked"):
            raise bad_query("status", "one of active, grace, lapsed, revoked")
        if program is not None:
            await reads.program(program)
        return await reads.managers_list(
            program=program, q=q, status=status, after=after, limit=limit
        )

    @get(
        "/{manager_id:str}",
        operation_id="getManager",
        responses=READ_PROBLEMS,
        guards=[manager_of_path],
        tags=["managers"],
    )
    async def profile(
        self, manager_id: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep, seen: SeenDep
    ) -> ProfileView:
        """The manager's profile: name, email and the programs held (an auditor: those of its
        programs only)."""
        return await reads.profile(manager_id, scope=seen)

    @post(
        "/{manager_id:str}/profile",
        operation_id="changeProfile",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
        guards=[manager_or_admin_of_path],
        tags=["managers"],
    )
    async def change_profile(
        self,
        manager_id: FromPath[str],
        data: JSONBody[ChangeProfile],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> ProfileView:
        """Change the name or the email (or both): the manager or an admin only, since the
        email is where the manager's notices go."""
        await cmd.change_profile(ledger, ctx, manager_id, data)
        return await reads.profile(manager_id)

    @post(
        "/{manager_id:str}/certifications",
        operation_id="grantCertification",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin_or_auditor],
        tags=["managers"],
    )
    async def certify(
        self,
        manager_id: FromPath[str],
        data: JSONBody[GrantCertification],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> GrantCertification:
        """Grant a certification from `certified_on`; its cycles run back to back from then."""
        deny_unless(  # the program is the body's
            principal.is_admin() or principal.audits(data.program),
            f"only an admin or a {data.program} auditor",
        )
        await cmd.grant_certification(ledger, ctx, manager_id, data)
        return data

    @post(
        "/{manager_id:str}/certifications/{program:str}/revoke",
        operation_id="revokeCertification",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
        tags=["managers"],
    )
    async def revoke(
        self,
        manager_id: FromPath[str],
        program: FromPath[str],
        data: JSONBody[ChangeStanding],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> StandingView:
        """Revoke the certification (status `revoked` until reinstated)."""
        result = await standing.revoke(ledger, ctx, manager_id, program, data)
        return await reads.standing(manager_id, program, data.reason, result)

    @post(
        "/{manager_id:str}/certifications/{program:str}/reinstate",
        operation_id="reinstateCertification",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
        tags=["managers"],
    )
    async def reinstate(
        self,
        manager_id: FromPath[str],
        program: FromPath[str],
        data: JSONBody[ChangeStanding],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> StandingView:
        """Reinstate a revoked certification: back to the status the rules give."""
        result = await standing.reinstate(ledger, ctx, manager_id, program, data)
        return await reads.standing(manager_id, program, data.reason, result)

    @post(
        "/{manager_id:str}/certifications/{program:str}/extensions",
        operation_id="extendDeadline",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
        tags=["managers"],
    )
    async def extend(
        self,
        manager_id: FromPath[str],
        program: FromPath[str],
        data: JSONBody[ExtendDeadline],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> ExtensionView:
        """Move the deadline of the cycle being renewed to `ends_on`."""
        extended, result = await standing.extend_deadline(ledger, ctx, manager_id, program, data)
        return ExtensionView.of(extended, result)

    @get(
        "/{manager_id:str}/status",
        operation_id="getStatus",
        responses=READ_PROBLEMS,
        guards=[manager_of_path],
        tags=["managers"],
        opt={READS_MANAGER_NOW: True},
    )
    async def status(
        self,
        request: Request[Any, Any, Any],
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        seen: SeenDep,
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> StatusView:
        """Status of every certification: totals, shortfalls, renewal, days to the deadline."""
        _check_as_of(as_of)
        # The record now was read with the token (one round trip: ledger/http/authn.py).
        current = manager_now(request, manager_id)
        return await reads.status(
            manager_id, as_of=as_of, known_at=known_at, scope=seen, current=current
        )

    @get(
        "/{manager_id:str}/status/explain",
        operation_id="explainStatus",
        responses=READ_PROBLEMS,
        guards=[manager_of_path],
        tags=["managers"],
    )
    async def explain(
        self,
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        seen: SeenDep,
        program: Annotated[str, QueryParameter(description="the program to explain")],
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> ExplainView:
        """Where every completion counted, or why it did not."""
        require_program(seen, principal, program)
        _check_as_of(as_of)
        return await reads.explain(manager_id, program, as_of=as_of, known_at=known_at, scope=seen)

    @get(
        "/{manager_id:str}/transcript",
        operation_id="getTranscript",
        # list[dict], not list[TranscriptLine]: its `history: tuple[Change, ...]` names a type
        # imported for type checking only, so Litestar cannot resolve it for the schema.
        responses=READ_PROBLEMS | json_or_csv(list[dict[str, Any]]),
        operation_class=CsvOperation,
        guards=[manager_of_path],
        tags=["managers"],
    )
    async def transcript(
        self,
        request: Request[Any, Any, Any],
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        seen: SeenDep,
        credentials: CredentialsDep,
        program: Annotated[
            str | None, QueryParameter(description="one program (default all)")
        ] = None,
        format: FromQuery[Literal["json", "csv", "pdf"]] = "json",
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> Response[list[TranscriptLine]] | Response[str] | Response[bytes]:
        """Every completion with its state (counted, amended, voided, late, repeat); as a
        PDF with the status, the ledger position it was made from and verification links."""
        require_program(seen, principal, program)
        _check_as_of(as_of)
        if format == "pdf":
            return pdf_response(
                *await transcript_pdf(
                    reads, credentials, manager_id, program, as_of=as_of, known_at=known_at,
                    scope=seen,
                )
            )  # fmt: skip
        lines = await reads.transcript(
            manager_id, program, as_of=as_of, known_at=known_at, scope=seen
        )
        if format == "json":
            return Response(lines)
        return csv_response(TRANSCRIPT_COLUMNS, lines, f"{manager_id}-transcript.csv")

    @get(
        "/{manager_id:str}/cycles",
        operation_id="getCycles",
        responses=READ_PROBLEMS,
        guards=[manager_of_path],
        tags=["managers"],
    )
    async def cycles(
        self,
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        seen: SeenDep,
        program: Annotated[str, QueryParameter(description="the program")],
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> list[CycleReport]:
        """Renewal-cycle history: dates, rules, CEUs, fee, renewal, late credits, audit."""
        require_program(seen, principal, program)
        _check_as_of(as_of)
        return await reads.cycles(manager_id, program, as_of=as_of, known_at=known_at, scope=seen)

    @get(
        "/{manager_id:str}/notices",
        operation_id="listNotices",
        responses=READ_PROBLEMS,
        guards=[manager_of_path],
        tags=["managers"],
    )
    async def notices(
        self, manager_id: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep, seen: SeenDep
    ) -> NoticesView:
        """Reminders (deadline in 90/45/15/1 days, grace started, lapsed) and news (renewal
        approved or denied, selected for audit), with whether and when each was sent."""
        return await notices_of(reads, manager_id, scope=seen)

    @post(
        "/{manager_id:str}/fees",
        operation_id="recordFee",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin_or_auditor],
        tags=["renewals"],
    )
    async def fee(
        self,
        manager_id: FromPath[str],
        data: JSONBody[PayFee],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> FeeView:
        """Record a fee paid for the cycle being renewed."""
        deny_unless(  # the program is the body's
            principal.is_admin() or principal.audits(data.program),
            f"only an admin or a {data.program} auditor",
        )
        paid, result = await renewals.pay_fee(ledger, ctx, manager_id, data)
        return FeeView.of_fact(paid, result)

    @post(
        "/{manager_id:str}/renewals",
        operation_id="fileRenewal",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[manager_themselves],
        tags=["renewals"],
    )
    async def renew(
        self,
        manager_id: FromPath[str],
        data: JSONBody[FileRenewal],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> RenewalFiledView:
        """File the renewal of the cycle being renewed: 422 listing every shortfall if not ready."""
        filed, result = await renewals.file_renewal(ledger, ctx, manager_id, data)
        return RenewalFiledView.of(filed, result)

    # -- claims (SPEC 11) -----------------------------------------------------------------

    @post(
        "/{manager_id:str}/claims",
        operation_id="fileClaim",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[claimant_of_path],
        tags=["claims"],
    )
    async def file_claim(
        self,
        manager_id: FromPath[str],
        data: JSONBody[FileClaim],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> ClaimFiledView:
        """Claim an attended activity whose completion was not posted: 404 for an unknown
        activity, 409 if it is posted already or a claim on it is open, 422 for a day outside
        the activity's dates or in the future."""
        filed, result = await claim_cmd.file_claim(ledger, ctx, manager_id, data)
        return ClaimFiledView.of(filed, result)

    @get(
        "/{manager_id:str}/claims",
        operation_id="listManagerClaims",
        responses=READ_PROBLEMS,
        guards=[manager_of_path],
        tags=["claims"],
    )
    async def claims(
        self, manager_id: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep, seen: SeenDep
    ) -> list[ClaimRow]:
        """The manager's claims, oldest first, each open (and whether overdue), fulfilled (by
        which completion) or disputed (and why); an auditor sees those on activities counting
        for its programs."""
        return await claims_of_manager(reads, manager_id, scope=seen)
