"""Every read and write the web pages make, one small function per need.

The pages show the views the JSON API returns (ledger/api/views.py and the controllers' view
structs), built by the same code: the domain's `assess`, `transcript` and `cycle_reports`, the
read model's queries, the command layer.  No number is computed here a second time.

This is the one module to rewire when the API's read layer moves: each function below that
says "LEAD:" stands in for a route that does not exist yet (token list and revoke, provider
postings, activity and provider listings, audit listing) and should call that route's code.
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
from litestar.datastructures import State

from events.catalog import ActivityRegistered, CompletionRecorded, RenewalFiled
from events.chain import ChainReport, verify
from events.codec import decode
from ledger.api.auth import Created, Principal, Role, TokenStore
from ledger.api.controllers.associations import AuditView, DueView, register_csv
from ledger.api.controllers.completions import (
    BatchResult,
    CompletionView,
    _item_result,
    _posting,
)
from ledger.api.controllers.managers import _TRANSCRIPT_COLUMNS
from ledger.api.reads import Reads
from ledger.api.schemas import MAX_BATCH
from ledger.api.views import (
    ProgramView,
    ShortfallView,
    StatusView,
    certification_status,
    csv_text,
    program_view,
)
from ledger.commands import Context, Ledger, Posting
from ledger.commands.streams import load, provider_stream
from ledger.domain.assess import assess
from ledger.domain.catalogue import Activity, Provider, evolve_provider
from ledger.domain.errors import NotFound
from ledger.domain.reports import CycleReport, TranscriptLine, cycle_reports, transcript
from ledger.roster_csv import parse_roster_csv
from projections import ceu_queries
from projections.ceu_queries import RegisterRow

__all__ = [
    "TokenRow",
    "add_activity",
    "amend_completion",
    "audit",
    "completion_posting",
    "create_token",
    "decide_renewal",
    "draw_audit",
    "due_list",
    "extend_deadline",
    "file_renewal",
    "manager_cycles",
    "manager_status",
    "manager_transcript",
    "manager_transcript_csv",
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
    "renewal_register_csv",
    "revoke",
    "revoke_token",
    "session_principal",
    "tokens",
    "upload_roster",
    "verify_ledger",
    "void_completion",
]


def _ledger(app_state: State) -> Ledger:
    return app_state.ledger


def _reads(app_state: State) -> Reads:
    return app_state.reads


# --- who is signed in -------------------------------------------------------------------------


async def principal_for_token(app_state: State, token: str) -> Principal | None:
    """The principal a token stands for (the API's own check), or None if it is unknown."""
    store: TokenStore = app_state.tokens
    try:
        return await store.principal(f"Bearer {token}")
    except Exception:  # NotAuthorizedException: unknown, revoked or empty
        return None


async def session_principal(app_state: State, token_id: UUID) -> Principal | None:
    """The principal of a session's token, checked on every page: None once it is revoked.
    Uncached on purpose (TokenStore caches look-ups for 10 s).
    LEAD: replace with a TokenStore method when token revocation lands in the API."""
    row = await app_state.pool.fetchrow(
        "SELECT token_id, role, provider_id, manager_id, programs FROM api_tokens"
        " WHERE token_id = $1 AND revoked_at IS NULL",
        token_id,
    )
    if row is None:
        return None
    return Principal(
        token_id=row["token_id"],
        role=row["role"],
        provider_id=row["provider_id"],
        manager_id=row["manager_id"],
        programs=tuple(row["programs"]),
    )


# --- managers ---------------------------------------------------------------------------------


async def manager_status(app_state: State, manager_id: str) -> StatusView:
    """GET /v1/managers/{manager_id}/status, as ManagersController.status builds it."""
    reads, day = _reads(app_state), _ledger(app_state).today()
    record = await reads.record(manager_id)
    programs_ = await reads.programs()
    completions = list(record.completions.values())
    certifications = [
        certification_status(assess(cert, completions, programs_[code].versions, day))
        for code, cert in sorted(record.certifications.items())
    ]
    return StatusView(
        manager_id=manager_id, as_of=day, known_at=None, certifications=certifications
    )


async def manager_transcript(app_state: State, manager_id: str) -> list[TranscriptLine]:
    """GET /v1/managers/{manager_id}/transcript (every program)."""
    reads, day = _reads(app_state), _ledger(app_state).today()
    record = await reads.record(manager_id)
    return transcript(record, await reads.programs(), day, program=None)


async def manager_transcript_csv(app_state: State, manager_id: str) -> str:
    """GET /v1/managers/{manager_id}/transcript?format=csv."""
    lines = await manager_transcript(app_state, manager_id)
    rows = ({c: getattr(line, c) for c in _TRANSCRIPT_COLUMNS} for line in lines)
    return csv_text(_TRANSCRIPT_COLUMNS, rows)


async def manager_cycles(app_state: State, manager_id: str, program: str) -> list[CycleReport]:
    """GET /v1/managers/{manager_id}/cycles?program=."""
    reads = _reads(app_state)
    record = await reads.record(manager_id)
    if program not in record.certifications:
        raise NotFound(f"{program} certification for manager", manager_id)
    return cycle_reports(record, await reads.program(program), _ledger(app_state).today())


async def file_renewal(app_state: State, ctx: Context, manager_id: str, program: str) -> UUID:
    """POST /v1/managers/{manager_id}/renewals; RenewalNotReady lists the shortfalls."""
    filed, _ = await _ledger(app_state).file_renewal(ctx, manager_id, program=program)
    return filed.renewal_id


# --- providers --------------------------------------------------------------------------------


async def _events_of_type(app_state: State, event_type: str) -> list[Any]:
    store, after, found = _ledger(app_state).store, 0, []
    while batch := await store.read_all(after=after, limit=1000, types=[event_type]):
        found += [decode(r) for r in batch]
        after = batch[-1].position
    return found


async def providers(app_state: State) -> list[Provider]:
    """Every provider.  LEAD: GET /v1/providers."""
    store = _ledger(app_state).store
    ids = sorted({e.provider_id for e in await _events_of_type(app_state, "provider_registered")})
    found = [(await load(store, provider_stream(i), evolve_provider))[0] for i in ids]
    return [p for p in found if p is not None]


async def provider_activities(app_state: State, provider_id: str) -> list[Activity]:
    """A provider's activities.  LEAD: GET /v1/activities (by provider)."""
    ids = sorted(
        e.activity_id
        for e in await _events_of_type(app_state, "activity_registered")
        if e.provider_id == provider_id
    )
    found = [await _ledger(app_state).activity(i) for i in ids]
    return [a for a in found if a is not None]


async def add_activity(app_state: State, ctx: Context, activity: ActivityRegistered) -> None:
    """POST /v1/providers/{provider_id}/activities."""
    await _ledger(app_state).register_activity(ctx, activity)


async def upload_roster(
    app_state: State, ctx: Context, provider_id: str, csv_bytes: bytes
) -> BatchResult:
    """POST /v1/completions/batch with text/csv, as CompletionsController.post_batch does it."""
    items = parse_roster_csv(csv_bytes, max_lines=MAX_BATCH)
    parsed = [_posting(raw) for raw in items]
    postings = [p for p in parsed if isinstance(p, Posting)]
    outcomes = iter(await _ledger(app_state).record_completions(ctx, provider_id, postings))
    results = [
        _item_result(p.external_id, next(outcomes)) if isinstance(p, Posting) else p for p in parsed
    ]
    count = {s: sum(r.status == s for r in results) for s in ("created", "duplicate", "rejected")}
    return BatchResult(**count, results=results)


async def provider_postings(
    app_state: State, provider_id: str, manager_id: str | None = None
) -> list[CompletionView]:
    """A provider's own postings, newest first.
    LEAD: GET /v1/providers/{provider_id}/completions?manager_id=."""
    store = _ledger(app_state).store
    after, views = 0, []
    while batch := await store.read_all(after=after, limit=1000, types=["completion_recorded"]):
        after = batch[-1].position
        for recorded in batch:
            event = decode(recorded)
            assert isinstance(event, CompletionRecorded)
            if event.provider_id != provider_id:
                continue
            if manager_id and event.manager_id != manager_id:
                continue
            views.append(await _completion_view(app_state, event, recorded.position))
    return views[::-1]


async def _completion_view(
    app_state: State, event: CompletionRecorded, position: int
) -> CompletionView:
    """GET /v1/completions/{id}, as the completions controller's `_view` builds it."""
    completion = (await _reads(app_state).record(event.manager_id)).completions[event.completion_id]
    return CompletionView(
        id=event.completion_id,
        external_id=completion.external_id,
        provider_id=completion.provider_id,
        manager_id=event.manager_id,
        activity_id=completion.activity_id,
        activity_title=completion.activity_title,
        category=completion.category,
        programs=completion.programs,
        completed_on=completion.completed_on,
        ceus=completion.ceus,
        posted_at=completion.posted_at,
        position=position,
        voided=completion.voided,
        amended=completion.amended,
        history=completion.history,
    )


async def completion_posting(app_state: State, completion_id: UUID) -> CompletionRecorded | None:
    """The posting itself (who posted it, for whom), to decide who may correct it."""
    found = await _ledger(app_state).completion(completion_id)
    return None if found is None else found[0]


async def void_completion(
    app_state: State, ctx: Context, completion_id: UUID, *, reason: str, provider_id: str | None
) -> None:
    """POST /v1/completions/{id}/void (provider_id: the correcting provider, window applies)."""
    await _ledger(app_state).void_completion(
        ctx, completion_id, reason=reason, provider_id=provider_id
    )


async def amend_completion(
    app_state: State,
    ctx: Context,
    completion_id: UUID,
    *,
    reason: str,
    ceus: Decimal | None,
    completed_on: date | None,
    provider_id: str | None,
) -> None:
    """POST /v1/completions/{id}/amend."""
    await _ledger(app_state).amend_completion(
        ctx,
        completion_id,
        reason=reason,
        ceus=ceus,
        completed_on=completed_on,
        provider_id=provider_id,
    )


# --- associations -----------------------------------------------------------------------------


async def renewal_register(
    app_state: State,
    code: str,
    *,
    state: str | None = None,
    cycle_ends_from: date | None = None,
    cycle_ends_to: date | None = None,
) -> list[RegisterRow]:
    """GET /v1/programs/{code}/renewals, as ProgramAssociationController.register reads it."""
    reads = _reads(app_state)
    await reads.program(code)
    async with app_state.pool.acquire() as conn:
        await reads.caught_up(conn)
        return await ceu_queries.renewal_register(
            conn, code, state=state, cycle_ends_from=cycle_ends_from, cycle_ends_to=cycle_ends_to
        )


async def renewal_register_csv(app_state: State, code: str, **filters: Any) -> str:
    """GET /v1/programs/{code}/renewals?format=csv."""
    return register_csv(await renewal_register(app_state, code, **filters))


async def due_list(app_state: State, code: str, within_days: int = 90) -> list[DueView]:
    """GET /v1/programs/{code}/due, as ProgramAssociationController.due builds it."""
    reads, today = _reads(app_state), _ledger(app_state).today()
    program = await reads.program(code)
    async with app_state.pool.acquire() as conn:
        await reads.caught_up(conn)
        due = await ceu_queries.due_certifications(conn, code, today=today, within_days=within_days)
    views = []
    for row in due:
        record = await reads.record(row.manager_id)
        a = assess(
            record.certifications[code], list(record.completions.values()), program.versions, today
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
                    ShortfallView(requirement=s.requirement, category=s.category, missing=s.missing)
                    for s in a.shortfalls
                ],
            )
        )
    return views


async def renewal_evidence(
    app_state: State, renewal_id: UUID
) -> tuple[RenewalFiled, RegisterRow | None]:
    """The filing with its frozen evidence, and its line of the register (state, decision)."""
    filed = await _ledger(app_state).filed_renewal(renewal_id)
    rows = await renewal_register(app_state, filed.program)
    return filed, next((r for r in rows if r.renewal_id == renewal_id), None)


async def decide_renewal(
    app_state: State, ctx: Context, renewal_id: UUID, *, approve: bool, reason: str
) -> None:
    """POST /v1/renewals/{renewal_id}/decision."""
    await _ledger(app_state).decide_renewal(ctx, renewal_id, approve=approve, reason=reason)


async def program_audits(app_state: State, code: str) -> list[AuditView]:
    """The program's audits, newest first.  LEAD: an audit listing route."""
    async with app_state.pool.acquire() as conn:
        await _reads(app_state).caught_up(conn)
        ids = await conn.fetch(
            "SELECT audit_id FROM ceu_audits WHERE program = $1 ORDER BY drawn_at DESC", code
        )
        found = [await ceu_queries.audit(conn, row[0]) for row in ids]
    return [AuditView.of(drawn, findings) for drawn, findings in filter(None, found)]


async def audit(app_state: State, audit_id: UUID) -> AuditView | None:
    """GET /v1/audits/{audit_id}, as AuditsController.get_audit builds it."""
    drawn = await _ledger(app_state).audit(audit_id)
    if drawn is None:
        return None
    async with app_state.pool.acquire() as conn:
        await _reads(app_state).caught_up(conn)
        found = await ceu_queries.audit(conn, audit_id)
    return AuditView.of(drawn, found[1] if found else [])


async def draw_audit(
    app_state: State,
    ctx: Context,
    code: str,
    *,
    filed_from: date,
    filed_to: date,
    rate: Decimal | None,
    seed: int | None,
) -> AuditView:
    """POST /v1/programs/{code}/audits, as ProgramAssociationController.draw does it."""
    reads = _reads(app_state)
    program = await reads.program(code)
    async with app_state.pool.acquire() as conn:
        await reads.caught_up(conn)
        population = await ceu_queries.audit_population(conn, code, filed_from, filed_to)
    drawn = await _ledger(app_state).draw_audit(
        ctx,
        program=code,
        filed_from=filed_from,
        filed_to=filed_to,
        rate=rate if rate is not None else program.versions[-1].audit_rate,
        seed=seed if seed is not None else secrets.randbits(52),
        population=population,
    )
    return AuditView.of(drawn)


async def record_finding(
    app_state: State, ctx: Context, audit_id: UUID, *, renewal_id: UUID, passed: bool, note: str
) -> None:
    """POST /v1/audits/{audit_id}/findings."""
    await _ledger(app_state).record_finding(
        ctx, audit_id, renewal_id=renewal_id, passed=passed, note=note
    )


async def revoke(
    app_state: State, ctx: Context, manager_id: str, program: str, reason: str
) -> None:
    """LEAD: POST /v1/managers/{manager_id}/certifications/{program}/revoke."""
    await _ledger(app_state).revoke(ctx, manager_id, program=program, reason=reason)


async def reinstate(
    app_state: State, ctx: Context, manager_id: str, program: str, reason: str
) -> None:
    """LEAD: POST /v1/managers/{manager_id}/certifications/{program}/reinstate."""
    await _ledger(app_state).reinstate(ctx, manager_id, program=program, reason=reason)


async def extend_deadline(
    app_state: State, ctx: Context, manager_id: str, program: str, until: date, reason: str
) -> None:
    """LEAD: POST /v1/managers/{manager_id}/certifications/{program}/extensions."""
    await _ledger(app_state).extend_deadline(
        ctx, manager_id, program=program, until=until, reason=reason
    )


async def verify_ledger(app_state: State) -> ChainReport:
    """GET /v1/ledger/verify."""
    return await verify(_ledger(app_state).store)


# --- admin ------------------------------------------------------------------------------------


class TokenRow(msgspec.Struct, frozen=True, kw_only=True):
    """A token as the list shows it: never the secret."""

    token_id: UUID
    role: str
    provider_id: str | None
    manager_id: str | None
    programs: list[str]
    created_at: Any
    created_by: str
    revoked_at: Any


async def tokens(app_state: State) -> list[TokenRow]:
    """LEAD: GET /v1/tokens."""
    rows = await app_state.pool.fetch(
        "SELECT token_id, role, provider_id, manager_id, programs, created_at, created_by,"
        " revoked_at FROM api_tokens ORDER BY created_at DESC, token_id"
    )
    return [TokenRow(**dict(row)) for row in rows]


async def create_token(
    app_state: State,
    principal: Principal,
    *,
    role: Role,
    provider_id: str | None,
    manager_id: str | None,
    programs: tuple[str, ...],
) -> Created:
    """POST /v1/tokens (the caller has checked the scope fields as TokensController does)."""
    store: TokenStore = app_state.tokens
    return await store.create(
        role=role,
        created_by=principal.actor.id,
        provider_id=provider_id,
        manager_id=manager_id,
        programs=programs,
    )


async def revoke_token(app_state: State, token_id: UUID) -> bool:
    """LEAD: POST /v1/tokens/{token_id}/revoke.  True if a live token was revoked.
    (TokenStore's 10 s cache may still let the API accept it that long; the pages do not.)"""
    status = await app_state.pool.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL",
        token_id,
    )
    store: TokenStore = app_state.tokens
    store._cache.clear()  # LEAD: this process at once; other processes within the cache TTL
    return status.endswith(" 1")


async def programs(app_state: State) -> list[ProgramView]:
    """GET /v1/programs."""
    return [program_view(p) for _, p in sorted((await _reads(app_state).programs()).items())]


async def register_provider(
    app_state: State, ctx: Context, *, provider_id: str, name: str, programs: tuple[str, ...]
) -> None:
    """POST /v1/providers."""
    await _ledger(app_state).register_provider(
        ctx, provider_id=provider_id, name=name, programs=programs
    )
