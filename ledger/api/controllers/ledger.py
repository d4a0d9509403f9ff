"""The log itself, for auditors: the chain check."""

from __future__ import annotations

from litestar import Controller, get

from events.timeouts import ACQUIRE_TIMEOUT
from ledger.api.errors import READ_PROBLEMS
from ledger.http.guards import admin_or_auditor
from ledger.http.injected import CurrentPrincipal, LedgerDep, PoolDep
from projections.verification import VerificationReport, checkpoint_report

__all__ = ["LedgerController"]

VERIFY_TAIL = 200_000
"""Events past the verification checkpoint that GET /v1/ledger/verify hashes itself (about
0.2 s): the projector keeps the checkpoint within a batch of the head."""


class LedgerController(Controller):
    path = "/v1/ledger"
    tags = ("ledger",)
    guards = [admin_or_auditor]

    @get("/verify", operation_id="verifyLedger", responses=READ_PROBLEMS)
    async def verify_chain(
        self, principal: CurrentPrincipal, ledger: LedgerDep, pool: PoolDep
    ) -> VerificationReport:
        """The hash chain's check; names the first bad position if any.  Keep `head_hash`:
        a later report whose chain does not pass through it means history was rewritten.

        Answered from the verification projection's checkpoint (`checkpoint_position`, last
        advanced at `checked_at`) and the events past it, hashed here (at most
        `VERIFY_TAIL`: `checked_through` says how far); the whole log is walked here only
        while a re-check tripped by a changed stored event is under way."""
        async with pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
            return await checkpoint_report(conn, tail_limit=VERIFY_TAIL, store=ledger.store)
