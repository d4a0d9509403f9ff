"""What certifying associations do: decide renewals, read the register and the due list, audit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from events.catalog import AuditSampleDrawn
from ledger.api.deps import CurrentPrincipal, LedgerDep, PoolDep, ReadsDep, RequestContext, allow
from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS
from ledger.api.schemas import AuditBody, DecisionBody, FindingBody
from ledger.api.views import CsvOperation, ShortfallView, json_or_csv
from ledger.csv_io import register_csv
from ledger.domain.assess import assess
from ledger.domain.errors import FieldError, Invalid, NotFound
from projections import ceu_queries
from projections.ceu_queries import Finding, RegisterRow

__all__ = ["AuditsController", "ProgramAssociationController", "RenewalsController"]


def _may_audit(principal: CurrentPrincipal, program: str) -> None:
    """The register, the due list and audits are the association's: SPEC section 6 names
    auditors only, not admins (as for decisions and findings)."""
    allow(principal.audits(program), f"only an auditor of {program}")


class DecisionView(msgspec.Struct, frozen=True, kw_only=True):
    renewal_id: UUID
    manager_id: str
    program: str
    cycle: int
    decision: Literal["approve", "deny"]
    reason: str
    position: int
    decided_at: datetime


class DueView(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    program: str
    status: str
    cycle: int
    deadline: date
    grace_ends_on: date
    days_to_deadline: int
    ceus_earned: Decimal
    ceus_required: Decimal
    renewal_ready: bool
    shortfalls: list[ShortfallView]


class AuditView(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    program: str
    filed_from: date
    filed_to: date
    rate: Decimal
    seed: int
    population: list[UUID]
    selected: list[UUID]
    findings: list[Finding] = []

    @classmethod
    def of(cls, drawn: AuditSampleDrawn, findings: list[Finding] | None = None) -> AuditView:
        return cls(
            audit_id=drawn.audit_id,
            program=drawn.program,
            filed_from=drawn.filed_from,
            filed_to=drawn.filed_to,
            rate=drawn.rate,
            seed=drawn.seed,
            population=list(drawn.population),
            selected=list(drawn.selected),
            findings=findings or [],
        )


class FindingView(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    renewal_id: UUID
    outcome: Literal["passed", "failed"]
    note: str
    revoked: bool
    position: int


_STATES = ("filed", "approved", "denied")


@dataclass
class _RegisterOperation(CsvOperation):
    """`state` is a reserved name for Litestar handler parameters, so the handler reads it from
    the query string itself; this documents it."""

    def __post_init__(self) -> None:
        super().__post_init__()
        state = OpenAPIParameter(
            name="state",
            param_in=ParamType.QUERY,
            required=False,
            description="only renewals in this state",
            schema=Schema(type=OpenAPIType.STRING, enum=list(_STATES)),
        )
        self.parameters = [*(self.parameters or []), state]


class RenewalsController(Controller):
    path = "/v1/renewals"
    tags = ("associations",)

    @post(
        "/{renewal_id:uuid}/decision",
        operation_id="decideRenewal",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
    )
    async def decide(
        self,
        renewal_id: FromPath[UUID],
        data: JSONBody[DecisionBody],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> DecisionView:
        """Approve or deny a filed renewal (an auditor of its program)."""
        filed = await ledger.filed_renewal(renewal_id)
        allow(principal.audits(filed.program), f"only an auditor of {filed.program}")
        result = await ledger.decide_renewal(
            ctx, renewal_id, approve=data.decision == "approve", reason=data.reason
        )
        return DecisionView(
            renewal_id=renewal_id,
            manager_id=filed.manager_id,
            program=filed.program,
            cycle=filed.cycle,
            decision=data.decision,
            reason=data.reason,
            position=result.last_position,
            decided_at=result.recorded_at,
        )


class ProgramAssociationController(Controller):
    path = "/v1/programs/{code:str}"
    tags = ("associations",)

    @get(
        "/renewals",
        operation_id="renewalRegister",
        responses=READ_PROBLEMS | json_or_csv(list[RegisterRow]),
        operation_class=_RegisterOperation,
    )
    async def register(
        self,
        code: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        pool: PoolDep,
        request: Request,
        cycle_ends_from: FromQuery[date | None] = None,
        cycle_ends_to: FromQuery[date | None] = None,
        format: FromQuery[Literal["json", "csv"]] = "json",
    ) -> Response[list[RegisterRow]] | Response[str]:
        """The renewal register of a program, filterable by state and by cycle end."""
        _may_audit(principal, code)
        renewal_state = request.query_params.get("state")
        if renewal_state not in (None, *_STATES):
            raise Invalid([FieldError("state", f"one of {', '.join(_STATES)}")])
        await reads.program(code)
        async with pool.acquire() as conn:
            await reads.caught_up(conn)
            rows = await ceu_queries.renewal_register(
                conn,
                code,
                state=renewal_state,
                cycle_ends_from=cycle_ends_from,
                cycle_ends_to=cycle_ends_to,
            )
        if format == "json":
            return Response(rows)
        return Response(register_csv(rows), media_type="text/csv")

    @get("/due", operation_id="dueList", responses=READ_PROBLEMS)
    async def due(
        self,
        code: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        ledger: LedgerDep,
        pool: PoolDep,
        within_days: Annotated[int, QueryParameter(ge=0, le=3650)] = 90,
    ) -> list[DueView]:
        """Certifications due within `within_days` (or past due, in grace), with shortfalls."""
        _may_audit(principal, code)
        program, today = await reads.program(code), ledger.today()
        async with pool.acquire() as conn:
            await reads.caught_up(conn)
            due = await ceu_queries.due_certifications(
                conn, code, today=today, within_days=within_days
            )
        views = []
        for row in due:
            record = await reads.record(row.manager_id)
            a = assess(
                record.certifications[code],
                list(record.completions.values()),
                program.versions,
                today,
            )
            views.append(
                DueView(
                    manager_id=row.manager_id,
                    program=code,
                    status=a.status,
                    cycle=a.focus.cycle.number,
                    deadline=a.focus.deadline,
                    grace_ends_on=a.focus.grace_ends_on,
                    days_to_deadline=a.days_to_deadline,
                    ceus_earned=a.focus.earned,
                    ceus_required=a.focus.cycle.rules.required_ceus,
                    renewal_ready=a.renewal_ready,
                    shortfalls=[
                        ShortfallView(
                            requirement=s.requirement, category=s.category, missing=s.missing
                        )
                        for s in a.shortfalls
                    ],
                )
            )
        return views

    @post(
        "/audits", operation_id="drawAudit", responses=WRITE_PROBLEMS, status_code=HTTP_201_CREATED
    )
    async def draw(
        self,
        code: FromPath[str],
        data: JSONBody[AuditBody],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
        pool: PoolDep,
    ) -> AuditView:
        """Draw a random sample of the renewals filed in a window; a seed redraws it exactly."""
        _may_audit(principal, code)
        program = await reads.program(code)
        errors = []
        if data.filed_to < data.filed_from:
            errors.append(FieldError("filed_to", "must not be before filed_from"))
        if data.rate is not None and not (data.rate.is_finite() and 0 < data.rate <= 1):
            errors.append(FieldError("rate", "a fraction in (0, 1]"))
        if errors:
            raise Invalid(errors)
        async with pool.acquire() as conn:
            await reads.caught_up(conn)
            population = await ceu_queries.audit_population(
                conn, code, data.filed_from, data.filed_to
            )
        drawn = await ledger.draw_audit(
            ctx,
            program=code,
            filed_from=data.filed_from,
            filed_to=data.filed_to,
            rate=data.rate if data.rate is not None else program.versions[-1].audit_rate,
            seed=data.seed if data.seed is not None else secrets.randbits(53),
            population=population,
        )
        return AuditView.of(drawn)


class AuditsController(Controller):
    path = "/v1/audits"
    tags = ("associations",)

    @get("/{audit_id:uuid}", operation_id="getAudit", responses=READ_PROBLEMS)
    async def get_audit(
        self,
        audit_id: FromPath[UUID],
        principal: CurrentPrincipal,
        ledger: LedgerDep,
        reads: ReadsDep,
        pool: PoolDep,
    ) -> AuditView:
        drawn = await ledger.audit(audit_id)
        if drawn is None:
            raise NotFound("audit", audit_id)
        _may_audit(principal, drawn.program)
        async with pool.acquire() as conn:
            await reads.caught_up(conn)
            found = await ceu_queries.audit(conn, audit_id)
        findings = found[1] if found else []
        return AuditView.of(drawn, findings)

    @post(
        "/{audit_id:uuid}/findings",
        operation_id="recordFinding",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
    )
    async def finding(
        self,
        audit_id: FromPath[UUID],
        data: JSONBody[FindingBody],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> FindingView:
        """Record the audit of one selected renewal; a failed one revokes the certification."""
        drawn = await ledger.audit(audit_id)
        if drawn is None:
            raise NotFound("audit", audit_id)
        allow(principal.audits(drawn.program), f"only an auditor of {drawn.program}")
        result = await ledger.record_finding(
            ctx,
            audit_id,
            renewal_id=data.renewal_id,
            passed=data.outcome == "passed",
            note=data.note,
        )
        return FindingView(
            audit_id=audit_id,
            renewal_id=data.renewal_id,
            outcome=data.outcome,
            note=data.note,
            revoked=data.outcome == "failed" and result.last_position > result.first_position,
            position=result.first_position,
        )
