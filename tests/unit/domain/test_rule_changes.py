"""SPEC sections 2-3: closed category lists, an activity counted once per cycle, and the same
completion posted again under another external_id."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec
import pytest

from ledger.commands.messages import PostCompletion
from ledger.domain import catalogue, completions
from ledger.domain.errors import AlreadyRecorded, Invalid
from ledger.domain.reports import transcript
from tests.unit.domain.given import TMA, Manager, activity_of, default_programs, revised, workshop

PROGRAMS = default_programs()


# -- closed category lists -------------------------------------------------------------------


def test_core_is_refused_for_cmom_listing_the_allowed_categories():
    with pytest.raises(Invalid) as refused:
        catalogue.register_activity(
            TMA, None, workshop(category="Core", programs=("CMOM",)), programs=PROGRAMS
        )
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("category", "must be one of: core, general (CMOM)")
    ]


def test_core_spelled_exactly_is_accepted_for_cmom():
    event = workshop(category="core", programs=("CMOM",))
    assert catalogue.register_activity(TMA, None, event, programs=PROGRAMS) == [event]


def test_the_programs_that_do_not_name_the_category_are_listed_with_what_they_allow():
    with pytest.raises(Invalid) as refused:
        catalogue.register_activity(TMA, None, workshop(category="ethics"), programs=PROGRAMS)
    assert [e.message for e in refused.value.errors] == [
        "must be one of: core, general (CMM, CMOM)",
    ]


def test_the_categories_are_those_of_the_rules_in_force_when_the_activity_starts():
    cmm = PROGRAMS["CMM"]
    rules = msgspec.structs.replace(
        cmm.versions[0], effective_from=date(2026, 1, 1), categories=("core", "general", "ethics")
    )
    programs = {**PROGRAMS, "CMM": revised(cmm, rules)}
    before = workshop(category="ethics", programs=("CMM",))
    after = workshop(
        category="ethics", programs=("CMM",), starts_on=date(2026, 1, 5), ends_on=date(2026, 1, 6)
    )

    with pytest.raises(Invalid):
        catalogue.register_activity(TMA, None, before, programs=programs)
    assert catalogue.register_activity(TMA, None, after, programs=programs) == [after]


# -- an activity counts once per cycle -------------------------------------------------------


@pytest.fixture
def pat() -> Manager:
    return Manager().certified("CMM", date(2024, 3, 15))  # cycle 1 ends 2026-03-15


def test_a_later_completion_of_the_same_activity_in_a_cycle_is_a_repeat(pat):
    first = pat.completed(date(2024, 6, 1), "12", activity="tma-billing")
    again = pat.completed(date(2025, 6, 1), "12", activity="tma-billing")

    status = pat.status("CMM", date(2025, 7, 1))

    assert status.focus.earned == Decimal(12)
    assert [(a.completion_id, a.counted, a.cycle, a.reason) for a in status.allocations] == [
        (first, True, 1, None),
        (again, False, None, "repeat"),
    ]


def test_the_transcript_explains_the_repeat(pat):
    pat.completed(date(2024, 6, 1), "12", activity="tma-billing")
    again = pat.completed(date(2025, 6, 1), "12", activity="tma-billing")

    lines = transcript(pat.record(), pat.programs, date(2025, 7, 1), program="CMM")

    line = next(x for x in lines if x.completion_id == again)
    assert (line.state, line.counted, line.reason) == ("not_counted", False, "repeat")


def test_the_same_activity_counts_again_in_the_next_cycle(pat):
    pat.completed(date(2025, 6, 1), "12", activity="tma-billing")
    pat.completed(date(2026, 6, 1), "12", activity="tma-billing")

    history = pat.status("CMM", date(2026, 7, 1)).allocations

    assert [a.cycle for a in history] == [1, 2]
    assert "repeat" not in {a.reason for a in history}


def test_ties_go_to_the_earlier_posting_then_the_smaller_id(pat):
    """Same completed_on: the one posted first counts, whatever order the fold saw them in."""
    later = pat.completed(date(2025, 6, 2), "3", activity="a", posted=date(2025, 6, 9))
    earlier = pat.completed(date(2025, 6, 2), "5", activity="a", posted=date(2025, 6, 3))

    status = pat.status("CMM", date(2025, 7, 1))

    assert status.focus.counted == (earlier,)
    assert {a.completion_id: a.reason for a in status.allocations}[later] == "repeat"


def test_a_voided_completion_leaves_its_place_to_the_next_one(pat):
    voided = pat.completed(date(2024, 6, 1), "12", activity="tma-billing", provider="tma")
    kept = pat.completed(date(2025, 6, 1), "10", activity="tma-billing")
    pat.do(
        completions.void_completion, date(2025, 7, 1), "m-1", voided, pat.programs,
        reason="wrong attendee", provider_id=None, today=date(2025, 7, 1),
    )  # fmt: skip

    status = pat.status("CMM", date(2025, 7, 1))

    assert status.focus.counted == (kept,)
    assert status.focus.earned == Decimal(10)


# -- the same completion posted again --------------------------------------------------------

BILLING = activity_of(workshop())


def _post(record, external_id: str, *, completion_id: uuid.UUID, on: date = date(2025, 5, 2)):
    posting = PostCompletion(
        manager_id="m-1", activity_id="tma-billing", external_id=external_id, completed_on=on,
        ceus=Decimal(12),
    )  # fmt: skip
    return completions.record_completion(
        record, BILLING, posting, completion_id=completion_id, provider_id="tma",
        today=date(2025, 6, 1),
    )  # fmt: skip


def test_the_same_manager_activity_and_day_under_another_external_id_names_the_first():
    pat = Manager().certified("CMM", date(2024, 3, 15))
    first = uuid.uuid4()
    pat.record_all(_post(pat.record(), "row-1", completion_id=first), date(2025, 5, 3))

    with pytest.raises(AlreadyRecorded) as refused:
        _post(pat.record(), "row-9", completion_id=uuid.uuid4())

    assert (refused.value.completion_id, refused.value.external_id) == (first, "row-1")
    assert str(first) in refused.value.detail
    assert "row-1" in refused.value.detail


def test_another_day_of_the_same_activity_is_recorded_and_explained_as_a_repeat():
    pat = Manager().certified("CMM", date(2024, 3, 15))
    pat.record_all(_post(pat.record(), "row-1", completion_id=uuid.uuid4()), date(2025, 5, 3))

    events = _post(pat.record(), "row-2", completion_id=uuid.uuid4(), on=date(2025, 5, 1))

    assert len(events) == 1


def test_a_voided_completion_may_be_posted_again():
    pat = Manager().certified("CMM", date(2024, 3, 15))
    first = uuid.uuid4()
    pat.record_all(_post(pat.record(), "row-1", completion_id=first), date(2025, 5, 3))
    pat.do(
        completions.void_completion, date(2025, 5, 4), "m-1", first, pat.programs,
        reason="wrong row", provider_id="tma", today=date(2025, 5, 4),
    )  # fmt: skip

    assert len(_post(pat.record(), "row-2", completion_id=uuid.uuid4())) == 1
