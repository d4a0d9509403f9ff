"""Jinja filters: how values read on a page.  Formatting only; every number comes from a view."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "FILTERS",
    "ceus",
    "count",
    "days_in_words",
    "long_date",
    "missing_in_words",
    "money",
    "moment",
    "percent",
]


def ceus(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{Decimal(value):.2f}"


def money(cents: int | None) -> str:
    return "" if cents is None else f"${cents / 100:,.2f}"


def missing_in_words(shortfalls: list[Any]) -> str:
    """[ceus 2.5, fee 7500] -> "2.50 CEUs and the $75.00 fee"."""
    parts = []
    for s in shortfalls:
        if s.requirement == "fee":
            parts.append(f"the {money(int(s.missing))} fee")
        elif s.requirement == "category":
            parts.append(f"{ceus(s.missing)} CEUs of {s.category}")
        else:
            parts.append(f"{ceus(s.missing)} CEUs")
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def days_in_words(days: int) -> str:
    if days > 1:
        return f"{days} days left"
    if days == 1:
        return "1 day left"
    if days == 0:
        return "due today"
    return f"{-days} day{'s' if days < -1 else ''} past the deadline"


def long_date(value: date | datetime | None) -> str:
    """2026-12-06 -> "6 December 2026" (an instant: its UTC day)."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def moment(value: datetime | None) -> str:
    """An instant to the minute, as people write it: "6 December 2026, 14:05 UTC"."""
    if value is None:
        return ""
    return f"{long_date(value)}, {value:%H:%M} UTC"


def percent(fraction: Decimal | None) -> str:
    """0.10 -> "10%", 0.125 -> "12.5%"."""
    if fraction is None:
        return ""
    shown = (Decimal(fraction) * 100).normalize()
    return f"{shown:f}%"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """(1, "renewal") -> "1 renewal"; (2, "renewal") -> "2 renewals"."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


FILTERS = {
    "long_date": long_date,
    "moment": moment,
    "percent": percent,
    "count": count,
    "ceus": ceus,
    "money": money,
    "missing_in_words": missing_in_words,
    "days_in_words": days_in_words,
}
