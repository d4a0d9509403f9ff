"""Fees, refunds and renewals of the cycle being renewed (ledger/domain/cycles.py::renewing).
Their fold is ledger/domain/record.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

from events.catalog import (
    CountedCompletion,
    Event,
    FeePaid,
    FeeRefunded,
    RenewalApproved,
    RenewalDenied,
    RenewalFiled,
)
from ledger.domain.assess import Assessment, assess
from ledger.domain.errors import (
    FieldError,
    Invalid,
    NotFound,
    RenewalNotReady,
    WrongState,
    invalid,
)
from ledger.domain.managers import certification, require_manager

if TYPE_CHECKING:
    from datetime import date
    from uuid import UUID

    from ledger.domain.catalogue import Program
    from ledger.domain.record import Certification, Fee, ManagerRecord

__all__ = [
    "Decision",
    "Payment",
    "Refund",
    "assess_program",
    "decide_renewal",
    "file_renewal",
    "pay_fee",
    "refund_fee",
]


def assess_program(record: ManagerRecord, program: Program, today: date) -> Assessment:
    cert = certification(record, program.code)
    completions = list(record.completions.values())
    return assess(cert, completions, program.versions, today, program.approved_activities)


class Payment(Protocol):
    """A fee as the rules read it: the PayFee message (ledger/commands/messages.py)."""

    @property
    def amount_cents(self) -> int: ...
    @property
    def reference(self) -> str: ...


class Refund(Protocol):
    """A refund as the rules read it: the RefundFee message."""

    @property
    def amount_cents(self) -> int: ...
    @property
    def reason(self) -> str: ...


class Decision(Protocol):
    """A renewal's decision as the rules read it: the DecideRenewal message."""

    @property
    def decision(self) -> Literal["approve", "deny"]: ...
    @property
    def reason(self) -> str: ...


def pay_fee(
    record: ManagerRecord | None,
    manager_id: str,
    program: Program,
    payment: Payment,
    *,
    fee_id: UUID,
    today: date,
) -> list[Event]:
    """A fee counts for the cycle being renewed (the one `status` shows)."""
    amount_cents, reference = payment.amount_cents, payment.reference
    record = require_manager(record, manager_id)
    if amount_cents <= 0:
        raise invalid("amount_cents", "must be positive")
    if not reference.strip():
        raise invalid("reference", "must not be empty")
    cycle = assess_program(record, program, today).focus.cycle.number
    return [
        FeePaid(
            fee_id=fee_id,
            manager_id=manager_id,
            program=program.code,
            cycle=cycle,
            amount_cents=amount_cents,
            reference=reference,
        )
    ]


def _paid(record: ManagerRecord, fee_id: UUID) -> tuple[Certification, Fee]:
    for cert in record.certifications.values():
        if (fee := cert.fee(fee_id)) is not None:
            return cert, fee
    raise NotFound("fee", fee_id)


def refund_fee(
    record: ManagerRecord | None, manager_id: str, refund: Refund, *, fee_id: UUID
) -> list[Event]:
    """Give back part or all of what is left of a fee; the fee paid for its cycle goes down."""
    amount_cents, reason = refund.amount_cents, refund.reason
    record = require_manager(record, manager_id)
    cert, fee = _paid(record, fee_id)
    errors: list[FieldError] = []
    if not 0 < amount_cents <= fee.kept_cents:
        errors.append(FieldError("amount_cents", f"between 1 and {fee.kept_cents}, what is left"))
    if not reason.strip():
        errors.append(FieldError("reason", "must not be empty"))
    if errors:
        raise Invalid(errors)
    return [
        FeeRefunded(
            fee_id=fee_id,
            manager_id=record.manager_id,
            program=cert.program,
            cycle=fee.cycle,
            amount_cents=amount_cents,
            reason=reason,
        )
    ]


def _not_ready(assessment: Assessment) -> RenewalNotReady:
    status = assessment.status
    why = f"the certification is {status}" if status in ("lapsed", "revoked") else None
    return RenewalNotReady(status, assessment.shortfalls, why or "requirements not met")


def file_renewal(
    record: ManagerRecord | None,
    manager_id: str,
    program: Program,
    *,
    renewal_id: UUID,
    today: date,
) -> list[Event]:
    record = require_manager(record, manager_id)
    assessment = assess_program(record, program, today)
    focus = assessment.focus
    if focus.renewal is not None and focus.renewal.state in ("filed", "approved"):
        raise WrongState(
            f"a renewal for cycle {focus.cycle.number} is already {focus.renewal.state}"
        )
    if not assessment.renewal_ready:
        raise _not_ready(assessment)
    return [
        RenewalFiled(
            renewal_id=renewal_id,
            manager_id=manager_id,
            program=program.code,
            cycle=focus.cycle.number,
            ceus=focus.earned,
            carried_over=focus.carried_in,
            completions=tuple(
                CountedCompletion(
                    completion_id=a.completion_id,
                    ceus=a.counted_ceus,
                    category=a.category,
                    source=a.source,
                )
                for a in assessment.allocations
                if a.counted
            ),
            fee_paid_cents=focus.fee_paid_cents,
        )
    ]


def decide_renewal(
    record: ManagerRecord, program: str, renewal_id: UUID, decided: Decision
) -> list[Event]:
    approve, reason = decided.decision == "approve", decided.reason
    renewal = certification(record, program).renewal(renewal_id)
    if renewal is None:
        raise NotFound("renewal", renewal_id)
    if renewal.state != "filed":
        raise WrongState(f"renewal {renewal_id} is already {renewal.state}")
    if not approve and not reason.strip():
        raise invalid("reason", "a denial needs a reason")
    decision = RenewalApproved if approve else RenewalDenied
    return [
        decision(
            renewal_id=renewal_id,
            manager_id=record.manager_id,
            program=program,
            cycle=renewal.cycle,
            reason=reason,
        )
    ]
