"""Audits: a random draw over the renewals filed in a window, and the finding on each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.catalog import AuditSampleDrawn
from ledger.commands.base import write, write_enrolled
from ledger.commands.loaders import find_audit, find_renewal
from ledger.commands.streams import audit_stream
from ledger.domain import audit
from ledger.domain import standing as rules

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal
    from uuid import UUID

    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger

__all__ = ["draw_audit", "record_finding"]


async def _new_stream() -> tuple[None, int]:
    """The state of a stream that must not exist yet: appended expecting version 0."""
    return None, 0


async def draw_audit(
    ledger: Ledger, ctx: Context, *, program: str, filed_from: date, filed_to: date,
    rate: Decimal, seed: int, population: list[UUID],
) -> AuditSampleDrawn:  # fmt: skip
    """Record a draw over `population`: the renewals filed in the window, from the register."""
    await ledger.catalogue.program(program)
    drawn = AuditSampleDrawn(
        audit_id=ledger.new_id(),
        program=program,
        filed_from=filed_from,
        filed_to=filed_to,
        rate=rate,
        seed=seed,
        population=tuple(sorted(set(population))),
        selected=audit.select(population, rate, seed),
    )
    await write(ledger, ctx, audit_stream(drawn.audit_id), _new_stream, lambda _: [drawn])
    return drawn


async def record_finding(
    ledger: Ledger, ctx: Context, audit_id: UUID, *, renewal_id: UUID, passed: bool, note: str
) -> AppendResult:
    drawn = await find_audit(ledger.store, audit_id)
    filed = await find_renewal(ledger.store, renewal_id)
    written = await write_enrolled(
        ledger,
        ctx,
        filed.manager_id,
        lambda record: rules.record_finding(
            record, filed.program, audit_id=audit_id, selected=drawn.selected,
            renewal_id=renewal_id, passed=passed, note=note,
        ),
    )  # fmt: skip
    return written.result
