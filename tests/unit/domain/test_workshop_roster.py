"""A roster of attendance (SPEC 11): each line decided as it would be alone, after the lines
before it, against one workshop."""

from __future__ import annotations

import pytest

from events.catalog import AttendanceRecorded
from ledger.domain.errors import Invalid, NotAllowed, NotFound, Unchanged
from ledger.domain.workshops.attendance import AttendanceConflict, record_roster
from tests.unit.domain.workshop_given import Stream, at

WHEN = at(3, 9)


def line(manager_id: str, session_id: str, checked_in_at, checked_out_at) -> AttendanceRecorded:
    return AttendanceRecorded(
        activity_id="tma-billing",
        session_id=session_id,
        manager_id=manager_id,
        checked_in_at=checked_in_at,
        checked_out_at=checked_out_at,
        method="roster",
    )


def roster(stream: Stream, *lines: AttendanceRecorded, provider_id: str = "tma"):
    return record_roster(
        stream.state(), stream.activity, "tma-billing", lines, provider_id=provider_id, at=WHEN
    )


def test_each_new_line_of_a_roster_is_an_attendance_to_record():
    lines = [
        line("m-1", "s-1", at(1, 9), at(1, 10, 30)),
        line("m-2", "s-1", at(1, 9), at(1, 10)),
        line("m-1", "s-3", at(1, 13), at(1, 15)),
    ]

    assert roster(Stream().scheduled(), *lines) == lines


def test_a_line_already_recorded_just_so_is_unchanged_and_other_times_a_conflict():
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30))

    same, other = roster(
        stream,
        line("m-1", "s-1", at(1, 9), at(1, 10, 30)),
        line("m-1", "s-1", at(1, 9), at(1, 10)),
    )

    assert isinstance(same, Unchanged)
    assert isinstance(other, AttendanceConflict)


def test_a_line_repeated_within_the_roster_is_a_retry_of_the_first_and_a_variant_a_conflict():
    first = line("m-1", "s-1", at(1, 9), at(1, 10, 30))

    outcomes = roster(
        Stream().scheduled(), first, first, line("m-1", "s-1", at(1, 9, 5), at(1, 10, 30))
    )

    assert outcomes[0] == first
    assert isinstance(outcomes[1], Unchanged)
    assert isinstance(outcomes[2], AttendanceConflict)


def test_a_check_out_later_in_the_roster_completes_its_check_in():
    check_in = line("m-1", "s-4", at(2, 9), None)
    check_out = line("m-1", "s-4", at(2, 9), at(2, 12))

    assert roster(Stream().scheduled(), check_in, check_out) == [check_in, check_out]


def test_a_bad_line_takes_only_itself_out():
    good = line("m-1", "s-1", at(1, 9), at(1, 10, 30))

    unknown, backwards, kept = roster(
        Stream().scheduled(),
        line("m-1", "s-9", at(1, 9), at(1, 10)),
        line("m-2", "s-1", at(1, 10), at(1, 9)),
        good,
    )

    assert isinstance(unknown, NotFound)
    assert isinstance(backwards, Invalid)
    assert kept == good


def test_a_roster_for_another_providers_workshop_or_one_without_an_agenda_is_refused_whole():
    with pytest.raises(NotAllowed):
        roster(Stream().scheduled(), line("m-1", "s-1", at(1, 9), None), provider_id="mgma")
    with pytest.raises(NotFound):
        roster(Stream(), line("m-1", "s-1", at(1, 9), None))


def test_a_roster_decides_as_the_lines_recorded_one_at_a_time_would():
    lines = [
        line("m-1", "s-1", at(1, 9), None),
        line("m-1", "s-1", at(1, 9), at(1, 10, 30)),
        line("m-1", "s-1", at(1, 9), at(1, 10, 30)),
        line("m-2", "s-2a", at(1, 11), at(1, 12)),
        line("m-2", "s-2a", at(1, 11), at(1, 11, 30)),
    ]
    one_by_one = Stream().scheduled()
    alone = []
    for each in lines:
        try:
            alone.append(one_by_one.do(_record, at(3, 9), each)[0])
        except (Unchanged, AttendanceConflict) as refused:
            alone.append(type(refused))

    together = roster(Stream().scheduled(), *lines)

    assert [o if isinstance(o, AttendanceRecorded) else type(o) for o in together] == alone


def _record(workshop, activity, recorded):
    from ledger.domain.workshops.attendance import record_attendance

    return record_attendance(workshop, activity, recorded, provider_id="tma")
