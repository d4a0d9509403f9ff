"""Audits: a random draw over the renewals filed in a window, and the finding on each.  Each
command takes its message (ledger/commands/messages.py) as the API and the pages decode it."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from events.catalog import AuditSampleDrawn
from ledger.commands.base import write, write_enrolled
from ledger.commands.loaders import find_audit, find_renewal
from ledger.commands.streams import audit_stream
from ledger.domain import audit
from ledger.domain import standing as rules

if TYPE_CHECKING:
    from uuid import UUID

    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger
    from ledger.commands.messages import DrawAudit, RecordFinding

__all__ = ["draw_audit", "record_finding"]


async def _new_stream() -> tuple[None, int]:
    """The state of a stream that must not exist yet: appended expecting version 0."""
    return None, 0


async def draw_audit(
    ledger: Ledger, ctx: Context, program: str, draw: DrawAudit, *, population: list[UUID]
) -> AuditSampleDrawn:
    """Record a draw over `population`: the renewals filed in the window, from the register.
    The rate is the program's audit_rate if the message gives none; the seed random if none."""
    known = await ledger.catalogue.program(program)
    rate = draw.rate if draw.rate is not None else known.versions[-1].audit_rate
    seed = draw.seed if draw.seed is not None else secrets.randbits(53)
    drawn = AuditSampleDrawn(
        audit_id=ledger.new_id(),
        program=program,
        filed_from=draw.filed_from,
        filed_to=draw.filed_to,
        rate=rate,
        seed=seed,
        population=tuple(sorted(set(population))),
        selected=audit.select(population, rate, seed),
    )
    await write(ledger, ctx, audit_stream(drawn.audit_id), _new_stream, lambda _: [drawn])
    return drawn


async def record_finding(
    ledger: Ledger, ctx: Context, audit_id: UUID, finding: RecordFinding
) -> AppendResult:
    drawn = await find_audit(ledger.store, audit_id)
    filed = await find_renewal(ledger.store, finding.renewal_id)
    written = await write_enrolled(
        ledger,
        ctx,
        filed.manager_id,
        lambda record: rules.record_finding(
            record, filed.program, finding, audit_id=audit_id, selected=drawn.selected
        ),
    )
    return written.result
