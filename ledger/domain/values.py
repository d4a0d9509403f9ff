"""The values commands carry: CEU amounts, the calendar dates the ledger deals in, and the
text people write (names, titles, reasons, emails)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

__all__ = [
    "EARLIEST",
    "LATEST",
    "TEXT_PATTERN",
    "in_range",
    "shown",
    "unsafe_character",
    "valid_ceus",
]

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


TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]*$"
"""Text a person writes holds no control character (Cc: NUL, tab, CR, LF, ...) and no
bidirectional or zero-width formatting character (U+200B-U+200F, U+202A-U+202E,
U+2066-U+2069), SPEC 6: a line break in a name breaks a mail header, a right-to-left override
makes a signed name read as another."""
_UNSAFE = re.compile(TEXT_PATTERN.replace("^[^", "[").removesuffix("]*$") + "]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def unsafe_character(text: str) -> str | None:
    """Why `text` may not be stored (the first character TEXT_PATTERN refuses), or None."""
    if (found := _UNSAFE.search(text)) is None:
        return None
    return (
        "must not hold control, bidirectional or zero-width characters"
        f" (U+{ord(found.group()):04X} at position {found.start()})"
    )


def shown(text: str) -> str:
    """`text` as it may be signed or shown even if an old event holds what TEXT_PATTERN now
    refuses: control characters become a space, formatting characters are dropped, NFC."""
    return unicodedata.normalize("NFC", _UNSAFE.sub("", _CONTROLS.sub(" ", text)))
