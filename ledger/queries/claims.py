"""Claims and the providers' timeliness (SPEC 11), read from the `claims` read model once it
has seen every event so far (a claim just filed, fulfilled or disputed is listed as such).
The API and the pages answer with these same views."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from ledger.access.policy import WHOLE, ManagerScope
from ledger.domain.errors import NotFound
from ledger.queries.views import Recorded
from projections import claims_queries as q
from projections.claims_queries import ClaimCounts, ClaimRow

if TYPE_CHECKING:
    from events.catalog import AttendanceClaimed, ClaimDisputed
    from events.store import AppendResult
    from ledger.queries.reads import Reads

__all__ = [
    "CLAIM_STATES",
    "ClaimDisputedView",
    "ClaimFiledView",
    "ClaimRow",
    "ProviderTimeliness",
    "claims_of_manager",
    "claims_of_provider",
    "overdue_of_program",
    "timeliness",
]

ClaimFilter = Literal["open", "overdue", "fulfilled", "disputed", "all"]
CLAIM_STATES: tuple[ClaimFilter, ...] = ("open", "overdue", "fulfilled", "disputed", "all")


class ProviderTimeliness(msgspec.Struct, frozen=True, kw_only=True):
    """One provider's timeliness in one program: how long it takes to post, and its claims."""

    provider_id: str
    name: str
    postings: int
    """Completions it posted on activities counting for the program."""
    median_days: float | None
    """The median of the days from completed_on to posting (None: nothing posted)."""
    claims_open: int
    claims_overdue: int
    """Of the open ones, those past their window."""
    claims_fulfilled: int
    claims_disputed: int


async def claims_of_manager(
    reads: Reads, manager_id: str, *, scope: ManagerScope = WHOLE
) -> list[ClaimRow]:
    """The manager's claims, oldest first; an auditor sees those on activities counting for
    one of the programs it sees of the manager.  404 for an unknown manager."""
    await reads.profile(manager_id)
    async with reads.pool.acquire() as conn:
        await reads.caught_up(conn, "claims")
        rows = await q.claims_of_manager(conn, manager_id, reads.today())
    return [row for row in rows if scope.completion(row.programs)]


async def claims_of_provider(
    reads: Reads, provider_id: str, state: ClaimFilter = "open"
) -> list[ClaimRow]:
    """The claims on the provider's activities in `state` (overdue: open past the window)."""
    if await reads.catalogue.provider(provider_id) is None:
        raise NotFound("provider", provider_id)
    chosen = {"all": None, "overdue": "open"}.get(state, state)
    async with reads.pool.acquire() as conn:
        await reads.caught_up(conn, "claims")
        return await q.claims_of_provider(
            conn, provider_id, reads.today(), state=chosen, overdue=state == "overdue"
        )


async def overdue_of_program(reads: Reads, code: str) -> list[ClaimRow]:
    """The overdue claims on activities counting for the program (404 for an unknown one)."""
    await reads.catalogue.program(code)
    async with reads.pool.acquire() as conn:
        await reads.caught_up(conn, "claims")
        return await q.overdue_of_program(conn, code, reads.today())


async def timeliness(reads: Reads, code: str) -> list[ProviderTimeliness]:
    """Every provider approved for the program, or with postings or claims in it, by id."""
    await reads.catalogue.program(code)
    providers = await reads.catalogue.providers()
    async with reads.pool.acquire() as conn:
        await reads.caught_up(conn, "claims")
        histograms = await q.days_histograms(conn, code)
        counts = await q.claim_counts(conn, code, reads.today())
    ids = {p for p, known in providers.items() if code in known.programs}
    ids |= histograms.keys() | counts.keys()
    names = {p: known.name for p, known in providers.items()}
    return [
        _timeliness(
            provider_id,
            names.get(provider_id, ""),
            histograms.get(provider_id, []),
            counts.get(provider_id, ClaimCounts()),
        )
        for provider_id in sorted(ids)
    ]


def _timeliness(
    provider_id: str, name: str, histogram: list[tuple[int, int]], counts: ClaimCounts
) -> ProviderTimeliness:
    return ProviderTimeliness(
        provider_id=provider_id, name=name, postings=sum(n for _, n in histogram),
        median_days=q.median_days(histogram), claims_open=counts.open,
        claims_overdue=counts.overdue, claims_fulfilled=counts.fulfilled,
        claims_disputed=counts.disputed,
    )  # fmt: skip


class ClaimFiledView(Recorded, frozen=True, kw_only=True):
    """POST /v1/managers/{id}/claims: the claim filed, open, and where it was recorded."""

    claim_id: UUID
    manager_id: str
    activity_id: str
    provider_id: str
    completed_on: date
    note: str
    state: Literal["open"] = "open"

    @classmethod
    def of(cls, filed: AttendanceClaimed, result: AppendResult) -> ClaimFiledView:
        return cls(
            claim_id=filed.claim_id, manager_id=filed.manager_id, activity_id=filed.activity_id,
            provider_id=filed.provider_id, completed_on=filed.completed_on, note=filed.note,
            **Recorded.place(result),
        )  # fmt: skip


class ClaimDisputedView(Recorded, frozen=True, kw_only=True):
    """POST /v1/claims/{id}/dispute: the claim, now disputed, and the provider's reason."""

    claim_id: UUID
    manager_id: str
    activity_id: str
    provider_id: str
    state: Literal["disputed"] = "disputed"
    reason: str

    @classmethod
    def of(
        cls, filed: AttendanceClaimed, disputed: ClaimDisputed, result: AppendResult
    ) -> ClaimDisputedView:
        return cls(
            claim_id=filed.claim_id, manager_id=filed.manager_id, activity_id=filed.activity_id,
            provider_id=filed.provider_id, reason=disputed.reason, **Recorded.place(result),
        )  # fmt: skip
