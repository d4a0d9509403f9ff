"""SPEC 12, approvals: a provider applies to a program, an auditor approves (a number, the
day it lapses) or denies; renewal is applying again; an activity is submitted and approved
with an index number; reminders 120 and 30 days before an approval lapses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from events.catalog import (
    ActivityApprovalRequested,
    ActivityApproved,
    ProviderApprovalDenied,
    ProviderApprovalRequested,
    ProviderApproved,
    ProviderRegistered,
)
from ledger.domain import approvals
from ledger.domain.approvals import (
    evolve_activity_approvals,
    evolve_provider_approvals,
    lapse_reminders,
)
from ledger.domain.catalogue import evolve_program
from ledger.domain.errors import Invalid, NotAllowed, NotFound, WrongState
from tests.unit.domain.given import default_programs, noon, workshop

PROGRAMS = default_programs()
CMM = PROGRAMS["CMM"]
APPLIED = date(2026, 6, 1)
DECIDED = date(2026, 6, 15)
EMAIL = "ce@texmed.example"


class Provider:
    """The `provider-tma` stream, fact by fact, each recorded at noon of its day."""

    def __init__(self) -> None:
        registered = ProviderRegistered(provider_id="tma", name="TMA", programs=("CMM", "CMOM"))
        self.state = evolve_provider_approvals(None, registered, noon(date(2026, 1, 5)))

    def do(self, decision, on: date, *args, **kwargs):
        events = decision(self.state, "tma", *args, **kwargs)
        for event in events:
            self.state = evolve_provider_approvals(self.state, event, noon(on))
        return events

    def applied(self, on: date = APPLIED) -> Provider:
        self.do(approvals.request_provider_approval, on, CMM, contact_email=EMAIL)
        return self

    def approved(self, until: date, on: date = DECIDED, number: str = "PAHCOM-17") -> Provider:
        self.do(
            approvals.approve_provider, on, "CMM", approval_number=number, valid_until=until,
            today=on,
        )  # fmt: skip
        return self


def test_a_provider_applies_and_is_approved_from_the_day_of_the_decision():
    tma = Provider()
    assert tma.do(approvals.request_provider_approval, APPLIED, CMM, contact_email=EMAIL) == [
        ProviderApprovalRequested(provider_id="tma", program="CMM", contact_email=EMAIL)
    ]
    events = tma.do(
        approvals.approve_provider, DECIDED, "CMM", approval_number="PAHCOM-17",
        valid_until=date(2028, 6, 15), today=DECIDED,
    )  # fmt: skip

    assert events == [
        ProviderApproved(
            provider_id="tma", program="CMM", approval_number="PAHCOM-17",
            valid_from=DECIDED, valid_until=date(2028, 6, 15),
        )
    ]  # fmt: skip
    [application] = tma.state.of("CMM")
    assert (application.state, application.requested_at, application.decided_at) == (
        "approved",
        noon(APPLIED),
        noon(DECIDED),
    )


def test_an_approval_is_valid_from_its_decision_and_lapses_at_valid_until():
    tma = Provider().applied().approved(until=date(2028, 6, 15))

    assert tma.state.valid_on("CMM", date(2026, 6, 14)) is None
    assert tma.state.valid_on("CMM", DECIDED) is not None
    assert tma.state.valid_on("CMM", date(2028, 6, 14)) is not None
    assert tma.state.valid_on("CMM", date(2028, 6, 15)) is None
    assert tma.state.valid_on("CMOM", date(2027, 1, 1)) is None


def test_a_renewal_is_a_new_application_and_approval_and_extends_the_validity():
    tma = Provider().applied().approved(until=date(2028, 6, 15))
    tma.applied(date(2028, 3, 1)).approved(
        until=date(2030, 6, 15), on=date(2028, 3, 20), number="PAHCOM-17-R"
    )

    assert [a.state for a in tma.state.of("CMM")] == ["approved", "approved"]
    assert tma.state.valid_on("CMM", date(2029, 1, 1)).approval_number == "PAHCOM-17-R"
    assert tma.state.latest("CMM").valid_until == date(2030, 6, 15)


def test_one_pending_application_per_program_at_a_time():
    tma = Provider().applied()

    with pytest.raises(WrongState):
        tma.do(approvals.request_provider_approval, APPLIED, CMM, contact_email=EMAIL)


def test_a_denial_needs_a_pending_application_and_a_reason():
    tma = Provider()
    with pytest.raises(WrongState):
        tma.do(approvals.deny_provider, DECIDED, "CMM", reason="no syllabus")
    tma.applied()
    with pytest.raises(Invalid):
        tma.do(approvals.deny_provider, DECIDED, "CMM", reason="  ")

    assert tma.do(approvals.deny_provider, DECIDED, "CMM", reason="no syllabus") == [
        ProviderApprovalDenied(provider_id="tma", program="CMM", reason="no syllabus")
    ]
    assert tma.state.of("CMM")[0].state == "denied"
    tma.applied(date(2026, 7, 1))  # and may apply again
    assert [a.state for a in tma.state.of("CMM")] == ["denied", "pending"]


def test_an_approval_lapsing_today_or_earlier_or_without_a_number_is_refused():
    tma = Provider().applied()

    with pytest.raises(Invalid) as refused:
        tma.do(
            approvals.approve_provider, DECIDED, "CMM", approval_number=" ",
            valid_until=DECIDED, today=DECIDED,
        )  # fmt: skip
    assert sorted(e.field for e in refused.value.errors) == ["approval_number", "valid_until"]


def test_approving_without_an_application_or_an_unknown_provider_is_refused():
    with pytest.raises(WrongState):
        Provider().approved(until=date(2028, 1, 1))
    with pytest.raises(NotFound):
        approvals.request_provider_approval(None, "nobody", CMM, contact_email=EMAIL)


# -- activity approvals -----------------------------------------------------------------------


def submitted(**changes):
    state = evolve_activity_approvals(None, workshop(**changes), noon(APPLIED))
    [asked] = approvals.request_activity_approval(state, "tma-billing", CMM, provider_id="tma")
    return evolve_activity_approvals(state, asked, noon(APPLIED))


def test_an_activity_is_submitted_and_approved_with_an_index_number():
    state = submitted()
    [approved] = approvals.approve_activity(
        state, "tma-billing", CMM, index_number="CMM-IDX-42", ceus=Decimal(10), category="core"
    )
    state = evolve_activity_approvals(state, approved, noon(DECIDED))

    assert state.approved("CMM").index_number == "CMM-IDX-42"
    assert not state.approved("CMM").automatic
    assert "tma-billing" in evolve_program(CMM, approved).approved_activities
    with pytest.raises(WrongState):  # approved already
        approvals.request_activity_approval(state, "tma-billing", CMM, provider_id="tma")


def test_only_the_activity_s_provider_submits_it_to_a_program_it_counts_for():
    state = evolve_activity_approvals(None, workshop(programs=("CMOM",)), noon(APPLIED))

    with pytest.raises(NotAllowed):
        approvals.request_activity_approval(state, "tma-billing", CMM, provider_id="mgma")
    with pytest.raises(Invalid) as refused:
        approvals.request_activity_approval(state, "tma-billing", CMM, provider_id="tma")
    assert refused.value.errors[0].field == "activity_id"
    with pytest.raises(NotFound):
        approvals.request_activity_approval(None, "nothing", CMM, provider_id="tma")


def test_an_activity_approval_gives_at_most_its_ceus_in_one_of_the_program_s_categories():
    with pytest.raises(Invalid) as refused:
        approvals.approve_activity(
            submitted(), "tma-billing", CMM, index_number="", ceus=Decimal(13), category="Core"
        )
    assert sorted(e.field for e in refused.value.errors) == ["category", "ceus", "index_number"]


def test_an_activity_denial_is_recorded_and_it_may_be_submitted_again():
    state = submitted()
    [denied] = approvals.deny_activity(state, "tma-billing", "CMM", reason="not management")
    state = evolve_activity_approvals(state, denied, noon(DECIDED))

    assert state.of("CMM")[0].reason == "not management"
    again = approvals.request_activity_approval(state, "tma-billing", CMM, provider_id="tma")
    assert again == [
        ActivityApprovalRequested(activity_id="tma-billing", provider_id="tma", program="CMM")
    ]


def test_an_approval_on_registration_is_an_application_of_its_own():
    state = evolve_activity_approvals(None, workshop(), noon(APPLIED))
    automatic = ActivityApproved(
        activity_id="tma-billing", provider_id="tma", program="CMM", index_number="PAHCOM-17",
        ceus=Decimal(12), category="core", automatic=True,
    )  # fmt: skip

    state = evolve_activity_approvals(state, automatic, noon(APPLIED))

    assert state.approved("CMM").automatic
    assert state.approved("CMM").requested_at is None


# -- reminders before an approval lapses ----------------------------------------------------


LAPSES = date(2028, 6, 15)


@pytest.mark.parametrize(
    ("on", "kinds"),
    [
        (date(2028, 2, 15), []),  # 121 days before
        (date(2028, 2, 16), ["approval_lapses_120"]),  # 120 days before
        (date(2028, 5, 15), ["approval_lapses_120"]),  # 31 days before
        (date(2028, 5, 16), ["approval_lapses_30"]),  # 30 days before
        (date(2028, 6, 14), ["approval_lapses_30"]),
        (LAPSES, []),  # lapsed: no reminder
    ],
)
def test_a_provider_is_reminded_120_and_30_days_before_its_approval_lapses(on, kinds):
    tma = Provider().applied().approved(until=LAPSES)

    found = lapse_reminders(tma.state, on)

    assert [r.kind for r in found] == kinds
    due = {"approval_lapses_120": date(2028, 2, 16), "approval_lapses_30": date(2028, 5, 16)}
    for reminder in found:
        assert reminder.due_on == due[reminder.kind]
        assert (reminder.valid_until, reminder.approval_number) == (LAPSES, "PAHCOM-17")
        assert reminder.email == EMAIL


def test_a_reminder_is_the_same_notice_whenever_it_is_asked_for():
    tma = Provider().applied().approved(until=LAPSES)

    [first] = lapse_reminders(tma.state, date(2028, 2, 16))
    [again] = lapse_reminders(tma.state, date(2028, 3, 1))

    assert first == again
    assert first.notice_id == again.notice_id
    assert first.due_on == date(2028, 2, 16)


def test_a_renewed_approval_is_not_reminded_of_until_the_renewal_nears_its_end():
    tma = Provider().applied().approved(until=LAPSES)
    tma.applied(date(2028, 1, 10)).approved(until=date(2030, 6, 15), on=date(2028, 1, 20))

    assert lapse_reminders(tma.state, date(2028, 5, 20)) == []
    assert [r.valid_until for r in lapse_reminders(tma.state, date(2030, 5, 20))] == [
        date(2030, 6, 15)
    ]
