"""TEMPORARY stub (lead's tree): replaced by the domain branch at integration."""

from ledger.domain import decide
from ledger.domain.decide import assess_program, decide_renewal, file_renewal  # noqa: F401


def pay_fee(record, manager_id, program, *, fee_id, **kw):  # type: ignore[no-untyped-def]
    return decide.pay_fee(record, manager_id, program, **kw)


def refund_fee(record, manager_id, *, fee_id, amount_cents, reason):  # type: ignore[no-untyped-def]
    raise NotImplementedError
