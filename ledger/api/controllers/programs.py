"""Programs and their rule versions; and what certifying associations read and do across a
program's managers: the register, the due list and drawing audits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from events.catalog import Rules
from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS
from ledger.api.openapi import CsvOperation, json_or_csv
from ledger.commands import audits, catalogue
from ledger.commands.messages import DefineProgram, DrawAudit, RuleVersion
from ledger.csv_io import columns_of
from ledger.domain.errors import FieldError, Invalid
from ledger.http.guards import (
    admin,
    auditor_of_path_program,
    auditor_of_path_program_or_admin,
    authenticated,
)
from ledger.http.injected import CurrentPrincipal, LedgerDep, ReadsDep, RequestContext
from ledger.http.responses import csv_response
from ledger.queries.claims import ClaimRow, ProviderTimeliness, overdue_of_program, timeliness
from ledger.queries.views import AuditView, DueView, ProgramView
from projections.ceu_queries import RegisterRow

__all__ = ["ProgramsController"]


def _rules(body: RuleVersion, prefix: str = "") -> Rules:
    """The rules, once every amount is a number: JSON may spell NaN or Infinity as a decimal,
    and no rule can be judged (or even compared) with one of those."""
    amounts = {
        "required_ceus": body.required_ceus,
        "carryover_max_ceus": body.carryover_max_ceus,
        "audit_rate": body.audit_rate,
        "min_presence": body.min_presence,
        **{f"category_minimums.{k}": v for k, v in body.category_minimums.items()},
        **{f"source_minimums.{k}": v for k, v in body.source_minimums.items()},
        **{f"source_maximums.{k}": v for k, v in body.source_maximums.items()},
    }
    if bad := [name for name, amount in amounts.items() if not amount.is_finite()]:
        raise Invalid([FieldError(prefix + name, "must be a finite number") for name in bad])
    return msgspec.convert(body, Rules, from_attributes=True)


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


class ProgramsController(Controller):
    path = "/v1/programs"

    @get(
        "/",
        operation_id="listPrograms",
        responses=READ_PROBLEMS,
        guards=[authenticated],
        tags=["programs"],
    )
    async def list_programs(
        self, principal: CurrentPrincipal, reads: ReadsDep
    ) -> list[ProgramView]:
        """Every program with its rule versions (any role)."""
        return await reads.programs()

    @get(
        "/{code:str}",
        operation_id="getProgram",
        responses=READ_PROBLEMS,
        guards=[authenticated],
        tags=["programs"],
    )
    async def get_program(
        self, code: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep
    ) -> ProgramView:
        """One program with every rule version, oldest first (any role)."""
        return ProgramView.of(await reads.program(code))

    @post(
        "/",
        operation_id="defineProgram",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin],
        tags=["programs"],
    )
    async def define(
        self,
        data: JSONBody[DefineProgram],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> ProgramView:
        """Define a program (a credential) with its first rule version (an admin)."""
        rules = _rules(data.rules, "rules.")  # numbers first: the fact holds no NaN
        await catalogue.define_program(ledger, ctx, catalogue.program_of(data, rules))
        return ProgramView.of(await reads.program(data.code))

    @post(
        "/{code:str}/rules",
        operation_id="reviseRules",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin],
        tags=["programs"],
    )
    async def revise(
        self,
        code: FromPath[str],
        data: JSONBody[RuleVersion],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> ProgramView:
        """Add a rule version, effective today or later, for cycles starting from then on."""
        await catalogue.revise_rules(ledger, ctx, code, _rules(data))
        return ProgramView.of(await reads.program(code))

    @get(
        "/{code:str}/renewals",
        operation_id="renewalRegister",
        responses=READ_PROBLEMS | json_or_csv(list[RegisterRow]),
        operation_class=_RegisterOperation,
        guards=[auditor_of_path_program],
        tags=["associations"],
    )
    async def register(
        self,
        code: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        request: Request[Any, Any, Any],
        cycle_ends_from: FromQuery[date | None] = None,
        cycle_ends_to: FromQuery[date | None] = None,
        format: FromQuery[Literal["json", "csv"]] = "json",
    ) -> Response[list[RegisterRow]] | Response[str]:
        """The renewal register of a program, filterable by state and by cycle end."""
        state = request.query_params.get("state")
        if state not in (None, *_STATES):
            raise Invalid([FieldError("state", f"one of {', '.join(_STATES)}")])
        rows = await reads.register(
            code, state=state, cycle_ends_from=cycle_ends_from, cycle_ends_to=cycle_ends_to
        )
        if format == "json":
            return Response(rows)
        return csv_response(columns_of(RegisterRow), rows, f"{code}-renewals.csv")

    @get(
        "/{code:str}/due",
        operation_id="dueList",
        responses=READ_PROBLEMS,
        guards=[auditor_of_path_program],
        tags=["associations"],
    )
    async def due(
        self,
        code: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        within_days: Annotated[int, QueryParameter(ge=0, le=3650)] = 90,
    ) -> list[DueView]:
        """Certifications due within `within_days` (or past due, in grace), with shortfalls."""
        return await reads.due(code, within_days=within_days)

    @post(
        "/{code:str}/audits",
        operation_id="drawAudit",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
        tags=["associations"],
    )
    async def draw(
        self,
        code: FromPath[str],
        data: JSONBody[DrawAudit],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> AuditView:
        """Draw a random sample of the renewals filed in a window; a seed redraws it exactly."""
        await reads.program(code)  # an unknown program is a 404 before the body's checks
        errors = []
        if data.filed_to < data.filed_from:
            errors.append(FieldError("filed_to", "must not be before filed_from"))
        if data.rate is not None and not (data.rate.is_finite() and 0 < data.rate <= 1):
            errors.append(FieldError("rate", "a fraction in (0, 1]"))
        if errors:
            raise Invalid(errors)
        population = await reads.audit_population(code, data.filed_from, data.filed_to)
        drawn = await audits.draw_audit(ledger, ctx, code, data, population=population)
        return AuditView.of(drawn)

    @get(
        "/{code:str}/providers",
        operation_id="providersTimeliness",
        responses=READ_PROBLEMS,
        guards=[auditor_of_path_program_or_admin],
        tags=["associations"],
    )
    async def providers(
        self, code: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep
    ) -> list[ProviderTimeliness]:
        """Each provider's timeliness in the program: postings, the median days from
        completed_on to posting, and its claims open, overdue, fulfilled and disputed."""
        return await timeliness(reads, code)

    @get(
        "/{code:str}/claims",
        operation_id="overdueClaims",
        responses=READ_PROBLEMS,
        guards=[auditor_of_path_program_or_admin],
        tags=["associations"],
    )
    async def overdue_claims(
        self, code: FromPath[str], principal: CurrentPrincipal, reads: ReadsDep
    ) -> list[ClaimRow]:
        """The overdue claims on activities counting for the program (open past their
        window), with the day the association's notice of each was due."""
        return await overdue_of_program(reads, code)
