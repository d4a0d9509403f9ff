"""SPEC 12, sources of credit: each counted completion is `approved`, `provider` or `self`;
program rules may ask a minimum of a source and cap a source, and each cycle is judged by
the rule version in force when it started."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec
import pytest

from events.catalog import (
    ActivityApproved,
    ProviderApprovalRequested,
    ProviderApproved,
    RenewalFiled,
    Rules,
)
from ledger.domain import catalogue
from ledger.domain.approvals import ProviderApprovals, evolve_provider_approvals
from ledger.domain.errors import RenewalNotReady
from ledger.domain.reports import cycle_reports, transcript
from tests.unit.domain.given import CMM_RULES, TMA, Manager, noon, revised, workshop

PAHCOM_FROM = date(2027, 1, 1)
PAHCOM = msgspec.structs.replace(
    CMM_RULES,
    effective_from=PAHCOM_FROM,
    source_minimums={"approved": Decimal(12)},
    source_maximums={"self": Decimal(12)},
)
"""PAHCOM's rule: 24 CEUs every two years, at least 12 from approved activities, at most 12
reported by the manager."""


def pahcom_from_the_start() -> Rules:
    """CMM judged by PAHCOM's rule for every cycle (its only version)."""
    return msgspec.structs.replace(PAHCOM, effective_from=date(2000, 1, 1))


class Ledger(Manager):
    """A CMM manager certified on 2025-01-01 (cycle 1 runs to 2027-01-01), with approved
    activities and self-reported credit."""

    def __init__(self, rules=None) -> None:
        super().__init__()
        if rules is not None:
            cmm = self.programs["CMM"]
            self.programs["CMM"] = msgspec.structs.replace(cmm, versions=(rules,))
        self.self_reported: set[uuid.UUID] = set()
        self.certified("CMM", date(2025, 1, 1))

    def approved(self, on: date, ceus: str) -> uuid.UUID:
        """A completion of an activity the program approved."""
        activity = f"approved-{uuid.uuid4().hex[:8]}"
        cmm = self.programs["CMM"]
        self.programs["CMM"] = catalogue.evolve_program(
            cmm,
            ActivityApproved(
                activity_id=activity, provider_id="tma", program="CMM", index_number="IDX-1",
                ceus=Decimal(ceus), category="general",
            ),
        )  # fmt: skip
        return self.completed(on, ceus, activity=activity, provider="tma")

    def reported(self, on: date, ceus: str) -> uuid.UUID:
        """Credit the manager reported and an auditor accepted (Completion.self_report_id)."""
        cid = self.completed(on, ceus, provider="self")
        self.self_reported.add(cid)
        return cid

    def record(self, as_of: date | None = None):
        record = super().record(as_of)
        completions = {
            cid: msgspec.structs.replace(c, self_report_id=uuid.uuid5(cid, "self"))
            if cid in self.self_reported
            else c
            for cid, c in record.completions.items()
        }
        return msgspec.structs.replace(record, completions=completions)


SPRING = date(2026, 3, 2)
AUTUMN = date(2026, 10, 5)
JUDGED = date(2026, 12, 1)


def test_twelve_approved_and_twelve_self_reported_count_twenty_four():
    ledger = Ledger(pahcom_from_the_start())
    ledger.approved(SPRING, "12")
    ledger.reported(AUTUMN, "12")
    ledger.paid("CMM", JUDGED)

    status = ledger.status("CMM", JUDGED)

    assert status.focus.earned == Decimal(24)
    assert status.focus.sources == {"approved": Decimal(12), "self": Decimal(12)}
    assert status.shortfalls == ()
    assert status.renewal_ready


def test_of_twenty_self_reported_ceus_twelve_count_the_earliest_first():
    ledger = Ledger(pahcom_from_the_start())
    ledger.approved(SPRING, "12")
    first = ledger.reported(date(2026, 4, 1), "10")
    second = ledger.reported(date(2026, 5, 1), "6")
    third = ledger.reported(date(2026, 6, 1), "4")

    status = ledger.status("CMM", JUDGED)
    by_id = {a.completion_id: a for a in status.allocations}

    assert status.focus.sources["self"] == Decimal(12)
    assert status.focus.earned == Decimal(24)
    assert (by_id[first].counted_ceus, by_id[first].counted) == (Decimal(10), True)
    assert (by_id[second].counted_ceus, by_id[second].over_maximum) == (Decimal(2), Decimal(4))
    assert by_id[second].counted
    assert (by_id[third].counted, by_id[third].reason) == (False, "over_source_maximum")
    assert by_id[third].over_maximum == Decimal(4)


def test_credit_over_a_maximum_does_not_fill_the_requirement():
    ledger = Ledger(pahcom_from_the_start())
    ledger.approved(SPRING, "12")
    ledger.reported(AUTUMN, "20")

    status = ledger.status("CMM", JUDGED)

    assert status.focus.earned == Decimal(24)
    assert [s.requirement for s in status.shortfalls] == ["fee"]


def test_a_shortfall_names_the_missing_source_minimum():
    ledger = Ledger(pahcom_from_the_start())
    ledger.approved(SPRING, "8")
    ledger.completed(AUTUMN, "16", provider="tma")
    ledger.paid("CMM", JUDGED)

    status = ledger.status("CMM", JUDGED)

    [shortfall] = status.shortfalls
    assert (shortfall.requirement, shortfall.source) == ("source", "approved")
    assert (shortfall.required, shortfall.counted, shortfall.missing) == (
        Decimal(12),
        Decimal(8),
        Decimal(4),
    )
    assert shortfall.words == "12 approved CEUs needed, 8 counted"
    with pytest.raises(RenewalNotReady) as refused:
        ledger.file("CMM", JUDGED)
    assert refused.value.shortfalls == (shortfall,)


def test_the_rule_switch_is_effective_dated_a_cycle_begun_before_is_judged_without_it():
    ledger = Ledger()
    ledger.programs["CMM"] = revised(ledger.programs["CMM"], PAHCOM)
    ledger.completed(SPRING, "24", provider="tma")  # cycle 1: 2025-01-01 .. 2027-01-01
    ledger.paid("CMM", JUDGED)

    before = ledger.status("CMM", JUDGED)

    assert before.focus.cycle.rules.effective_from == date(2000, 1, 1)
    assert before.shortfalls == ()
    renewal_id = ledger.file("CMM", JUDGED)
    ledger.approve("CMM", renewal_id, JUDGED)

    ledger.completed(date(2027, 6, 1), "24", provider="tma")  # cycle 2, under PAHCOM's rule
    ledger.paid("CMM", date(2027, 7, 1))
    after = ledger.status("CMM", date(2027, 7, 1))

    assert after.focus.cycle.number == 2
    assert after.focus.cycle.rules.effective_from == PAHCOM_FROM
    assert after.focus.earned == Decimal(24)
    assert [(s.requirement, s.source, s.counted) for s in after.shortfalls] == [
        ("source", "approved", Decimal(0))
    ]


def test_the_cap_of_a_later_rule_version_leaves_an_earlier_cycle_alone():
    ledger = Ledger()
    ledger.programs["CMM"] = revised(ledger.programs["CMM"], PAHCOM)
    ledger.reported(SPRING, "24")

    status = ledger.status("CMM", JUDGED)

    assert status.focus.sources == {"self": Decimal(24)}
    assert status.focus.earned == Decimal(24)


def test_the_frozen_evidence_keeps_each_completion_s_source_and_counted_ceus():
    ledger = Ledger(pahcom_from_the_start())
    approved = ledger.approved(SPRING, "12")
    reported = ledger.reported(AUTUMN, "14")
    ledger.paid("CMM", JUDGED)

    renewal_id = ledger.file("CMM", JUDGED)

    filed = next(e for e, _ in ledger.events if isinstance(e, RenewalFiled))
    assert filed.renewal_id == renewal_id
    assert {(c.completion_id, c.ceus, c.source) for c in filed.completions} == {
        (approved, Decimal(12), "approved"),
        (reported, Decimal(12), "self"),
    }
    [cycle] = cycle_reports(ledger.record(JUDGED), ledger.programs["CMM"], JUDGED)
    assert cycle.sources == {"approved": Decimal(12), "self": Decimal(12)}
    assert {c.source for c in cycle.renewal.counted} == {"approved", "self"}


def test_the_transcript_says_each_completion_s_source():
    ledger = Ledger(pahcom_from_the_start())
    approved = ledger.approved(SPRING, "12")
    posted = ledger.completed(AUTUMN, "3", provider="tma")
    reported = ledger.reported(AUTUMN, "2")

    lines = transcript(ledger.record(), ledger.programs, JUDGED, program="CMM")

    sources = {line.completion_id: line.source for line in lines}
    assert sources == {approved: "approved", posted: "provider", reported: "self"}


# -- approval on registration: the provider's approval valid on the activity's start ----------


def approvals_valid(valid_from: date, valid_until: date) -> ProviderApprovals:
    state = ProviderApprovals(provider_id="tma", name="Texas Medical Association")
    state = evolve_provider_approvals(
        state,
        ProviderApprovalRequested(provider_id="tma", program="CMM", contact_email="ce@tma.example"),
        noon(valid_from),
    )
    approved = ProviderApproved(
        provider_id="tma", program="CMM", approval_number="PAHCOM-17",
        valid_from=valid_from, valid_until=valid_until,
    )  # fmt: skip
    return evolve_provider_approvals(state, approved, noon(valid_from))


def registered(approvals: ProviderApprovals, starts_on: date):
    event = workshop(programs=("CMM",), starts_on=starts_on, ends_on=starts_on)
    cmm = Ledger().programs
    return catalogue.register_activity(TMA, None, event, programs=cmm, approvals=approvals)


def test_an_activity_starting_while_its_provider_is_approved_is_approved_with_the_number():
    approvals = approvals_valid(date(2025, 1, 1), date(2027, 1, 1))

    activity, approved = registered(approvals, date(2025, 5, 1))

    assert isinstance(approved, ActivityApproved)
    assert (approved.program, approved.index_number, approved.automatic) == (
        "CMM",
        "PAHCOM-17",
        True,
    )
    assert (approved.ceus, approved.category) == (activity.ceus, activity.category)


def test_an_approval_that_lapsed_before_the_activity_started_gives_provider_not_approved():
    approvals = approvals_valid(date(2023, 1, 1), date(2025, 5, 1))  # lapses at 2025-05-01

    events = registered(approvals, date(2025, 5, 1))

    assert [type(e).__name__ for e in events] == ["ActivityRegistered"]
    ledger = Ledger(pahcom_from_the_start())
    cmm = ledger.programs["CMM"]
    for event in events:
        cmm = catalogue.evolve_program(cmm, event) if isinstance(event, ActivityApproved) else cmm
    ledger.programs["CMM"] = cmm
    cid = ledger.completed(SPRING, "12", provider="tma", activity=events[0].activity_id)

    [allocation] = ledger.status("CMM", JUDGED).allocations
    assert (allocation.completion_id, allocation.source) == (cid, "provider")


def test_an_activity_starting_before_its_provider_was_approved_is_not_approved():
    approvals = approvals_valid(date(2025, 6, 1), date(2027, 6, 1))

    assert len(registered(approvals, date(2025, 5, 1))) == 1
    assert len(registered(approvals, date(2025, 6, 1))) == 2
