"""Managers: enrolment, certifications, what they stand at, and their renewals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from ledger.api.deps import CurrentPrincipal, LedgerDep, ReadsDep, RequestContext, allow
from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS
from ledger.api.schemas import CertificationBody, FeeBody, ManagerBody, RenewalBody
from ledger.api.views import (
    CountedView,
    CsvOperation,
    ExplainView,
    FeeView,
    RenewalFiledView,
    StatusView,
    certification_status,
    csv_text,
    cycle_view,
    json_or_csv,
)
from ledger.domain.assess import assess
from ledger.domain.decide import LATEST
from ledger.domain.errors import NotFound
from ledger.domain.reports import CycleReport, TranscriptLine, cycle_reports, transcript

__all__ = ["ManagersController"]

AsOf = Annotated[date | None, QueryParameter(description="judge as of this day (default today)")]
KnownAt = Annotated[
    datetime | None, QueryParameter(description="only what had been recorded by this instant")
]
ProgramCode = Annotated[str | None, QueryParameter(description="one program (default all)")]


def _check_as_of(as_of: date | None) -> None:
    """422 for an `as_of` past the dates the ledger deals in: cycles are laid out up to the one
    holding it, and far enough ahead they would end past the calendar's year 9999 (a 500)."""
    if as_of is not None and as_of > LATEST:
        error = {"key": "as_of", "message": f"at most {LATEST}", "source": "query"}
        raise ValidationException(detail="invalid query parameters", extra=[error])


_TRANSCRIPT_COLUMNS = (
    "completion_id", "completed_on", "activity_id", "activity_title", "provider_id", "external_id",
    "category", "programs", "ceus", "state", "counted", "amended", "voided", "late", "cycle",
    "reason", "posted_at",
)  # fmt: skip


class ManagersController(Controller):
    path = "/v1/managers"
    tags = ("managers",)

    @post("/", operation_id="enrollManager", responses=WRITE_PROBLEMS, status_code=HTTP_201_CREATED)
    async def enroll(
        self,
        data: JSONBody[ManagerBody],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> ManagerBody:
        allow(
            principal.is_admin() or principal.role == "auditor",
            "only an admin or an association enrols",
        )
        await ledger.enroll_manager(
            ctx, manager_id=data.manager_id, name=data.name, email=data.email
        )
        return data

    @post(
        "/{manager_id:str}/certifications",
        operation_id="grantCertification",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
    )
    async def certify(
        self,
        manager_id: FromPath[str],
        data: JSONBody[CertificationBody],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> CertificationBody:
        allow(
            principal.is_admin() or principal.audits(data.program),
            f"only an admin or a {data.program} auditor",
        )
        await ledger.grant_certification(
            ctx, manager_id, program=data.program, certified_on=data.certified_on
        )
        return data

    async def _context(  # type: ignore[no-untyped-def]
        self,
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        ledger: LedgerDep,
        as_of: date | None,
        known_at: datetime | None,
    ):
        held = (
            () if principal.role != "auditor" else (await reads.record(manager_id)).certifications
        )
        allow(principal.may_read_manager(manager_id, held), "outside your scope: not your record")
        _check_as_of(as_of)
        record = await reads.record(manager_id, as_of=as_of, known_at=known_at)
        programs = await reads.programs(known_at=known_at)
        return record, programs, as_of or ledger.today()

    @get("/{manager_id:str}/status", operation_id="getStatus", responses=READ_PROBLEMS)
    async def status(
        self,
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        ledger: LedgerDep,
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> StatusView:
        """Status of every certification: totals, shortfalls, renewal, days to the deadline."""
        record, programs, day = await self._context(
            manager_id, principal, reads, ledger, as_of, known_at
        )
        completions = list(record.completions.values())
        certifications = [
            certification_status(assess(cert, completions, programs[code].versions, day))
            for code, cert in sorted(record.certifications.items())
        ]
        return StatusView(
            manager_id=manager_id, as_of=day, known_at=known_at, certifications=certifications
        )

    @get("/{manager_id:str}/status/explain", operation_id="explainStatus", responses=READ_PROBLEMS)
    async def explain(
        self,
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        ledger: LedgerDep,
        program: Annotated[str, QueryParameter(description="the program to explain")],
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> ExplainView:
        """Where every completion counted, or why it did not."""
        record, programs, day = await self._context(
            manager_id, principal, reads, ledger, as_of, known_at
        )
        cert = record.certifications.get(program)
        if cert is None:
            raise NotFound(f"{program} certification for manager", manager_id)
        a = assess(cert, list(record.completions.values()), programs[program].versions, day)
        return ExplainView(
            manager_id=manager_id,
            program=program,
            as_of=day,
            known_at=known_at,
            cycle=cycle_view(a),
            allocations=list(a.allocations),
        )

    @get(
        "/{manager_id:str}/transcript",
        operation_id="getTranscript",
        # list[dict], not list[TranscriptLine]: its `history: tuple[Change, ...]` names a type
        # imported for type checking only, so Litestar cannot resolve it for the schema.
        responses=READ_PROBLEMS | json_or_csv(list[dict[str, Any]]),
        operation_class=CsvOperation,
    )
    async def transcript(
        self,
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        ledger: LedgerDep,
        program: ProgramCode = None,
        format: FromQuery[Literal["json", "csv"]] = "json",
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> Response[list[TranscriptLine]] | Response[str]:
        """Every completion with its state (counted, amended, voided, late)."""
        record, programs, day = await self._context(
            manager_id, principal, reads, ledger, as_of, known_at
        )
        if program is not None and program not in record.certifications:
            raise NotFound(f"{program} certification for manager", manager_id)
        lines = transcript(record, programs, day, program=program)
        if format == "json":
            return Response(lines)
        rows = ({c: getattr(line, c) for c in _TRANSCRIPT_COLUMNS} for line in lines)
        return Response(csv_text(_TRANSCRIPT_COLUMNS, rows), media_type="text/csv")

    @get("/{manager_id:str}/cycles", operation_id="getCycles", responses=READ_PROBLEMS)
    async def cycles(
        self,
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        ledger: LedgerDep,
        program: Annotated[str, QueryParameter(description="the program")],
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> list[CycleReport]:
        """Renewal-cycle history: dates, rules, CEUs, fee, renewal, late credits, audit."""
        record, programs, day = await self._context(
            manager_id, principal, reads, ledger, as_of, known_at
        )
        if program not in record.certifications:
            raise NotFound(f"{program} certification for manager", manager_id)
        return cycle_reports(record, programs[program], day)

    @post(
        "/{manager_id:str}/fees",
        operation_id="recordFee",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
    )
    async def fee(
        self,
        manager_id: FromPath[str],
        data: JSONBody[FeeBody],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> FeeView:
        allow(
            principal.is_admin() or principal.audits(data.program),
            f"only an admin or a {data.program} auditor",
        )
        result = await ledger.pay_fee(
            ctx,
            manager_id,
            program=data.program,
            amount_cents=data.amount_cents,
            reference=data.reference,
        )
        return FeeView(
            manager_id=manager_id,
            program=data.program,
            amount_cents=data.amount_cents,
            reference=data.reference,
            position=result.last_position,
            recorded_at=result.recorded_at,
        )

    @post(
        "/{manager_id:str}/renewals",
        operation_id="fileRenewal",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
    )
    async def renew(
        self,
        manager_id: FromPath[str],
        data: JSONBody[RenewalBody],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> RenewalFiledView:
        """File the renewal of the cycle being renewed: 422 listing every shortfall if not ready."""
        allow(principal.is_manager(manager_id), "only the manager files their renewal")
        filed, result = await ledger.file_renewal(ctx, manager_id, program=data.program)
        return RenewalFiledView(
            renewal_id=filed.renewal_id,
            manager_id=manager_id,
            program=filed.program,
            cycle=filed.cycle,
            ceus=filed.ceus,
            carried_over=filed.carried_over,
            fee_paid_cents=filed.fee_paid_cents,
            completions=[
                CountedView(completion_id=c.completion_id, ceus=c.ceus, category=c.category)
                for c in filed.completions
            ],
            position=result.last_position,
            recorded_at=result.recorded_at,
        )
