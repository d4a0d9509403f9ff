"""Jinja filters: how values read on a page.  Formatting only; every number comes from a view."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["FILTERS", "ceus", "missing_in_words", "money"]


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


FILTERS = {
    "ceus": ceus,
    "money": money,
    "missing_in_words": missing_in_words,
    "days_in_words": days_in_words,
}
