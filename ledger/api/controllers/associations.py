"""What certifying associations read and do across a program's managers: the register, the due
list and drawing audits."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS
from ledger.api.openapi import CsvOperation, json_or_csv
from ledger.commands import audits as cmd
from ledger.commands.messages import DrawAudit
from ledger.csv_io import columns_of
from ledger.domain.errors import FieldError, Invalid
from ledger.http.guards import auditor_of_path_program
from ledger.http.injected import CurrentPrincipal, LedgerDep, ReadsDep, RequestContext
from ledger.http.responses import csv_response
from ledger.queries.views import AuditView, DueView
from projections.ceu_queries import RegisterRow

__all__ = ["ProgramAssociationController"]

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


class ProgramAssociationController(Controller):
    path = "/v1/programs/{code:str}"
    tags = ("associations",)
    guards = [auditor_of_path_program]

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

    @get("/due", operation_id="dueList", responses=READ_PROBLEMS)
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
        "/audits", operation_id="drawAudit", responses=WRITE_PROBLEMS, status_code=HTTP_201_CREATED
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
        program = await reads.program(code)
        errors = []
        if data.filed_to < data.filed_from:
            errors.append(FieldError("filed_to", "must not be before filed_from"))
        if data.rate is not None and not (data.rate.is_finite() and 0 < data.rate <= 1):
            errors.append(FieldError("rate", "a fraction in (0, 1]"))
        if errors:
            raise Invalid(errors)
        drawn = await cmd.draw_audit(
            ledger,
            ctx,
            program=code,
            filed_from=data.filed_from,
            filed_to=data.filed_to,
            rate=data.rate if data.rate is not None else program.versions[-1].audit_rate,
            seed=data.seed if data.seed is not None else secrets.randbits(53),
            population=await reads.audit_population(code, data.filed_from, data.filed_to),
        )
        return AuditView.of(drawn)
