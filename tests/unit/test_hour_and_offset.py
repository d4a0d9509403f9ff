"""A workshop session's times on a page (ledger/documents/filters.py `hour`, `offset`): in the
session's own offset, so a check-in recorded in UTC reads beside the session it belongs to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from ledger.documents.filters import hour, offset

CDT = timezone(timedelta(hours=-5))
IST = timezone(timedelta(hours=5, minutes=30))
STARTS = datetime(2026, 6, 17, 9, 55, tzinfo=CDT)


def test_an_instant_reads_in_its_own_offset_to_the_minute():
    assert hour(datetime(2026, 6, 17, 9, 55, 59, tzinfo=CDT)) == "09:55"


def test_a_check_in_in_utc_reads_in_the_sessions_offset():
    assert hour(datetime(2026, 6, 17, 15, 2, 30, tzinfo=UTC), STARTS) == "10:02"


def test_no_instant_reads_as_nothing():
    assert hour(None) == ""
    assert hour(None, STARTS) == ""


def test_an_offset_is_written_as_a_clocks_zone():
    assert offset(STARTS) == "UTC-05:00"
    assert offset(datetime(2026, 6, 17, 9, tzinfo=IST)) == "UTC+05:30"
    assert offset(datetime(2026, 6, 17, 9, tzinfo=UTC)) == "UTC"
    assert offset(None) == ""
