"""A provider's median delay, read off its histogram of days from completed_on to posting
(projections/claims_queries.py): the middle one, or the mean of the two middle ones."""

from __future__ import annotations

from projections.claims_queries import median_days


def test_the_median_of_an_odd_count_is_its_middle_day():
    assert median_days([(3, 1), (5, 1), (26, 1)]) == 5.0
    assert median_days([(0, 2), (9, 1)]) == 0.0


def test_the_median_of_an_even_count_is_the_mean_of_its_two_middle_days():
    assert median_days([(1, 1), (4, 1)]) == 2.5
    assert median_days([(2, 3), (10, 3)]) == 6.0
    assert median_days([(7, 4)]) == 7.0


def test_no_posting_has_no_median():
    assert median_days([]) is None
