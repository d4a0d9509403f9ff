"""The values commands carry: CEU amounts and the calendar dates the ledger deals in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

__all__ = ["EARLIEST", "LATEST", "in_range", "valid_ceus"]

EARLIEST, LATEST = date(1970, 1, 1), date(2199, 12, 31)
"""The dates the ledger deals in: far enough back for any credential still held, and far
enough ahead that every cycle boundary stays a real calendar date."""


def in_range(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def valid_ceus(value: Decimal) -> str | None:
    """Why `value` is not a valid CEU amount, or None if it is."""
    if not value.is_finite() or value <= 0:
        return "must be a positive number"
    if value > 10_000:
        return "at most 10000"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return "at most 2 decimal places"
    return None
