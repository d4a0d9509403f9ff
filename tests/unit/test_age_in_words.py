"""The program page's "last checked" words (ledger/documents/filters.py `age_in_words`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.documents.filters import age_in_words

NOW = datetime(2026, 12, 6, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "words"),
    [
        (timedelta(0), "just now"),
        (timedelta(seconds=1), "just now"),
        (timedelta(seconds=12), "12 seconds ago"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=3, seconds=59), "3 minutes ago"),
        (timedelta(hours=2), "2 hours ago"),
        (timedelta(days=1, hours=5), "1 day ago"),
        (timedelta(seconds=-30), "just now"),
    ],
)
def test_an_age_is_said_in_its_largest_whole_unit(ago, words):
    assert age_in_words(NOW - ago, NOW) == words


def test_never_checked_says_so():
    assert age_in_words(None, NOW) == "not checked yet"
