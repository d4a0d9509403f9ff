"""A certification's standing: revoked, reinstated, or given more time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.catalog import DeadlineExtended
from ledger.commands.base import write_enrolled
from ledger.domain import standing as rules

if TYPE_CHECKING:
    from datetime import date

    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger

__all__ = ["extend_deadline", "reinstate", "revoke"]


async def revoke(
    ledger: Ledger, ctx: Context, manager_id: str, *, program: str, reason: str
) -> AppendResult:
    written = await write_enrolled(
        ledger, ctx, manager_id, lambda record: rules.revoke(record, program, reason=reason)
    )
    return written.result


async def reinstate(
    ledger: Ledger, ctx: Context, manager_id: str, *, program: str, reason: str
) -> AppendResult:
    written = await write_enrolled(
        ledger, ctx, manager_id, lambda record: rules.reinstate(record, program, reason=reason)
    )
    return written.result


async def extend_deadline(
    ledger: Ledger, ctx: Context, manager_id: str, *, program: str, until: date, reason: str
) -> tuple[DeadlineExtended, AppendResult]:
    known, today = await ledger.catalogue.program(program), ledger.today()
    written = await write_enrolled(
        ledger,
        ctx,
        manager_id,
        lambda record: rules.extend_deadline(
            record, known, until=until, reason=reason, today=today
        ),
    )
    [extended] = written.events
    assert isinstance(extended, DeadlineExtended)
    return extended, written.result
