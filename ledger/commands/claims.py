"""Claims (SPEC 11): a manager files one for an activity attended but not posted; the
activity's provider disputes it with a reason.  Its fulfilment is no command of its own: it is
decided with the completion that fulfils it (ledger/domain/completions.py `fulfilled_claims`),
in the same append to the manager's stream."""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.catalog import AttendanceClaimed, ClaimDisputed
from ledger.commands.base import write_manager
from ledger.commands.loaders import find_claim
from ledger.domain.workshops import claims as rules

if TYPE_CHECKING:
    from uuid import UUID

    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger
    from ledger.commands.messages import DisputeClaim, FileClaim

__all__ = ["dispute_claim", "file_claim"]


async def file_claim(
    ledger: Ledger, ctx: Context, manager_id: str, message: FileClaim
) -> tuple[AttendanceClaimed, AppendResult]:
    activity, today, claim_id = (
        await ledger.catalogue.activity(message.activity_id),
        ledger.today(),
        ledger.new_id(),
    )
    written = await write_manager(
        ledger,
        ctx,
        manager_id,
        lambda record: rules.file_claim(
            record, manager_id, activity, claim_id=claim_id, activity_id=message.activity_id,
            completed_on=message.completed_on, note=message.note, today=today,
        ),
    )  # fmt: skip
    [filed] = written.events
    assert isinstance(filed, AttendanceClaimed)
    return filed, written.result


async def dispute_claim(
    ledger: Ledger, ctx: Context, claim_id: UUID, message: DisputeClaim, *, provider_id: str
) -> tuple[AttendanceClaimed, ClaimDisputed, AppendResult]:
    """`provider_id`: the provider answering; only the claim's own may (NotAllowed)."""
    filed = await find_claim(ledger.store, claim_id)
    written = await write_manager(
        ledger,
        ctx,
        filed.manager_id,
        lambda record: rules.dispute_claim(
            record, filed.manager_id, claim_id, provider_id=provider_id, reason=message.reason
        ),
    )
    [disputed] = written.events
    assert isinstance(disputed, ClaimDisputed)
    return filed, disputed, written.result
