"""A manager's profile change, and fee refunds: the fee paid for a cycle is what was paid less
what was refunded, for the status, the renewal filing and the cycle history alike."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from events.catalog import ManagerProfileChanged
from ledger.commands.messages import PayFee, RefundFee
from ledger.domain import managers, renewals
from ledger.domain.errors import Invalid, NotFound, RenewalNotReady, Unchanged
from ledger.domain.reports import cycle_reports
from tests.unit.domain.given import Manager

TODAY = date(2025, 6, 1)


# -- profile ---------------------------------------------------------------------------------


def _changed(manager_id: str, name: str | None, email: str | None) -> ManagerProfileChanged:
    return ManagerProfileChanged(manager_id=manager_id, name=name, email=email)


@pytest.mark.parametrize(
    ("name", "email", "now"),
    [
        ("Pat Doe-Smith", None, ("Pat Doe-Smith", "pat@example.org")),
        (None, "pat@clinic.example", ("Pat Doe", "pat@clinic.example")),
        ("P. Doe", "p@clinic.example", ("P. Doe", "p@clinic.example")),
    ],
)
def test_a_profile_change_changes_what_is_given_and_keeps_the_rest(name, email, now):
    pat = Manager()
    pat.do(managers.change_profile, TODAY, _changed("m-1", name, email))

    record = pat.record()

    assert (record.name, record.email) == now


@pytest.mark.parametrize(
    ("name", "email", "field"),
    [
        (None, None, "name"),
        (" ", None, "name"),
        (None, "not-an-email", "email"),
    ],
)
def test_a_profile_change_is_refused_naming_the_field(name, email, field):
    with pytest.raises(Invalid) as refused:
        managers.change_profile(Manager().record(), _changed("m-1", name, email))
    assert [e.field for e in refused.value.errors] == [field]


@pytest.mark.parametrize(
    ("name", "email"),
    [("Pat Doe", "pat@example.org"), ("Pat Doe", None), (None, "pat@example.org")],
)
def test_asking_for_the_profile_as_it_is_records_nothing(name, email):
    with pytest.raises(Unchanged):
        managers.change_profile(Manager().record(), _changed("m-1", name, email))


def test_the_profile_of_nobody_cannot_change():
    with pytest.raises(NotFound, match="manager m-9"):
        managers.change_profile(None, _changed("m-9", "X", None))


# -- refunds ---------------------------------------------------------------------------------


@pytest.fixture
def pat() -> Manager:
    """CMM since 2024-03-15, its 24 CEUs done, its 7500-cent fee paid (id FEE)."""
    manager = Manager().certified("CMM", date(2024, 3, 15))
    manager.completed(date(2025, 1, 10), "24")
    manager.do(
        renewals.pay_fee, TODAY, "m-1", manager.programs["CMM"],
        PayFee(program="CMM", amount_cents=7500, reference="chk-1"), fee_id=FEE, today=TODAY,
    )  # fmt: skip
    return manager


FEE = uuid.UUID(int=42)


def refund(pat: Manager, cents: int, reason: str = "paid twice") -> None:
    pat.do(
        renewals.refund_fee, TODAY, "m-1", RefundFee(amount_cents=cents, reason=reason), fee_id=FEE
    )


def test_a_partial_refund_lowers_the_fee_paid_and_readiness_follows(pat):
    assert pat.status("CMM", TODAY).renewal_ready

    refund(pat, 2500)

    status = pat.status("CMM", TODAY)
    assert status.focus.fee_paid_cents == 5000
    assert not status.renewal_ready
    assert [(s.requirement, s.missing) for s in status.shortfalls] == [("fee", 2500)]
    with pytest.raises(RenewalNotReady):
        pat.file("CMM", TODAY)


def test_two_refunds_may_give_back_the_whole_fee(pat):
    refund(pat, 2500)
    refund(pat, 5000)

    fee = pat.record().certifications["CMM"].fee(FEE)
    assert (fee.amount_cents, fee.refunded_cents, fee.kept_cents) == (7500, 7500, 0)
    assert pat.status("CMM", TODAY).focus.fee_paid_cents == 0


def test_the_cycle_history_shows_the_fee_less_refunds(pat):
    refund(pat, 7500)

    [cycle] = cycle_reports(pat.record(), pat.programs["CMM"], TODAY)

    assert (cycle.fee_paid_cents, cycle.fee_paid) == (0, False)


def test_a_fee_paid_again_after_a_refund_makes_the_renewal_ready_again(pat):
    refund(pat, 7500)
    pat.paid("CMM", TODAY)

    assert pat.status("CMM", TODAY).renewal_ready
    assert len(pat.file("CMM", TODAY).bytes) == 16


@pytest.mark.parametrize(
    ("cents", "reason", "fields"),
    [
        (0, "x", ["amount_cents"]),
        (-1, "x", ["amount_cents"]),
        (7501, "x", ["amount_cents"]),
        (100, " ", ["reason"]),
        (0, "", ["amount_cents", "reason"]),
    ],
)
def test_a_refund_is_refused_naming_the_field(pat, cents, reason, fields):
    with pytest.raises(Invalid) as refused:
        renewals.refund_fee(
            pat.record(), "m-1", RefundFee(amount_cents=cents, reason=reason), fee_id=FEE
        )
    assert [e.field for e in refused.value.errors] == fields


def test_more_than_what_is_left_is_refused_after_a_partial_refund(pat):
    refund(pat, 5000)
    with pytest.raises(Invalid, match="between 1 and 2500"):
        renewals.refund_fee(
            pat.record(), "m-1", RefundFee(amount_cents=2501, reason="again"), fee_id=FEE
        )


def test_a_refund_of_an_unknown_fee_is_refused(pat):
    with pytest.raises(NotFound, match="fee"):
        renewals.refund_fee(
            pat.record(), "m-1", RefundFee(amount_cents=1, reason="x"), fee_id=uuid.uuid4()
        )


def test_the_refund_names_the_fee_its_program_and_cycle(pat):
    [refunded] = renewals.refund_fee(
        pat.record(), "m-1", RefundFee(amount_cents=100, reason="x"), fee_id=FEE
    )
    assert (refunded.fee_id, refunded.program, refunded.cycle) == (FEE, "CMM", 1)
