"""Fees and refunds, renewals and their decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.catalog import FeePaid, FeeRefunded, RenewalFiled
from ledger.commands.base import write_enrolled, write_manager
from ledger.commands.loaders import find_fee, find_renewal
from ledger.domain import renewals as rules

if TYPE_CHECKING:
    from uuid import UUID

    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger
    from ledger.commands.messages import DecideRenewal, FileRenewal, PayFee, RefundFee

__all__ = ["decide_renewal", "file_renewal", "pay_fee", "refund_fee"]


async def pay_fee(
    ledger: Ledger, ctx: Context, manager_id: str, payment: PayFee
) -> tuple[FeePaid, AppendResult]:
    """The fee as recorded (its fee_id the id of the event that records it) and where."""
    known, fee_id = await ledger.catalogue.program(payment.program), ledger.new_id()
    today = ledger.today()
    written = await write_manager(
        ledger,
        ctx,
        manager_id,
        lambda record: rules.pay_fee(
            record, manager_id, known, payment, fee_id=fee_id, today=today
        ),
    )
    [paid] = written.events
    assert isinstance(paid, FeePaid)
    return paid, written.result


async def refund_fee(
    ledger: Ledger, ctx: Context, fee_id: UUID, refund: RefundFee
) -> tuple[FeeRefunded, AppendResult]:
    """The refund as recorded, and where."""
    paid = await find_fee(ledger.store, fee_id)
    written = await write_manager(
        ledger,
        ctx,
        paid.manager_id,
        lambda record: rules.refund_fee(record, paid.manager_id, refund, fee_id=fee_id),
    )
    [refunded] = written.events
    assert isinstance(refunded, FeeRefunded)
    return refunded, written.result


async def file_renewal(
    ledger: Ledger, ctx: Context, manager_id: str, filing: FileRenewal
) -> tuple[RenewalFiled, AppendResult]:
    known, renewal_id, today = (
        await ledger.catalogue.program(filing.program),
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
    ledger: Ledger, ctx: Context, renewal_id: UUID, decision: DecideRenewal
) -> AppendResult:
    filed = await find_renewal(ledger.store, renewal_id)
    written = await write_enrolled(
        ledger,
        ctx,
        filed.manager_id,
        lambda record: rules.decide_renewal(record, filed.program, renewal_id, decision),
    )
    return written.result
