"""Cycle arithmetic at month ends and on Feb 29."""

from __future__ import annotations

from datetime import date
from itertools import islice

import msgspec
import pytest

from ledger.domain.cycles import add_months, cycle_on, cycles
from tests.unit.domain.given import CMM_RULES, CMOM_RULES

MONTHLY = msgspec.structs.replace(CMOM_RULES, cycle_months=1)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 2, date(2024, 3, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 8, 31), 1, date(2024, 9, 30)),
        (date(2024, 12, 15), 1, date(2025, 1, 15)),
        (date(2024, 11, 30), 27, date(2027, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last_day(day, months, expected):
    assert add_months(day, months) == expected


def test_monthly_cycles_from_jan_31_end_on_each_months_last_day_without_drift():
    ends = [c.ends_on for c in islice(cycles(date(2024, 1, 31), [MONTHLY]), 4)]
    assert ends == [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30), date(2024, 5, 31)]


@pytest.mark.parametrize(
    ("rules", "ends"),
    [
        (CMM_RULES, [date(2026, 2, 28), date(2028, 2, 29), date(2030, 2, 28)]),
        (CMOM_RULES, [date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]),
    ],
    ids=["CMM", "CMOM"],
)
def test_a_feb_29_certification_renews_on_feb_28_except_in_leap_years(rules, ends):
    found = list(islice(cycles(date(2024, 2, 29), [rules]), len(ends)))
    assert [c.ends_on for c in found] == ends
    assert [c.starts_on for c in found[1:]] == ends[:-1], "back to back"


@pytest.mark.parametrize(
    ("day", "number"),
    [
        (date(2020, 1, 1), 1),
        (date(2024, 3, 15), 1),
        (date(2026, 3, 14), 1),
        (date(2026, 3, 15), 2),
        (date(2031, 7, 1), 4),
    ],
)
def test_cycle_on_finds_the_cycle_containing_a_day(day, number):
    assert cycle_on(date(2024, 3, 15), [CMM_RULES], day).number == number
