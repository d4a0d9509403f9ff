"""The small readers and writers of the provider and admin pages: a spreadsheet's roster
header, and values as people read them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from ledger.csv_io import parse_roster_csv
from ledger.documents.filters import day, moment, percent, plural
from ledger.http.rosters import spreadsheet_header


def test_a_spreadsheets_header_is_read_as_the_apis_and_the_lines_are_unchanged() -> None:
    excel = (
        '\ufeffExternal ID , Manager ID,ACTIVITY_ID,"Completed On",CEUs\r\n'
        "x-1,kim,a,2026-01-05,1.5\r\n"
    )
    lines = parse_roster_csv(spreadsheet_header(excel.encode()), max_lines=10)
    assert lines == [
        {"external_id": "x-1", "manager_id": "kim", "activity_id": "a",
         "completed_on": "2026-01-05", "ceus": "1.5"}
    ]  # fmt: skip


def test_a_roster_already_in_the_apis_spelling_is_left_as_it_is() -> None:
    plain = b"external_id,manager_id,activity_id,completed_on,ceus\nx-1,kim,a,2026-01-05,1.5\n"
    assert spreadsheet_header(plain) == plain


def test_dates_money_rates_and_counts_read_as_people_write_them() -> None:
    assert day(date(2026, 12, 6)) == "6 December 2026"
    assert moment(datetime(2026, 12, 6, 14, 5, 59, 123456, tzinfo=UTC)) == (
        "6 December 2026 at 14:05 UTC"
    )
    assert (percent(Decimal("0.10")), percent(Decimal("0.125"))) == ("10%", "12.5%")
    assert (plural(1, "renewal"), plural(2, "renewal"), plural(1000, "line")) == (
        "1 renewal", "2 renewals", "1,000 lines",
    )  # fmt: skip
