"""Managers: enrolment, the managers list, profiles, certifications and their standing."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS, bad_query
from ledger.commands import managers as cmd
from ledger.commands import standing
from ledger.commands.messages import (
    ChangeProfile,
    ChangeStanding,
    EnrollManager,
    ExtendDeadline,
    GrantCertification,
)
from ledger.http.guards import (
    admin_or_auditor,
    auditor_of_path_program,
    deny_unless,
    manager_of_path,
    manager_or_admin_of_path,
)
from ledger.http.injected import CurrentPrincipal, LedgerDep, ReadsDep, RequestContext, SeenDep
from ledger.queries.views import ExtensionView, ManagerList, ProfileView, StandingView

__all__ = ["ManagersController"]

Status = Annotated[
    str | None, QueryParameter(description="active, grace, lapsed or revoked", max_length=16)
]


class ManagersController(Controller):
    path = "/v1/managers"
    tags = ("managers",)

    @post(
        "/",
        operation_id="enrollManager",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin_or_auditor],
    )
    async def enroll(
        self,
        data: JSONBody[EnrollManager],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> EnrollManager:
        """Enrol a manager (an admin or an auditor)."""
        await cmd.enroll_manager(
            ledger, ctx, manager_id=data.manager_id, name=data.name, email=data.email
        )
        return data

    @get("/", operation_id="listManagers", responses=READ_PROBLEMS, guards=[admin_or_auditor])
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
        await cmd.change_profile(ledger, ctx, manager_id, name=data.name, email=data.email)
        return await reads.profile(manager_id)

    @post(
        "/{manager_id:str}/certifications",
        operation_id="grantCertification",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[admin_or_auditor],
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
        await cmd.grant_certification(
            ledger, ctx, manager_id, program=data.program, certified_on=data.certified_on
        )
        return data

    @post(
        "/{manager_id:str}/certifications/{program:str}/revoke",
        operation_id="revokeCertification",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
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
        result = await standing.revoke(ledger, ctx, manager_id, program=program, reason=data.reason)
        return await reads.standing(manager_id, program, data.reason, result)

    @post(
        "/{manager_id:str}/certifications/{program:str}/reinstate",
        operation_id="reinstateCertification",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
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
        result = await standing.reinstate(
            ledger, ctx, manager_id, program=program, reason=data.reason
        )
        return await reads.standing(manager_id, program, data.reason, result)

    @post(
        "/{manager_id:str}/certifications/{program:str}/extensions",
        operation_id="extendDeadline",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
        guards=[auditor_of_path_program],
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
        extended, result = await standing.extend_deadline(
            ledger, ctx, manager_id, program=program, until=data.ends_on, reason=data.reason
        )
        return ExtensionView.of(extended, result)
