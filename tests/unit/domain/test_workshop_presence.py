"""Which sessions count (SPEC 11): present for at least `min_presence` of a session's length
(0.9 by default), never two concurrent sessions, and why each other session did not count."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import msgspec

from ledger.domain.workshops.presence import min_presence
from tests.unit.domain.given import CMOM_RULES, revised
from tests.unit.domain.workshop_given import Stream, at, session


def test_present_for_exactly_ninety_percent_of_a_session_attends_it():
    # s-1 runs 09:00-10:30: 90 minutes, of which 81 are 90%
    stream = Stream().scheduled().attended("s-1", at(1, 8, 55), at(1, 10, 21))

    [s1, *_] = stream.credit().sessions

    assert (s1.counted, s1.outcome, s1.present_minutes) == (True, "attended", 81)
    assert s1.explanation == "attended 81 of 90 minutes"


def test_a_second_short_of_ninety_percent_does_not_count_and_says_when_they_left():
    stream = Stream().scheduled().attended("s-1", at(1, 8, 55), at(1, 10, 20, 59))

    credit = stream.credit()

    assert not credit.sessions[0].counted
    assert credit.sessions[0].outcome == "too_short"
    assert credit.sessions[0].explanation == "left after 80 of 90 minutes"
    assert credit.categories == ()
    assert credit.completed_on is None


def test_leaving_after_twenty_minutes_is_explained_in_minutes():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 9, 20))

    assert stream.credit().sessions[0].explanation == "left after 20 of 90 minutes"


def test_arriving_late_is_explained_as_late():
    stream = Stream().scheduled().attended("s-1", at(1, 9, 30), at(1, 10, 40))

    assert stream.credit().sessions[0].explanation == (
        "arrived 30 minutes late: present for 60 of 90 minutes"
    )


def test_a_check_in_without_a_check_out_does_not_count():
    stream = Stream().scheduled().attended("s-1", at(1, 8, 55), None, method="kiosk")

    [s1, *_] = stream.credit().sessions

    assert (s1.counted, s1.outcome, s1.explanation) == (False, "not_checked_out", "not checked out")


def test_a_session_without_attendance_says_so():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30))

    outcomes = {s.session_id: s.explanation for s in stream.credit().sessions}

    assert outcomes["s-4"] == "no attendance recorded"


def test_of_two_concurrent_sessions_the_longer_presence_counts():
    # both 11:00-12:00; present 55 minutes in s-2a (91.7%) and the whole hour in s-2b
    stream = (
        Stream()
        .scheduled()
        .attended("s-2a", at(1, 11), at(1, 11, 55))
        .attended("s-2b", at(1, 11), at(1, 12))
    )

    outcomes = {s.session_id: s for s in stream.credit().sessions}

    assert outcomes["s-2b"].counted
    assert not outcomes["s-2a"].counted
    assert outcomes["s-2a"].explanation == "attended the concurrent session s-2b instead"


def test_of_two_concurrent_sessions_with_equal_presence_the_first_in_the_agenda_counts():
    stream = (
        Stream()
        .scheduled()
        .attended("s-2b", at(1, 10, 55), at(1, 12, 5))
        .attended("s-2a", at(1, 10, 55), at(1, 12, 5))
    )

    credit = stream.credit()

    assert [s.session_id for s in credit.sessions if s.counted] == ["s-2a"]
    assert [(c.category, c.ceus) for c in credit.categories] == [("core", Decimal(1))]


def test_sessions_that_only_touch_are_not_concurrent():
    stream = Stream()
    stream.schedule(session("a", at(1, 9), at(1, 10)), session("b", at(1, 10), at(1, 11)))
    stream.attended("a", at(1, 9), at(1, 11)).attended("b", at(1, 9), at(1, 11))

    assert [o.counted for o in stream.credit().sessions] == [True, True]


def test_partial_credit_per_category_dated_the_day_the_last_attended_session_ended():
    stream = (
        Stream()
        .scheduled()
        .attended("s-1", at(1, 9), at(1, 10, 30))
        .attended("s-3", at(1, 13), at(1, 15))
        .attended("s-4", at(2, 9), at(2, 9, 30))  # too short
    )

    credit = stream.credit()

    assert [(c.category, c.ceus, c.sessions) for c in credit.categories] == [
        ("core", Decimal("1.5"), ("s-1",)),
        ("general", Decimal(2), ("s-3",)),
    ]
    assert str(credit.completed_on) == "2025-05-01"


def test_the_day_is_the_sessions_own_even_when_it_is_already_tomorrow_in_utc():
    # 19:00-21:00 at -05:00 ends at 02:00 UTC on May 2
    stream = Stream()
    stream.schedule(session("eve", at(1, 19), at(1, 21)))
    stream.attended("eve", at(1, 19), at(1, 21))

    assert str(stream.credit().completed_on) == "2025-05-01"
    assert stream.credit().sessions[0].ends_at.utcoffset() == timedelta(hours=-5)


def test_the_strictest_presence_of_the_activitys_programs_applies():
    stream = Stream()
    stricter = msgspec.structs.replace(CMOM_RULES, min_presence=Decimal("0.95"))
    stream.programs["CMOM"] = revised(stream.programs["CMOM"], stricter)
    stream.scheduled().attended("s-1", at(1, 9), at(1, 10, 21))  # 90%, not 95%

    assert min_presence(stream.activity, stream.programs) == Decimal("0.95")
    assert not stream.credit().sessions[0].counted
