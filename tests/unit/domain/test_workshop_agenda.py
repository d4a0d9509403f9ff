"""A workshop's agenda and the attendance at its sessions (SPEC 11)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec
import pytest

from events.catalog import AttendanceCorrected, AttendanceRecorded, SessionsScheduled
from ledger.domain.errors import Invalid, NotAllowed, NotFound, Unchanged, WrongState
from ledger.domain.workshops.attendance import AttendanceConflict, correct_attendance
from tests.unit.domain.workshop_given import AGENDA, Stream, at, session


def _fields(refused: Invalid) -> dict[str, str]:
    return {e.field: e.message for e in refused.errors}


# -- the agenda --------------------------------------------------------------------------------


def test_a_workshop_is_given_its_agenda():
    stream = Stream()

    [scheduled] = stream.schedule(*AGENDA)

    assert scheduled == SessionsScheduled(activity_id="tma-billing", sessions=AGENDA)
    assert stream.workshop().sessions == AGENDA


def test_sessions_adding_up_to_more_than_the_activitys_ceus_are_refused():
    with pytest.raises(Invalid) as refused:
        Stream().schedule(*AGENDA, session("s-5", at(2, 13), at(2, 17), "4"))

    assert _fields(refused.value) == {
        "sessions": "their CEUs add up to 12.5, more than the activity's 12"
    }


def test_a_session_ending_before_it_starts_is_refused():
    with pytest.raises(Invalid) as refused:
        Stream().schedule(session("s-1", at(1, 10), at(1, 9)))

    assert _fields(refused.value) == {"sessions[0].ends_at": "must be after starts_at"}


def test_duplicate_session_ids_are_refused():
    with pytest.raises(Invalid) as refused:
        Stream().schedule(session("s-1", at(1, 9), at(1, 10)), session("s-1", at(1, 11), at(1, 12)))

    assert _fields(refused.value) == {"sessions": "session ids must be unique: s-1"}


def test_only_a_workshop_has_sessions():
    with pytest.raises(Invalid) as refused:
        Stream(format="online").schedule(*AGENDA)

    assert _fields(refused.value) == {
        "activity_id": "is of format 'online': only a workshop has sessions"
    }


def test_a_session_needs_times_with_an_offset_a_known_category_and_ceus():
    naive = datetime(2025, 5, 1, 9)  # naive: the point of the test
    bad = msgspec.structs.replace(
        session("s-1", naive, naive.replace(hour=10)), category="Core", ceus=Decimal("0.001")
    )

    with pytest.raises(Invalid) as refused:
        Stream().schedule(bad)

    assert _fields(refused.value) == {
        "sessions[0].starts_at": "times need their offset, e.g. 09:00-05:00",
        "sessions[0].ceus": "at most 2 decimal places",
        "sessions[0].category": "must be one of: core, general",
    }


def test_a_session_outside_the_activitys_dates_is_refused():
    with pytest.raises(Invalid) as refused:
        Stream().schedule(session("s-9", at(3, 9), at(3, 10)))

    assert _fields(refused.value) == {
        "sessions[0].starts_at": "outside the activity's dates 2025-05-01..2025-05-02"
    }


def test_an_empty_agenda_is_refused():
    with pytest.raises(Invalid):
        Stream().schedule()


def test_only_the_activitys_provider_gives_its_agenda():
    stream = Stream(provider_id="other")

    with pytest.raises(NotAllowed):
        stream.schedule(*AGENDA)


def test_the_same_agenda_again_records_nothing():
    stream = Stream().scheduled()

    with pytest.raises(Unchanged):
        stream.schedule(*AGENDA)


def test_a_session_with_attendance_cannot_change():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30))
    moved = msgspec.structs.replace(AGENDA[0], ends_at=at(1, 11))

    with pytest.raises(WrongState, match="attendance is recorded for session"):
        stream.schedule(moved, *AGENDA[1:])
    with pytest.raises(WrongState):
        stream.schedule(*AGENDA[1:])  # dropped


def test_sessions_without_attendance_may_change_and_new_ones_be_added():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30))
    moved = msgspec.structs.replace(AGENDA[3], starts_at=at(1, 14))
    added = session("s-5", at(2, 13), at(2, 14), "1", "general")

    stream.schedule(*AGENDA[:3], moved, AGENDA[4], added)

    assert [s.session_id for s in stream.workshop().sessions] == [
        "s-1", "s-2a", "s-2b", "s-3", "s-4", "s-5",
    ]  # fmt: skip


# -- attendance --------------------------------------------------------------------------------


def test_attendance_is_recorded_per_manager_and_session():
    stream = Stream().scheduled()

    [recorded] = stream.attend("s-1", at(1, 9), at(1, 10, 30), when=at(1, 11))

    assert recorded == AttendanceRecorded(
        activity_id="tma-billing", session_id="s-1", manager_id="m-1",
        checked_in_at=at(1, 9), checked_out_at=at(1, 10, 30), method="roster",
    )  # fmt: skip
    held = stream.workshop().attendance[("m-1", "s-1")]
    assert (held.checked_out_at, held.recorded_at) == (at(1, 10, 30), at(1, 11))


def test_the_same_attendance_again_is_a_retry_even_written_in_another_offset():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30))

    with pytest.raises(Unchanged):
        stream.attend("s-1", datetime(2025, 5, 1, 14, tzinfo=UTC), at(1, 10, 30))


def test_other_times_for_a_recorded_attendance_are_a_conflict():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30))

    with pytest.raises(AttendanceConflict) as refused:
        stream.attend("s-1", at(1, 9), at(1, 10))

    assert refused.value.attendance.checked_out_at == at(1, 10, 30)


def test_a_check_out_completes_a_check_in():
    stream = Stream().scheduled().attended("s-1", at(1, 8, 58), None, method="kiosk")

    stream.attend("s-1", at(1, 8, 58), at(1, 10, 31), method="kiosk")

    assert stream.workshop().attendance[("m-1", "s-1")].checked_out_at == at(1, 10, 31)
    with pytest.raises(AttendanceConflict):
        stream.attend("s-1", at(1, 8, 58), None, method="kiosk")


def test_attendance_at_an_unknown_session_is_refused():
    stream = Stream().scheduled()

    with pytest.raises(NotFound, match="no session s-9"):
        stream.attend("s-9", at(1, 9), at(1, 10))


def test_attendance_before_any_agenda_is_refused():
    with pytest.raises(NotFound, match="no agenda for activity tma-billing"):
        Stream().attend("s-1", at(1, 9), at(1, 10))


def test_a_check_out_before_the_check_in_is_refused():
    stream = Stream().scheduled()

    with pytest.raises(Invalid, match="checked_out_at: must be after checked_in_at"):
        stream.attend("s-1", at(1, 10), at(1, 9))


# -- corrections -------------------------------------------------------------------------------


def _correction(**changes: object) -> AttendanceCorrected:
    fields: dict[str, object] = {
        "activity_id": "tma-billing", "session_id": "s-1", "manager_id": "m-1",
        "reason": "left at the break",
    }  # fmt: skip
    return AttendanceCorrected(**(fields | changes))


def _correct(stream: Stream, correction: AttendanceCorrected, today: date, provider="tma"):
    return stream.do(
        correct_attendance,
        datetime.combine(today, datetime.min.time(), UTC),
        correction,
        stream.programs,
        provider_id=provider,
        today=today,
    )


def test_the_provider_corrects_attendance_within_the_correction_window():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30), when=at(1, 11))

    _correct(stream, _correction(checked_out_at=at(1, 9, 50)), date(2025, 6, 30))

    held = stream.workshop().attendance[("m-1", "s-1")]
    assert (held.checked_in_at, held.checked_out_at, held.corrected) == (
        at(1, 9), at(1, 9, 50), True,
    )  # fmt: skip


def test_after_the_window_only_an_association_corrects_attendance():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30), when=at(1, 11))
    late = date(2025, 7, 1)  # recorded May 1, window 60 days: closed June 30

    with pytest.raises(NotAllowed, match="closed on 2025-06-30"):
        _correct(stream, _correction(removed=True), late)
    _correct(stream, _correction(removed=True), late, provider=None)

    assert stream.workshop().attendance == {}


def test_a_correction_that_changes_nothing_records_nothing():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30))

    with pytest.raises(Unchanged):
        _correct(stream, _correction(checked_in_at=at(1, 9)), date(2025, 5, 3))


def test_a_correction_gives_new_times_or_removes_not_both_and_gives_a_reason():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30))

    with pytest.raises(Invalid) as refused:
        _correct(stream, _correction(removed=True, checked_in_at=at(1, 9), reason=" "), date(2025, 5, 3))  # fmt: skip  # noqa: E501
    with pytest.raises(Invalid, match="checked_out_at: must be after checked_in_at"):
        _correct(stream, _correction(checked_out_at=at(1, 8)), date(2025, 5, 3))

    assert set(_fields(refused.value)) == {"reason", "removed"}


def test_a_correction_of_attendance_never_recorded_is_refused():
    stream = Stream().scheduled()

    with pytest.raises(NotFound):
        _correct(stream, _correction(removed=True), date(2025, 5, 3))
