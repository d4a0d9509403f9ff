"""Fees and refunds, renewals and their decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.catalog import RenewalFiled
from ledger.commands.base import write_enrolled, write_manager
from ledger.commands.loaders import find_fee, find_renewal
from ledger.domain import renewals as rules

if TYPE_CHECKING:
    from uuid import UUID

    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger

__all__ = ["decide_renewal", "file_renewal", "pay_fee", "refund_fee"]


async def pay_fee(
    ledger: Ledger, ctx: Context, manager_id: str, *, program: str, amount_cents: int,
    reference: str,
) -> tuple[UUID, AppendResult]:  # fmt: skip
    """The fee's id (the id of the event that records it) and where it was recorded."""
    known, fee_id, today = await ledger.catalogue.program(program), ledger.new_id(), ledger.today()
    written = await write_manager(
        ledger,
        ctx,
        manager_id,
        lambda record: rules.pay_fee(
            record, manager_id, known, fee_id=fee_id, amount_cents=amount_cents,
            reference=reference, today=today,
        ),
    )  # fmt: skip
    return fee_id, written.result


async def refund_fee(
    ledger: Ledger, ctx: Context, fee_id: UUID, *, amount_cents: int, reason: str
) -> AppendResult:
    paid = await find_fee(ledger.store, fee_id)
    written = await write_manager(
        ledger,
        ctx,
        paid.manager_id,
        lambda record: rules.refund_fee(
            record, paid.manager_id, fee_id=fee_id, amount_cents=amount_cents, reason=reason
        ),
    )
    return written.result


async def file_renewal(
    ledger: Ledger, ctx: Context, manager_id: str, *, program: str
) -> tuple[RenewalFiled, AppendResult]:
    known, renewal_id, today = (
        await ledger.catalogue.program(program),
        ledger.new_id(),
        ledger.today(),
    )
    written = await write_manager(
        ledger,
        ctx,
        manager_id,
        lambda record: rules.file_renewal(
            record, manager_id, known, renewal_id=renewal_id, today=today
        ),
    )
    [filed] = written.events
    assert isinstance(filed, RenewalFiled)
    return filed, written.result


async def decide_renewal(
    ledger: Ledger, ctx: Context, renewal_id: UUID, *, approve: bool, reason: str
) -> AppendResult:
    filed = await find_renewal(ledger.store, renewal_id)
    written = await write_enrolled(
        ledger,
        ctx,
        filed.manager_id,
        lambda record: rules.decide_renewal(
            record, filed.program, renewal_id, approve=approve, reason=reason
        ),
    )
    return written.result
