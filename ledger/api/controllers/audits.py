"""Audits: an audit draw and the findings recorded on its selected renewals."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from ledger.api.errors import READ_PROBLEMS, WRITE_PROBLEMS
from ledger.commands import audits as cmd
from ledger.commands.loaders import find_audit
from ledger.commands.messages import RecordFinding
from ledger.http.guards import auditor, deny_unless
from ledger.http.injected import CurrentPrincipal, LedgerDep, ReadsDep, RequestContext
from ledger.queries.self_reports import AuditEvidenceView, audit_evidence
from ledger.queries.views import FindingView

__all__ = ["AuditsController"]


def _may_audit(principal: CurrentPrincipal, program: str) -> None:
    """An audit is its program's association's: SPEC section 6 names auditors only, not admins
    (as for decisions and findings).  The route's guard has let in auditors; the audit's
    program is known once it is looked up."""
    deny_unless(principal.audits(program), f"only an auditor of {program}")


class AuditsController(Controller):
    path = "/v1/audits"
    tags = ("associations",)
    guards = [auditor]

    @get("/{audit_id:uuid}", operation_id="getAudit", responses=READ_PROBLEMS)
    async def get_audit(
        self, audit_id: FromPath[UUID], principal: CurrentPrincipal, reads: ReadsDep
    ) -> AuditEvidenceView:
        """An audit draw: its seed, population, selection and the findings so far; each
        selected renewal's counted completions, with the evidence file of a self-report."""
        view = await reads.audit(audit_id)
        _may_audit(principal, view.program)
        return await audit_evidence(reads, view)

    @post(
        "/{audit_id:uuid}/findings",
        operation_id="recordFinding",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_201_CREATED,
    )
    async def finding(
        self,
        audit_id: FromPath[UUID],
        data: JSONBody[RecordFinding],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> FindingView:
        """Record the audit of one selected renewal; a failed one revokes the certification."""
        drawn = await find_audit(ledger.store, audit_id)
        _may_audit(principal, drawn.program)
        result = await cmd.record_finding(ledger, ctx, audit_id, data)
        return FindingView(
            audit_id=audit_id,
            renewal_id=data.renewal_id,
            outcome=data.outcome,
            note=data.note,
            revoked=data.outcome == "failed" and result.last_position > result.first_position,
            position=result.first_position,
        )
