"""The close (SPEC 11): per attendee and category one completion with the CEUs of the
attended sessions, naming them; closing twice records nothing new; attendance after the
close derives only the difference."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from events.catalog import (
    AttendanceCorrected,
    CompletionAmended,
    CompletionRecorded,
    CompletionVoided,
    WorkshopClosed,
)
from ledger.domain.errors import NotFound, Unchanged, WrongState
from ledger.domain.workshops.attendance import correct_attendance
from ledger.domain.workshops.credit import AMENDED, VOIDED, derive_credit
from tests.unit.domain.workshop_given import Stream, at, attendee


def _day_one(manager_id: str = "m-1") -> Stream:
    """m-1 at s-1 (core 1.5) and s-3 (general 2) on May 1, and not at s-4 on May 2."""
    return (
        Stream()
        .scheduled()
        .attended("s-1", at(1, 9), at(1, 10, 30), manager_id=manager_id)
        .attended("s-3", at(1, 13), at(1, 15), manager_id=manager_id)
    )


def _derived(events) -> list[tuple[str, Decimal, tuple[str, ...], date]]:
    return [
        (e.category, e.ceus, e.sessions, e.completed_on)
        for e in events
        if isinstance(e, CompletionRecorded)
    ]


def test_closing_derives_a_completion_per_category_naming_its_sessions():
    stream, manager = _day_one().closed(), attendee()

    events = stream.derive(manager)

    assert _derived(events) == [
        ("core", Decimal("1.5"), ("s-1",), date(2025, 5, 1)),
        ("general", Decimal(2), ("s-3",), date(2025, 5, 1)),
    ]
    assert {e.external_id for e in events} == {"tma-billing:core", "tma-billing:general"}
    assert all(e.provider_id == "tma" and e.programs == ("CMM", "CMOM") for e in events)


def test_the_close_is_a_fact_of_the_workshop_and_closing_twice_records_nothing():
    stream = _day_one()

    assert stream.close(at(2, 17)) == [WorkshopClosed(activity_id="tma-billing")]
    with pytest.raises(Unchanged):
        stream.close(at(2, 18))
    assert stream.workshop().closed_at == at(2, 17)


def test_deriving_again_after_the_close_records_nothing_new():
    stream, manager = _day_one().closed(), attendee()
    stream.derive(manager)

    assert stream.derive(manager) == []


def test_a_workshop_closes_only_after_its_last_session():
    with pytest.raises(WrongState, match="the last session ends at 2025-05-02T12:00:00-05:00"):
        _day_one().close(at(2, 11, 59))


def test_no_credit_before_the_close():
    with pytest.raises(WrongState, match="not closed"):
        _day_one().derive(attendee())


def test_an_attendee_not_enrolled_gets_nothing():
    stream = _day_one().closed()
    with pytest.raises(NotFound, match="no manager m-1"):
        derive_credit(
            None, "m-1", stream.workshop(), stream.activity, Decimal("0.9"), new_id=lambda: None
        )


def test_attendance_after_the_close_amends_the_derived_completion():
    stream, manager = _day_one().closed(), attendee()
    [core, general] = stream.derive(manager)

    stream.attend("s-4", at(2, 9), at(2, 12), when=at(3, 9))
    events = stream.derive(manager, on=date(2025, 5, 3))

    assert events == [
        CompletionAmended(
            completion_id=core.completion_id, manager_id="m-1", reason=AMENDED,
            ceus=Decimal("4.5"), completed_on=date(2025, 5, 2), sessions=("s-1", "s-4"),
        ),
        CompletionAmended(
            completion_id=general.completion_id, manager_id="m-1", reason=AMENDED,
            completed_on=date(2025, 5, 2),
        ),
    ]  # fmt: skip
    completions = manager.record().completions
    assert completions[core.completion_id].sessions == ("s-1", "s-4")
    assert completions[core.completion_id].ceus == Decimal("4.5")


def test_attendance_after_the_close_in_a_new_category_records_only_that_one():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30)).closed()
    manager = attendee()
    stream.derive(manager)

    stream.attend("s-3", at(1, 13), at(1, 15), when=at(3, 9))
    events = stream.derive(manager)

    assert _derived(events) == [("general", Decimal(2), ("s-3",), date(2025, 5, 1))]
    assert len(events) == 1


def test_a_category_left_without_an_attended_session_is_voided():
    stream, manager = _day_one().closed(), attendee()
    [_, general] = stream.derive(manager)
    correction = AttendanceCorrected(
        activity_id="tma-billing", session_id="s-3", manager_id="m-1", reason="wrong person",
        removed=True,
    )  # fmt: skip
    stream.do(
        correct_attendance, datetime(2025, 5, 4, tzinfo=UTC), correction, stream.programs,
        provider_id="tma", today=date(2025, 5, 4),
    )  # fmt: skip

    events = stream.derive(manager)

    assert events == [
        CompletionVoided(completion_id=general.completion_id, manager_id="m-1", reason=VOIDED)
    ]


def test_each_attendee_gets_their_own_credit():
    stream = _day_one("m-1").attended("s-4", at(2, 9), at(2, 12), manager_id="m-2").closed()

    assert stream.workshop().attendees() == ["m-1", "m-2"]
    assert _derived(stream.derive(attendee("m-2"))) == [
        ("core", Decimal(3), ("s-4",), date(2025, 5, 2))
    ]


def test_a_workshops_credit_split_by_category_counts_whole_not_as_repeats():
    stream, manager = _day_one().closed(), attendee()
    stream.derive(manager)

    status = manager.status("CMOM", date(2025, 6, 1))

    assert status.focus.categories == {"core": Decimal("1.5"), "general": Decimal(2)}
    assert all(a.reason is None for a in status.allocations)


def test_another_posting_of_the_workshop_is_a_repeat_of_its_credit():
    stream, manager = _day_one().closed(), attendee()
    stream.derive(manager)
    hand = manager.completed(date(2025, 5, 2), "12", programs=("CMM",), activity="tma-billing", provider="tma")  # fmt: skip  # noqa: E501

    status = manager.status("CMM", date(2025, 6, 1))

    reasons = {a.completion_id: a.reason for a in status.allocations}
    assert reasons[hand] == "repeat"
    assert status.focus.earned == Decimal("3.5")
