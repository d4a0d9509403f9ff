"""Every read and write the web pages make, one small function per need.

Each one calls exactly what the matching API route calls: the read side (ledger/queries/reads.py,
which returns the API's own views) or a command handler (ledger/commands).  A page therefore
shows the numbers the JSON API gives, computed once, by the domain's pure functions.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
from litestar.datastructures import State

from events.catalog import ActivityRegistered, CompletionRecorded, FeePaid, RenewalFiled, Rules
from events.chain import ChainReport, verify
from ledger.access.errors import Unauthenticated
from ledger.access.policy import WHOLE, ManagerScope
from ledger.access.principals import Principal, Role
from ledger.access.tokens import Created, TokenEntry, TokenStore
from ledger.api.controllers.notices import notices_of
from ledger.api.rosters import batch_result, read_batch
from ledger.commands import (
    Context,
    Ledger,
    audits,
    catalogue,
    completions,
    managers,
    renewals,
)
from ledger.commands import standing as standings
from ledger.commands.loaders import find_completion, find_fee, find_renewal
from ledger.commands.messages import AmendCompletion, PostCompletion, VoidCompletion
from ledger.commands.rosters import record_completions
from ledger.credentials.service import CredentialService
from ledger.domain.catalogue import Activity
from ledger.domain.errors import FieldError, NotFound
from ledger.domain.record import ManagerRecord
from ledger.domain.reports import CycleReport, RenewalReport, TranscriptLine
from ledger.http.positions import chosen_reads
from ledger.queries.reads import Reads
from ledger.queries.views import (
    AuditView,
    BatchResult,
    CompletionView,
    DueView,
    NoticesView,
    PostingsPage,
    ProgramView,
    StatusView,
)
from projections.ceu_queries import RegisterRow

__all__ = [
    "Credential",
    "DueLine",
    "Standing",
    "associations",
    "credentials_of",
    "due_lines",
    "enroll_manager",
    "fee_paid",
    "grant_certification",
    "manager_names",
    "manager_record",
    "pay_fee",
    "refund_fee",
    "standing_of",
    "add_activity",
    "amend_completion",
    "audit",
    "completion",
    "completion_posting",
    "create_token",
    "decide_renewal",
    "define_program",
    "draw_audit",
    "due_list",
    "extend_deadline",
    "file_renewal",
    "manager_cycles",
    "manager_notices",
    "manager_status",
    "post_completion",
    "manager_transcript",
    "principal_for_token",
    "program_audits",
    "programs",
    "provider_activities",
    "provider_postings",
    "providers",
    "record_finding",
    "register_provider",
    "reinstate",
    "renewal_evidence",
    "renewal_register",
    "revoke",
    "revise_rules",
    "revoke_token",
    "session_principal",
    "spreadsheet_header",
    "tokens",
    "unknown_scope",
    "upload_roster",
    "upload_roster_lines",
    "verify_ledger",
    "void_completion",
]


def _ledger(app_state: State) -> Ledger:
    return app_state.ledger


def _reads(app_state: State) -> Reads:
    """A replica's reads if PositionsMiddleware chose one for this request (having waited
    for the session's last write, its `ledger_position` cookie), else the primary's."""
    return chosen_reads() or app_state.reads


def _tokens(app_state: State) -> TokenStore:
    return app_state.tokens


# --- who is signed in -------------------------------------------------------------------------


async def principal_for_token(app_state: State, token: str) -> Principal | None:
    """The principal a token stands for (the API's own check), or None if it is unknown."""
    try:
        return await _tokens(app_state).principal(f"Bearer {token}")
    except Unauthenticated:
        return None


async def session_principal(app_state: State, token_id: UUID) -> Principal | None:
    """The principal of a session's token, checked on every page: None once it is revoked."""
    return await _tokens(app_state).principal_of(token_id)


# --- managers ---------------------------------------------------------------------------------


async def manager_status(
    app_state: State, manager_id: str, scope: ManagerScope = WHOLE
) -> StatusView:
    """GET /v1/managers/{manager_id}/status, as `scope` sees it (ledger/access/policy.py)."""
    return await _reads(app_state).status(manager_id, scope=scope)


async def manager_transcript(
    app_state: State, manager_id: str, program: str | None = None, scope: ManagerScope = WHOLE
) -> list[TranscriptLine]:
    """GET /v1/managers/{manager_id}/transcript?program= (default every program).  An
    association's page asks for its program only, so that a line's state is that program's
    and never another's (ledger/access/policy.py)."""
    return await _reads(app_state).transcript(manager_id, program, scope=scope)


async def manager_cycles(
    app_state: State, manager_id: str, program: str, scope: ManagerScope = WHOLE
) -> list[CycleReport]:
    """GET /v1/managers/{manager_id}/cycles?program=."""
    return await _reads(app_state).cycles(manager_id, program, scope=scope)


async def manager_notices(
    app_state: State, manager_id: str, scope: ManagerScope = WHOLE
) -> NoticesView:
    """GET /v1/managers/{manager_id}/notices."""
    return await notices_of(_reads(app_state), manager_id, scope=scope)


async def file_renewal(app_state: State, ctx: Context, manager_id: str, program: str) -> UUID:
    """POST /v1/managers/{manager_id}/renewals; RenewalNotReady lists the shortfalls."""
    filed, _ = await renewals.file_renewal(_ledger(app_state), ctx, manager_id, program=program)
    return filed.renewal_id


# --- providers --------------------------------------------------------------------------------


async def providers(app_state: State) -> list[Any]:
    """GET /v1/providers."""
    return await _reads(app_state).providers()


async def provider_activities(app_state: State, provider_id: str) -> list[Activity]:
    """GET /v1/activities, this provider's."""
    return [a for a in await _reads(app_state).activities() if a.provider_id == provider_id]


async def add_activity(app_state: State, ctx: Context, activity: ActivityRegistered) -> None:
    """POST /v1/providers/{provider_id}/activities."""
    await catalogue.register_activity(_ledger(app_state), ctx, activity)


async def upload_roster(
    app_state: State, ctx: Context, provider_id: str, csv_bytes: bytes
) -> BatchResult:
    """POST /v1/completions/batch with text/csv."""
    parsed = await read_batch(csv_bytes, "text/csv")
    postings = [p for p in parsed if isinstance(p, PostCompletion)]
    outcomes = await record_completions(_ledger(app_state), ctx, provider_id, postings)
    return batch_result(parsed, outcomes)


async def provider_postings(
    app_state: State, provider_id: str, manager_id: str | None = None
) -> PostingsPage:
    """GET /v1/providers/{provider_id}/completions?manager_id= (its first page)."""
    return await _reads(app_state).postings(provider_id, manager_id=manager_id, after=0, limit=500)


async def completion_posting(app_state: State, completion_id: UUID) -> CompletionRecorded | None:
    """The posting itself (who posted it, for whom), to decide who may correct it."""
    found = await find_completion(_ledger(app_state).store, completion_id)
    return None if found is None else found[0]


async def void_completion(
    app_state: State, ctx: Context, completion_id: UUID, message: VoidCompletion, *,
    provider_id: str | None,
) -> None:  # fmt: skip
    """POST /v1/completions/{id}/void (provider_id: the correcting provider, window applies)."""
    await completions.void_completion(
        _ledger(app_state), ctx, completion_id, message, provider_id=provider_id
    )


async def amend_completion(
    app_state: State, ctx: Context, completion_id: UUID, message: AmendCompletion, *,
    provider_id: str | None,
) -> None:  # fmt: skip
    """POST /v1/completions/{id}/amend."""
    await completions.amend_completion(
        _ledger(app_state), ctx, completion_id, message, provider_id=provider_id
    )


# --- associations -----------------------------------------------------------------------------


async def renewal_register(
    app_state: State, code: str, *, state: str | None = None,
    cycle_ends_from: date | None = None, cycle_ends_to: date | None = None,
) -> list[RegisterRow]:  # fmt: skip
    """GET /v1/programs/{code}/renewals."""
    return await _reads(app_state).register(
        code, state=state, cycle_ends_from=cycle_ends_from, cycle_ends_to=cycle_ends_to
    )


async def due_list(app_state: State, code: str, within_days: int = 90) -> list[DueView]:
    """GET /v1/programs/{code}/due."""
    return await _reads(app_state).due(code, within_days=within_days)


async def renewal_evidence(
    app_state: State, renewal_id: UUID
) -> tuple[RenewalFiled, RegisterRow | None]:
    """The filing with its frozen evidence, and its line of the register (state, decision)."""
    filed = await find_renewal(_ledger(app_state).store, renewal_id)
    rows = await renewal_register(app_state, filed.program)
    return filed, next((r for r in rows if r.renewal_id == renewal_id), None)


async def decide_renewal(
    app_state: State, ctx: Context, renewal_id: UUID, *, approve: bool, reason: str
) -> None:
    """POST /v1/renewals/{renewal_id}/decision."""
    await renewals.decide_renewal(
        _ledger(app_state), ctx, renewal_id, approve=approve, reason=reason
    )


async def program_audits(app_state: State, code: str) -> list[AuditView]:
    """The program's audits, newest first."""
    return await _reads(app_state).audits(code)


async def audit(app_state: State, audit_id: UUID) -> AuditView | None:
    """GET /v1/audits/{audit_id}; None if there is no such audit."""
    try:
        return await _reads(app_state).audit(audit_id)
    except NotFound:
        return None


async def draw_audit(
    app_state: State, ctx: Context, code: str, *, filed_from: date, filed_to: date,
    rate: Decimal | None, seed: int | None,
) -> AuditView:  # fmt: skip
    """POST /v1/programs/{code}/audits."""
    reads = _reads(app_state)
    program = await reads.program(code)
    drawn = await audits.draw_audit(
        _ledger(app_state), ctx, program=code, filed_from=filed_from, filed_to=filed_to,
        rate=rate if rate is not None else program.versions[-1].audit_rate,
        seed=seed if seed is not None else secrets.randbits(53),
        population=await reads.audit_population(code, filed_from, filed_to),
    )  # fmt: skip
    return AuditView.of(drawn)


async def record_finding(
    app_state: State, ctx: Context, audit_id: UUID, *, renewal_id: UUID, passed: bool, note: str
) -> None:
    """POST /v1/audits/{audit_id}/findings."""
    await audits.record_finding(
        _ledger(app_state), ctx, audit_id, renewal_id=renewal_id, passed=passed, note=note
    )


async def revoke(
    app_state: State, ctx: Context, manager_id: str, program: str, reason: str
) -> None:
    """POST /v1/managers/{manager_id}/certifications/{program}/revoke."""
    await standings.revoke(_ledger(app_state), ctx, manager_id, program=program, reason=reason)


async def reinstate(
    app_state: State, ctx: Context, manager_id: str, program: str, reason: str
) -> None:
    """POST /v1/managers/{manager_id}/certifications/{program}/reinstate."""
    await standings.reinstate(_ledger(app_state), ctx, manager_id, program=program, reason=reason)


async def extend_deadline(
    app_state: State, ctx: Context, manager_id: str, program: str, until: date, reason: str
) -> None:
    """POST /v1/managers/{manager_id}/certifications/{program}/extensions."""
    await standings.extend_deadline(
        _ledger(app_state), ctx, manager_id, program=program, until=until, reason=reason
    )


async def verify_ledger(app_state: State) -> ChainReport:
    """GET /v1/ledger/verify."""
    return await verify(_ledger(app_state).store)


# --- admin ------------------------------------------------------------------------------------


async def tokens(app_state: State) -> list[TokenEntry]:
    """GET /v1/tokens, newest first."""
    return (await _tokens(app_state).entries())[::-1]


async def create_token(
    app_state: State, principal: Principal, *, role: Role, provider_id: str | None,
    manager_id: str | None, programs: tuple[str, ...],
) -> Created:  # fmt: skip
    """POST /v1/tokens (the caller has checked the scope fields as TokensController does)."""
    return await _tokens(app_state).create(
        role=role, created_by=principal.actor.id, provider_id=provider_id,
        manager_id=manager_id, programs=programs,
    )  # fmt: skip


async def revoke_token(app_state: State, token_id: UUID) -> bool:
    """POST /v1/tokens/{token_id}/revoke.  True if there was such a token."""
    return await _tokens(app_state).revoke(token_id) is not None


async def programs(app_state: State) -> list[ProgramView]:
    """GET /v1/programs."""
    return await _reads(app_state).programs()


async def register_provider(
    app_state: State, ctx: Context, *, provider_id: str, name: str, programs: tuple[str, ...]
) -> None:
    """POST /v1/providers."""
    await catalogue.register_provider(
        _ledger(app_state), ctx, provider_id=provider_id, name=name, programs=programs
    )


# manager and program pages ---------------------------------------------------------------------


class Credential(msgspec.Struct, frozen=True, kw_only=True):
    """An approved renewal's documents, for its holder's page: the certificate PDF, the signed
    credential and the public link to share."""

    program: str
    renewal_id: UUID
    cycle: int
    approved_at: datetime
    credential_id: UUID
    valid_until: datetime
    verify_url: str


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    """The last revocation of a certification still revoked: when, by whom, why."""

    at: datetime
    association: str
    reason: str


class DueLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line of the association's due list: the API's due view (or, for a lapsed
    certification, the same figures from the status), with the name and the renewal's state."""

    manager_id: str
    name: str
    status: str
    deadline: date
    days_to_deadline: int
    ceus_earned: Decimal
    ceus_required: Decimal
    shortfalls: tuple[Any, ...]
    renewal_state: str | None
    renewal_at: datetime | None


async def manager_record(app_state: State, manager_id: str) -> ManagerRecord:
    """The manager's record now (name, fees, standing), as the status read folds it."""
    return await _reads(app_state).record(manager_id)


async def manager_names(app_state: State, code: str) -> dict[str, str]:
    """Manager id -> name, of every manager certified in `code`: GET /v1/managers?program=,
    the read that shows an association the managers of its program, page by page."""
    names: dict[str, str] = {}
    after = 0
    while True:
        page = await _reads(app_state).managers_list(
            program=code, q=None, status=None, after=after, limit=500
        )
        names.update((m.manager_id, m.name) for m in page.managers)
        if page.next_after is None:
            return names
        after = page.next_after


async def associations(app_state: State) -> dict[str, str]:
    """Program code -> its association's name (who revokes, who issues)."""
    return {p.code: p.association for p in await programs(app_state)}


def standing_of(record: ManagerRecord, program: str, association: str) -> Standing | None:
    """The revocation that holds now, if the certification is revoked."""
    cert = record.certifications.get(program)
    if cert is None or not cert.revoked:
        return None
    last = cert.standing[-1]
    return Standing(at=last.at, association=association, reason=last.reason)


async def credentials_of(
    app_state: State, record: ManagerRecord, held: tuple[str, ...]
) -> list[Credential]:
    """Every approved renewal's credential among the programs `held` (issued on first ask,
    as GET /v1/renewals/{id}/credential does), newest first."""
    service: CredentialService = app_state.credentials
    found = []
    for code in held:
        for renewal in record.certifications[code].renewals:
            if renewal.state != "approved" or renewal.decided_at is None:
                continue
            issued = await service.for_renewal(renewal.renewal_id)
            found.append(
                Credential(
                    program=code,
                    renewal_id=renewal.renewal_id,
                    cycle=renewal.cycle,
                    approved_at=renewal.decided_at,
                    credential_id=issued.credential_id,
                    valid_until=issued.valid_until,
                    verify_url=f"{service.public_url}/verify/{issued.credential_id}",
                )
            )
    return sorted(found, key=lambda c: c.approved_at, reverse=True)


async def due_lines(app_state: State, code: str, within_days: int = 90) -> list[DueLine]:
    """GET /v1/programs/{code}/due, then the program's lapsed certifications (which the due
    read leaves out), each with the manager's name and its renewal's state."""
    reads = _reads(app_state)
    lines = []
    for d in await due_list(app_state, code, within_days):
        record = await reads.record(d.manager_id)
        lines.append(_due_line(d, record.name, await _focus_renewal(app_state, d.manager_id, code)))
    seen = {line.manager_id for line in lines}
    lapsed = await reads.managers_list(program=code, q=None, status="lapsed", after=0, limit=500)
    for row in lapsed.managers:
        if row.manager_id in seen:
            continue
        status = await manager_status(app_state, row.manager_id)
        cert = next(c for c in status.certifications if c.program == code)
        due = DueView(
            manager_id=row.manager_id, program=code, status=cert.status, cycle=cert.cycle.number,
            deadline=cert.cycle.deadline, grace_ends_on=cert.cycle.grace_ends_on,
            days_to_deadline=cert.days_to_deadline, ceus_earned=cert.ceus_earned,
            ceus_required=cert.ceus_required, renewal_ready=cert.renewal_ready,
            shortfalls=cert.shortfalls,
        )  # fmt: skip
        lines.append(_due_line(due, row.name, cert.renewal))
    return lines


async def _focus_renewal(app_state: State, manager_id: str, code: str) -> RenewalReport | None:
    status = await manager_status(app_state, manager_id)
    return next(c.renewal for c in status.certifications if c.program == code)


def _due_line(d: DueView, name: str, renewal: RenewalReport | None) -> DueLine:
    return DueLine(
        manager_id=d.manager_id, name=name, status=d.status, deadline=d.deadline,
        days_to_deadline=d.days_to_deadline, ceus_earned=d.ceus_earned,
        ceus_required=d.ceus_required, shortfalls=tuple(d.shortfalls),
        renewal_state=None if renewal is None else renewal.state,
        renewal_at=None if renewal is None else (renewal.decided_at or renewal.filed_at),
    )  # fmt: skip


async def enroll_manager(
    app_state: State, ctx: Context, *, manager_id: str, name: str, email: str
) -> None:
    """POST /v1/managers."""
    await managers.enroll_manager(
        _ledger(app_state), ctx, manager_id=manager_id, name=name, email=email
    )


async def grant_certification(
    app_state: State, ctx: Context, manager_id: str, *, program: str, certified_on: date
) -> None:
    """POST /v1/managers/{manager_id}/certifications."""
    await managers.grant_certification(
        _ledger(app_state), ctx, manager_id, program=program, certified_on=certified_on
    )


async def pay_fee(
    app_state: State, ctx: Context, manager_id: str, *, program: str, amount_cents: int,
    reference: str,
) -> UUID:  # fmt: skip
    """POST /v1/managers/{manager_id}/fees."""
    fee_id, _ = await renewals.pay_fee(
        _ledger(app_state), ctx, manager_id, program=program, amount_cents=amount_cents,
        reference=reference,
    )  # fmt: skip
    return fee_id


async def fee_paid(app_state: State, fee_id: UUID) -> FeePaid:
    """The fee as paid (who, which program), to decide who may refund it."""
    return await find_fee(_ledger(app_state).store, fee_id)


async def refund_fee(
    app_state: State, ctx: Context, fee_id: UUID, *, amount_cents: int, reason: str
) -> None:
    """POST /v1/fees/{fee_id}/refund."""
    await renewals.refund_fee(
        _ledger(app_state), ctx, fee_id, amount_cents=amount_cents, reason=reason
    )


# provider and admin pages ---------------------------------------------------------------------


async def unknown_scope(
    app_state: State, *, provider_id: str | None, manager_id: str | None, programs: list[str]
) -> list[FieldError]:
    """What POST /v1/tokens refuses beyond the shape: a provider, manager or program the
    ledger does not know (as `ceu-ledger token create` does)."""
    return await _tokens(app_state).unknown_scope(
        provider_id=provider_id, manager_id=manager_id, programs=programs
    )


async def revise_rules(app_state: State, ctx: Context, code: str, rules: Rules) -> None:
    """POST /v1/programs/{code}/rules."""
    await catalogue.revise_rules(_ledger(app_state), ctx, code, rules)


async def upload_roster_lines(
    app_state: State, ctx: Context, provider_id: str, csv_bytes: bytes
) -> BatchResult:
    """POST /v1/completions/batch with text/csv, the header read as a spreadsheet writes it:
    `External ID` for external_id (any case, spaces for underscores, a byte order mark)."""
    return await upload_roster(app_state, ctx, provider_id, spreadsheet_header(csv_bytes))


def spreadsheet_header(csv_bytes: bytes) -> bytes:
    """The roster with its first line's names in the API's spelling; the lines unchanged."""
    body = csv_bytes.removeprefix(b"\xef\xbb\xbf")
    first, newline, rest = body.partition(b"\n")
    names = first.rstrip(b"\r").split(b",")
    spelled = b",".join(b"_".join(name.strip(b' "').lower().split()) for name in names)
    return spelled + (b"\r" if first.endswith(b"\r") else b"") + newline + rest


async def post_completion(
    app_state: State, ctx: Context, provider_id: str, posting: PostCompletion
) -> completions.Posted:
    """POST /v1/completions: created, or the receipt of the same posting made before."""
    return await completions.record_completion(_ledger(app_state), ctx, provider_id, posting)


async def define_program(
    app_state: State, ctx: Context, *, code: str, name: str, association: str, rules: Rules
) -> None:
    """POST /v1/programs."""
    await catalogue.define_program(
        _ledger(app_state), ctx, code=code, name=name, association=association, rules=rules
    )


async def completion(app_state: State, completion_id: UUID) -> CompletionView:
    """GET /v1/completions/{id}: the posting with its history (when it was voided, and why)."""
    return await _reads(app_state).completion(completion_id)
