"""How dates, times, rates and counts read on a page: as people write them ("6 December 2026",
"10%", "1 renewal"), never as ISO stamps with microseconds, fractions or "1 renewals".

Formatting only (ledger/web/filters.py holds CEUs and money); every value comes from a view.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["FORMAT_FILTERS", "day", "moment", "percent", "plural", "words"]


def day(value: date | datetime | None) -> str:
    """2026-12-06 -> "6 December 2026" (a datetime is read in UTC); None -> ""."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value.astimezone(UTC) if value.tzinfo else value).date()
    return f"{value.day} {value:%B %Y}"


def moment(value: datetime | None) -> str:
    """A stamp to the minute: "6 December 2026 at 14:05 UTC"; None -> ""."""
    if value is None:
        return ""
    at = value.astimezone(UTC) if value.tzinfo else value
    return f"{day(at)} at {at:%H:%M} UTC"


def percent(rate: Decimal | float | None) -> str:
    """0.1 -> "10%", 0.125 -> "12.5%"; None -> ""."""
    if rate is None:
        return ""
    shown = (Decimal(str(rate)) * 100).normalize()
    return f"{shown:f}%"


def plural(count: int, one: str, many: str | None = None) -> str:
    """(1, "renewal") -> "1 renewal", (3, "renewal") -> "3 renewals"."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def words(value: Any) -> str:
    """An enum-like value as a word: "not_counted" -> "Not counted"; None -> ""."""
    return "" if value is None else str(value).replace("_", " ").capitalize()


FORMAT_FILTERS = {
    "day": day,
    "moment": moment,
    "percent": percent,
    "plural": plural,
    "words": words,
}
