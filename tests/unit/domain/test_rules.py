"""The certification rules, with literal dates.  CMM: 24 months, 24 CEUs, 30 days' grace,
fee 7500 cents.  CMOM: 12 months, 12 CEUs of which 9 core.  (SPEC sections 2 and 3.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
import pytest

from events.catalog import CertificationGranted, ProgramDefined, Rules
from ledger.commands.messages import DecideRenewal, ExtendDeadline
from ledger.domain import catalogue, completions, managers, renewals, standing
from ledger.domain.assess import Shortfall
from ledger.domain.errors import Invalid, NotAllowed, RenewalNotReady, WrongState
from tests.unit.domain.given import CMM_RULES, Manager, revised

CERTIFIED = date(2024, 3, 15)  # CMM cycle 1 is [2024-03-15, 2026-03-15)


@pytest.fixture
def pat() -> Manager:
    return Manager().certified("CMM", CERTIFIED)


def test_24_ceus_across_two_calendar_years_meet_a_cmm_cycle(pat):
    pat.completed(date(2024, 6, 1), "12")
    pat.completed(date(2025, 11, 20), "12")
    pat.paid("CMM", date(2026, 1, 5))

    status = pat.status("CMM", date(2026, 1, 10))

    assert status.status == "active"
    assert (
        status.focus.cycle.number,
        status.focus.cycle.starts_on,
        status.focus.cycle.ends_on,
    ) == (
        1,
        date(2024, 3, 15),
        date(2026, 3, 15),
    )
    assert (status.focus.earned, status.ceus_remaining) == (Decimal(24), Decimal(0))
    assert status.renewal_ready
    assert status.days_to_deadline == 64


def test_23_99_ceus_are_not_enough_and_filing_names_the_shortfall(pat):
    pat.completed(date(2024, 6, 1), "12")
    pat.completed(date(2025, 11, 20), "11.99")
    pat.paid("CMM", date(2026, 1, 5))

    status = pat.status("CMM", date(2026, 1, 10))
    assert not status.renewal_ready
    assert status.shortfalls == (Shortfall(requirement="ceus", missing=Decimal("0.01")),)
    with pytest.raises(RenewalNotReady) as refused:
        pat.file("CMM", date(2026, 1, 10))
    assert refused.value.shortfalls == status.shortfalls


def test_ceus_add_up_exactly(pat):
    for ceus in ("0.1", "0.2", "23.7"):
        pat.completed(date(2025, 1, 10), ceus)

    status = pat.status("CMM", date(2025, 2, 1))

    assert status.focus.earned == Decimal("24.0")
    assert not any(s.requirement == "ceus" for s in status.shortfalls)


def test_an_unpaid_fee_is_a_shortfall_in_cents(pat):
    pat.completed(date(2025, 1, 10), "24")
    pat.paid("CMM", date(2025, 2, 1), cents=5000)

    assert pat.status("CMM", date(2025, 2, 2)).shortfalls == (
        Shortfall(requirement="fee", missing=Decimal(2500)),
    )


@pytest.mark.parametrize(
    ("core", "general", "shortfalls"),
    [
        ("8", "4", (Shortfall(requirement="category", category="core", missing=Decimal(1)),)),
        ("9", "3", ()),
        ("12", "0", ()),
        ("9", "2.5", (Shortfall(requirement="ceus", missing=Decimal("0.5")),)),
    ],
)
def test_cmom_needs_9_of_its_12_ceus_in_core_skills(core, general, shortfalls):
    manager = Manager().certified("CMOM", date(2025, 1, 10))
    manager.completed(date(2025, 3, 1), core, category="core", programs=("CMOM",))
    if Decimal(general):
        manager.completed(date(2025, 4, 1), general, programs=("CMOM",))
    manager.paid("CMOM", date(2025, 5, 1))

    status = manager.status("CMOM", date(2025, 5, 2))

    assert status.shortfalls == shortfalls
    core_figure = next(c for c in status.categories if c.category == "core")
    assert (core_figure.earned, core_figure.required) == (Decimal(core), Decimal(9))


@pytest.mark.parametrize(
    ("completed_on", "cycle"),
    [(date(2026, 3, 14), 1), (date(2026, 3, 15), 2), (date(2024, 3, 15), 1)],
    ids=["last day of cycle 1", "first day of cycle 2", "certification day"],
)
def test_a_completion_counts_in_the_cycle_containing_its_date(pat, completed_on, cycle):
    completion = pat.completed(completed_on, "3")

    explained = pat.status("CMM", date(2026, 3, 20)).allocations

    assert [(a.completion_id, a.cycle) for a in explained] == [(completion, cycle)]


def test_a_completion_before_the_certification_counts_for_nothing(pat):
    pat.completed(date(2024, 3, 14), "24")

    status = pat.status("CMM", date(2024, 4, 1))

    assert status.focus.earned == 0
    assert [(a.cycle, a.reason) for a in status.allocations] == [(None, "before_certification")]


def _renewed_cycle_one(pat: Manager):
    first = pat.completed(date(2024, 6, 1), "12")
    second = pat.completed(date(2025, 6, 1), "12")
    pat.paid("CMM", date(2026, 2, 1))
    renewal = pat.file("CMM", date(2026, 2, 2))
    pat.approve("CMM", renewal, date(2026, 3, 1))
    return renewal, {first, second}


def test_an_approved_renewal_starts_the_next_cycle_at_the_old_cycles_end(pat):
    _renewed_cycle_one(pat)

    before_end, after_end = (
        pat.status("CMM", date(2026, 3, 14)),
        pat.status("CMM", date(2026, 3, 20)),
    )

    assert (before_end.status, before_end.focus.cycle.number, before_end.focus.renewal.state) == (
        "active",
        1,
        "approved",
    )
    assert not before_end.renewal_ready
    assert (after_end.status, after_end.focus.cycle.number) == ("active", 2)
    assert (after_end.focus.cycle.starts_on, after_end.focus.cycle.ends_on) == (
        date(2026, 3, 15),
        date(2028, 3, 15),
    )
    assert (after_end.focus.earned, after_end.ceus_remaining) == (0, 24)


def test_filing_freezes_the_evidence_it_counted(pat):
    renewal_id, counted = _renewed_cycle_one(pat)

    renewal = pat.record().certifications["CMM"].renewal(renewal_id)

    assert {c.completion_id for c in renewal.completions} == counted
    assert (renewal.ceus, renewal.fee_paid_cents, renewal.cycle) == (Decimal(24), 7500, 1)


def test_a_late_posting_counts_in_its_old_cycle_after_the_renewal_and_is_flagged(pat):
    renewal_id, _ = _renewed_cycle_one(pat)

    late = pat.completed(date(2026, 2, 20), "2", posted=date(2026, 4, 10))

    now = pat.status("CMM", date(2026, 4, 15))
    assert (now.focus.cycle.number, now.focus.earned) == (2, 0)
    [allocation] = [a for a in now.allocations if a.completion_id == late]
    assert (allocation.cycle, allocation.late, allocation.reason) == (1, True, "outside_cycle")
    renewal = pat.record().certifications["CMM"].renewal(renewal_id)
    assert late not in {c.completion_id for c in renewal.completions}, (
        "the filed evidence stays frozen"
    )


def test_a_workshop_that_counts_for_cmm_and_cmom_counts_in_both(pat):
    pat.certified("CMOM", date(2025, 1, 10))
    pat.completed(date(2025, 2, 3), "6", category="core", programs=("CMM", "CMOM"))
    pat.completed(date(2025, 2, 4), "2", programs=("CMOM",))

    cmm, cmom = pat.status("CMM", date(2025, 3, 1)), pat.status("CMOM", date(2025, 3, 1))

    assert (cmm.focus.earned, cmom.focus.earned) == (6, 8)
    assert [a.reason for a in cmm.allocations] == [None, "program_not_covered"]


def test_voided_credits_count_for_nothing_and_amended_ones_count_as_amended(pat):
    voided = pat.completed(date(2025, 1, 10), "5")
    amended = pat.completed(date(2025, 1, 11), "6")
    moved = pat.completed(date(2026, 3, 10), "4")
    programs, today = pat.programs, date(2026, 3, 12)
    pat.do(
        completions.void_completion,
        today,
        "m-1",
        voided,
        programs,
        reason="wrong person",
        provider_id=None,
        today=today,
    )
    pat.do(
        completions.amend_completion,
        today,
        "m-1",
        amended,
        programs,
        None,
        reason="half day",
        ceus=Decimal(3),
        completed_on=None,
        provider_id=None,
        today=today,
    )
    later = date(2026, 3, 20)
    pat.do(
        completions.amend_completion,
        later,
        "m-1",
        moved,
        programs,
        None,
        reason="date typo",
        ceus=None,
        completed_on=date(2026, 3, 16),
        provider_id=None,
        today=later,
    )

    status = pat.status("CMM", date(2026, 3, 12))
    by_id = {a.completion_id: a for a in status.allocations}

    assert status.focus.earned == 3
    assert by_id[voided].reason == "voided"
    assert (by_id[amended].ceus, by_id[amended].amended, by_id[amended].counted) == (3, True, True)
    assert by_id[moved].reason == "after_as_of", "amended to a day after as_of"
    moved_later = {a.completion_id: a for a in pat.status("CMM", later).allocations}[moved]
    assert (moved_later.cycle, moved_later.ceus, moved_later.reason) == (2, 4, "outside_cycle")


def test_void_then_record_again_equals_never_voided(pat):
    original = pat.completed(date(2025, 1, 10), "5")
    today = date(2025, 1, 12)
    pat.do(
        completions.void_completion,
        today,
        "m-1",
        original,
        pat.programs,
        reason="dup",
        provider_id=None,
        today=today,
    )
    with pytest.raises(WrongState):
        completions.void_completion(
            pat.record(),
            "m-1",
            original,
            pat.programs,
            reason="again",
            provider_id=None,
            today=today,
        )


def test_a_rule_revision_applies_only_to_cycles_starting_after_it(pat):
    stricter = msgspec.structs.replace(
        CMM_RULES, effective_from=date(2026, 1, 1), required_ceus=Decimal(30)
    )
    pat.programs["CMM"] = revised(pat.programs["CMM"], stricter)

    cycle_one = pat.status("CMM", date(2026, 2, 1))
    cycle_two = pat.status("CMM", date(2026, 5, 1))

    assert cycle_one.focus.cycle.rules.required_ceus == 24, "cycle 1 started in 2024"
    assert cycle_two.focus.cycle.number == 1, "cycle 1 is not renewed, so it is still the focus"
    assert cycle_two.status == "lapsed"


def test_a_revision_sets_the_requirement_of_the_next_cycle(pat):
    stricter = msgspec.structs.replace(
        CMM_RULES, effective_from=date(2026, 1, 1), required_ceus=Decimal(30)
    )
    pat.programs["CMM"] = revised(pat.programs["CMM"], stricter)
    _renewed_cycle_one(pat)

    assert pat.status("CMM", date(2026, 4, 1)).focus.cycle.rules.required_ceus == 30


@pytest.mark.parametrize(
    ("as_of", "status", "days_to_deadline"),
    [
        (date(2026, 3, 14), "active", 1),
        (date(2026, 3, 15), "grace", 0),
        (date(2026, 4, 13), "grace", -29),
        (date(2026, 4, 14), "lapsed", -30),
    ],
)
def test_grace_runs_30_days_from_the_cycle_end_then_the_credential_lapses(
    pat, as_of, status, days_to_deadline
):
    assessed = pat.status("CMM", as_of)

    assert (assessed.status, assessed.days_to_deadline) == (status, days_to_deadline)
    assert assessed.focus.grace_ends_on == date(2026, 4, 14)


def test_a_renewal_filed_in_grace_and_approved_makes_the_credential_active(pat):
    pat.completed(date(2025, 6, 1), "24")
    pat.paid("CMM", date(2026, 3, 20))
    renewal = pat.file("CMM", date(2026, 3, 25))
    assert pat.status("CMM", date(2026, 3, 26)).status == "grace"

    pat.approve("CMM", renewal, date(2026, 4, 20))

    assert pat.status("CMM", date(2026, 4, 21)).status == "active"
    assert pat.status("CMM", date(2026, 4, 21)).focus.cycle.number == 2


def test_a_lapsed_credential_cannot_be_renewed(pat):
    pat.completed(date(2025, 6, 1), "24")
    pat.paid("CMM", date(2025, 7, 1))

    with pytest.raises(RenewalNotReady) as refused:
        pat.file("CMM", date(2026, 4, 14))
    assert refused.value.status == "lapsed"


def test_a_denied_renewal_can_be_filed_again(pat):
    pat.completed(date(2025, 6, 1), "24")
    pat.paid("CMM", date(2025, 7, 1))
    first = pat.file("CMM", date(2025, 7, 2))
    with pytest.raises(WrongState):
        pat.file("CMM", date(2025, 7, 3))
    pat.do(
        renewals.decide_renewal,
        date(2025, 7, 10),
        "CMM",
        first,
        DecideRenewal(decision="deny", reason="certificate unreadable"),
    )

    assert pat.status("CMM", date(2025, 7, 11)).renewal_ready
    second = pat.file("CMM", date(2025, 7, 11))
    assert second != first


def test_revocation_and_reinstatement(pat):
    pat.do(standing.revoke, date(2025, 1, 1), "CMM", reason="misconduct")
    assert pat.status("CMM", date(2025, 1, 2)).status == "revoked"
    assert pat.status("CMM", date(2024, 12, 31)).status == "active", "as of the day before"

    pat.do(standing.reinstate, date(2025, 2, 1), "CMM", reason="appeal upheld")
    assert pat.status("CMM", date(2025, 2, 2)).status == "active"


def test_a_deadline_extension_moves_the_deadline_and_the_next_cycles_count(pat):
    pat.do(
        standing.extend_deadline,
        date(2026, 3, 1),
        pat.programs["CMM"],
        ExtendDeadline(ends_on=date(2026, 5, 1), reason="medical leave"),
        today=date(2026, 3, 1),
    )
    in_extension = pat.completed(date(2026, 4, 1), "5")
    after = pat.completed(date(2026, 5, 1), "1")

    status = pat.status("CMM", date(2026, 4, 20))
    assert (status.status, status.focus.deadline, status.focus.earned) == (
        "active",
        date(2026, 5, 1),
        5,
    )
    assert pat.status("CMM", date(2026, 5, 1)).status == "grace"
    by_id = {a.completion_id: a.cycle for a in pat.status("CMM", date(2026, 5, 2)).allocations}
    assert by_id == {in_extension: 1, after: 2}


def test_carry_over_moves_excess_ceus_up_to_the_programs_maximum():
    manager = Manager().certified("CMM", CERTIFIED)
    generous: Rules = msgspec.structs.replace(
        CMM_RULES, effective_from=date(2024, 1, 1), carryover_max_ceus=Decimal(6)
    )
    manager.programs["CMM"] = revised(manager.programs["CMM"], generous)
    manager.completed(date(2024, 6, 1), "33")
    manager.paid("CMM", date(2026, 1, 1))
    manager.approve("CMM", manager.file("CMM", date(2026, 1, 2)), date(2026, 1, 3))

    status = manager.status("CMM", date(2026, 4, 1))

    assert (status.focus.cycle.number, status.focus.carried_in, status.focus.earned) == (2, 6, 6)


def test_cmm_carries_nothing_over(pat):
    pat.completed(date(2024, 6, 1), "40")
    pat.paid("CMM", date(2026, 1, 1))
    pat.approve("CMM", pat.file("CMM", date(2026, 1, 2)), date(2026, 1, 3))

    assert pat.status("CMM", date(2026, 4, 1)).focus.earned == 0


def test_a_fee_counts_for_the_cycle_being_renewed_even_when_paid_in_grace(pat):
    pat.paid("CMM", date(2026, 3, 20))

    assert [f.cycle for f in pat.record().certifications["CMM"].fees] == [1]


@pytest.mark.parametrize(
    ("today", "allowed"),
    [(date(2025, 3, 11), True), (date(2025, 3, 12), False)],
    ids=["day 60", "day 61"],
)
def test_a_provider_may_correct_its_own_posting_for_60_days(pat, today, allowed):
    posted = pat.completed(date(2025, 1, 10), "3", provider="p-1")  # posted 2025-01-10

    def void(provider_id):
        return completions.void_completion(
            pat.record(),
            "m-1",
            posted,
            pat.programs,
            reason="typo",
            provider_id=provider_id,
            today=today,
        )

    if allowed:
        assert void("p-1")
    else:
        with pytest.raises(NotAllowed, match="correction window closed on 2025-03-11"):
            void("p-1")
    assert void(None), "an association may correct at any time"
    with pytest.raises(NotAllowed, match="only the provider"):
        void("p-2")


def test_status_as_of_an_earlier_day_leaves_out_what_had_not_happened(pat):
    pat.completed(date(2024, 6, 1), "10")
    pat.completed(date(2025, 6, 1), "14")
    pat.paid("CMM", date(2025, 7, 1))

    earlier = pat.status("CMM", date(2025, 1, 1))

    assert earlier.focus.earned == 10
    assert earlier.focus.fee_paid_cents == 0, "the fee was paid later"
    assert [a.reason for a in earlier.allocations] == [None, "after_as_of"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("audit_rate", Decimal("NaN")),
        ("carryover_max_ceus", Decimal("Infinity")),
        ("required_ceus", Decimal("1E+400")),
        ("effective_from", date(1, 1, 1)),
        ("category_minimums", {"core": Decimal("sNaN")}),
    ],
)
def test_rules_that_could_not_be_computed_with_are_refused(field, value):
    broken = msgspec.structs.replace(CMM_RULES, **{field: value})
    with pytest.raises(Invalid) as refused:
        catalogue.define_program(
            None, ProgramDefined(program="NEW", name="New", association="A", rules=broken)
        )
    assert [e.field for e in refused.value.errors] == [field]


def test_a_certification_date_before_1970_is_refused():
    manager = Manager()
    with pytest.raises(Invalid, match="certified_on"):
        managers.grant_certification(
            manager.record(), manager.programs["CMM"],
            CertificationGranted(manager_id="m-1", program="CMM", certified_on=date(1969, 12, 31)),
            today=date(2026, 1, 1),
        )  # fmt: skip
