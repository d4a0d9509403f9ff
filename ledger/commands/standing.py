"""A certification's standing: revoked, reinstated, or given more time.  Each command takes
its message (ledger/commands/messages.py) as the API and the pages decode it; the program is
the path's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.catalog import DeadlineExtended
from ledger.commands.base import write_enrolled
from ledger.domain import standing as rules

if TYPE_CHECKING:
    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger
    from ledger.commands.messages import ChangeStanding, ExtendDeadline

__all__ = ["extend_deadline", "reinstate", "revoke"]


async def revoke(
    ledger: Ledger, ctx: Context, manager_id: str, program: str, change: ChangeStanding
) -> AppendResult:
    written = await write_enrolled(
        ledger, ctx, manager_id, lambda record: rules.revoke(record, program, reason=change.reason)
    )
    return written.result


async def reinstate(
    ledger: Ledger, ctx: Context, manager_id: str, program: str, change: ChangeStanding
) -> AppendResult:
    written = await write_enrolled(
        ledger,
        ctx,
        manager_id,
        lambda record: rules.reinstate(record, program, reason=change.reason),
    )
    return written.result


async def extend_deadline(
    ledger: Ledger, ctx: Context, manager_id: str, program: str, extension: ExtendDeadline
) -> tuple[DeadlineExtended, AppendResult]:
    known, today = await ledger.catalogue.program(program), ledger.today()
    written = await write_enrolled(
        ledger,
        ctx,
        manager_id,
        lambda record: rules.extend_deadline(record, known, extension, today=today),
    )
    [extended] = written.events
    assert isinstance(extended, DeadlineExtended)
    return extended, written.result
