"""Programs, providers and their activities."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from events.catalog import ActivityRegistered, Rules
from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS
from ledger.commands import catalogue as cmd
from ledger.commands.messages import (
    DefineProgram,
    RegisterActivity,
    RegisterProvider,
    RuleVersion,
)
from ledger.domain.errors import FieldError, Invalid
from ledger.http.guards import admin, authenticated, provider_of_path
from ledger.http.injected import CurrentPrincipal, LedgerDep, ReadsDep, RequestContext
from ledger.queries.views import ActivityView, PostingsPage, ProgramView, ProviderView

__all__ = [
    "ActivitiesController",
    "ProgramsController",
    "ProvidersController",
]

Filter = Annotated[str | None, QueryParameter(max_length=200)]


def _rules(body: RuleVersion, prefix: str = "") -> Rules:
    """The rules, once every amount is a number: JSON may spell NaN or Infinity as a decimal,
    and no rule can be judged (or even compared) with one of those."""
    amounts = {
        "required_ceus": body.required_ceus,
        "carryover_max_ceus": body.carryover_max_ceus,
        "audit_rate": body.audit_rate,
        **{f"category_minimums.{k}": v for k, v in body.category_minimums.items()},
    }
    if bad := [name for name, amount in amounts.items() if not amount.is_finite()]:
        raise Invalid([FieldError(prefix + name, "must be a finite number") for name in bad])
    return Rules(
        effective_from=body.effective_from,
        cycle_months=body.cycle_months,
        required_ceus=body.required_ceus,
        categories=tuple(body.categories),
        category_minimums=dict(body.category_minimums),
        grace_days=body.grace_days,
        fee_cents=body.fee_cents,
        carryover_max_ceus=body.carryover_max_ceus,
        audit_rate=body.audit_rate,
        correction_window_days=body.correction_window_days,
    )


class ProgramsController(Controller):
    path = "/v1/programs"
    tags = ("programs",)

    @get("/", operation_id="listPrograms", responses=READ_PROBLEMS, guards=[authenticated])
    async def list_programs(
        self, principal: CurrentPrincipal, reads: ReadsDep
    ) -> list[ProgramView]:
        """Every program with its rule versions (any role)."""
        return await reads.programs()

    @get("/{code:str}", operation_id="getProgram", responses=READ_PROBLEMS, guards=[authenticated])
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
        await cmd.define_program(
            ledger,
            ctx,
            code=data.code,
            name=data.name,
            association=data.association,
            rules=_rules(data.rules, "rules."),
        )
        return ProgramView.of(await reads.program(data.code))

    @post(
        "/{code:str}/rules",
        operation_id="reviseRules",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin],
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
        await cmd.revise_rules(ledger, ctx, code, _rules(data))
        return ProgramView.of(await reads.program(code))


class ProvidersController(Controller):
    path = "/v1/providers"
    tags = ("providers",)

    @post(
        "/",
        operation_id="registerProvider",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin],
    )
    async def register(
        self,
        data: JSONBody[RegisterProvider],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> RegisterProvider:
        """Register a provider and the programs it is approved for (an admin)."""
        await cmd.register_provider(
            ledger, ctx, provider_id=data.provider_id, name=data.name, programs=tuple(data.programs)
        )
        return data

    @get("/", operation_id="listProviders", responses=READ_PROBLEMS, guards=[authenticated])
    async def list_providers(
        self, principal: CurrentPrincipal, reads: ReadsDep
    ) -> list[ProviderView]:
        """Every provider and the programs it is approved for (any role)."""
        return await reads.providers()

    @get(
        "/{provider_id:str}/completions",
        operation_id="providerPostings",
        responses=READ_PROBLEMS,
        guards=[provider_of_path],
    )
    async def postings(
        self,
        provider_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        manager_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**63 - 1)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> PostingsPage:
        """The provider's own postings in log order; `after` is the previous page's cursor."""
        return await reads.postings(provider_id, manager_id=manager_id, after=after, limit=limit)

    @post(
        "/{provider_id:str}/activities",
        operation_id="registerActivity",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[provider_of_path],
    )
    async def register_activity(
        self,
        provider_id: FromPath[str],
        data: JSONBody[RegisterActivity],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> RegisterActivity:
        """Register an activity of the provider: its CEUs, category, programs and dates."""
        activity = ActivityRegistered(
            provider_id=provider_id,
            activity_id=data.activity_id,
            title=data.title,
            format=data.format,
            ceus=data.ceus,
            category=data.category,
            programs=tuple(data.programs),
            starts_on=data.starts_on,
            ends_on=data.ends_on,
        )
        await cmd.register_activity(ledger, ctx, activity)
        return data


class ActivitiesController(Controller):
    path = "/v1/activities"
    tags = ("providers",)

    @get("/", operation_id="listActivities", responses=READ_PROBLEMS, guards=[authenticated])
    async def list_activities(
        self,
        principal: CurrentPrincipal,
        reads: ReadsDep,
        program: Filter = None,
        category: Filter = None,
        q: Filter = None,
    ) -> list[ActivityView]:
        """The catalogue: what counts toward which program and category (any role)."""
        return await reads.activities(program=program, category=category, q=q)
