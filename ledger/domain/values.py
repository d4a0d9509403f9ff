"""The values commands carry: CEU amounts, the calendar dates the ledger deals in, and the
text people write (names, titles, reasons, emails).

The constrained types the input messages (ledger/commands/messages.py) are declared with live
here too, as plain values and msgspec `Meta` constraints (no I/O, no framework):

* `Id`, `Code`, `Cents`: Annotated types whose bounds show in the OpenAPI schema;
  `PATTERN_WORDS` says in words what each pattern means, for error texts.
* `Ceus`, `Fraction` (decimal markers) and `Text`, `Reason`, `Note`, `Email`, `Label`,
  `ExternalId` (text markers): types msgspec does not know, so every decoder hands their raw
  value to `dec_hook`, which checks it as written (`decimal_of`, `text_of`) and returns an
  ordinary `Decimal` or NFC-normalised `str`.  Decimal amounts are a JSON number, or a string
  written out plainly (`"2.5"`; never `"1e1"`, `"+2"` or `"2,5"`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from msgspec import Meta

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_BATCH",
    "MAX_INT",
    "MAX_SEED",
    "PATTERN_WORDS",
    "TEXT_PATTERN",
    "Cents",
    "Ceus",
    "Code",
    "Email",
    "ExternalId",
    "Fraction",
    "Id",
    "Label",
    "Note",
    "Reason",
    "Text",
    "dec_hook",
    "decimal_of",
    "in_range",
    "is_decimal_marker",
    "is_text_marker",
    "shown",
    "text_of",
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


_TEXT_WORDS = "text without control, bidirectional or zero-width characters"
Cents = Annotated[int, Meta(ge=0, le=10_000_000)]
MAX_BATCH = 1000
"""The most postings one roster holds."""
MAX_INT = 2**63 - 1
"""The largest integer PostgreSQL's bigint holds: any integer input beyond it is refused."""
MAX_SEED = 2**53 - 1
"""Audit seeds stay exact in every JSON client (JavaScript numbers are doubles)."""
_ID_WORDS = "1-64 letters, digits, . _ : -"
_CODE_WORDS = "a program code such as CMM"
Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", description=_ID_WORDS)]
Code = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9]{1,15}$", description=_CODE_WORDS)]
PATTERN_WORDS = {
    TEXT_PATTERN: _TEXT_WORDS,
    r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$": _ID_WORDS,
    r"^[A-Z][A-Z0-9]{1,15}$": _CODE_WORDS,
}
"""What each pattern above means, for error texts (msgspec names only the regex)."""


class _PlainDecimal(type):
    """The metaclass of the decimal markers below.  msgspec hands a type it does not know to
    the decoder's `dec_hook` with the raw JSON value (text or number) and checks the hook's
    result with `isinstance`; a marker's instances are exactly the plain Decimals, so the
    decoded value is an ordinary `Decimal` (what events store) while its text was checked."""

    def __instancecheck__(cls, obj: object) -> bool:
        return type(obj) is Decimal


class _DecimalMarker(metaclass=_PlainDecimal):
    PLACES: ClassVar[int]
    LIMIT: ClassVar[Decimal]
    EXAMPLE: ClassVar[str]
    DESCRIPTION: ClassVar[str]


class _Ceus(_DecimalMarker):
    PLACES = 2
    LIMIT = Decimal(10_000)
    EXAMPLE = "2.5"
    DESCRIPTION = 'CEUs: a JSON number or a string such as "2.5", at most 2 decimal places'


class _Fraction(_DecimalMarker):
    PLACES = 6
    LIMIT = Decimal(1)
    EXAMPLE = "0.1"
    DESCRIPTION = 'a fraction from 0 to 1: a JSON number or a string such as "0.1"'


if TYPE_CHECKING:
    Ceus = Decimal
    Fraction = Decimal
else:
    Ceus, Fraction = _Ceus, _Fraction


class _PlainText(type):
    """The metaclass of the text markers below, as `_PlainDecimal` is of the decimal ones:
    msgspec hands the raw JSON value (or form or CSV cell) to `dec_hook`, which returns it
    checked and NFC-normalised (`text_of`), an ordinary `str`."""

    def __instancecheck__(cls, obj: object) -> bool:
        return type(obj) is str


class _TextMarker(metaclass=_PlainText):
    MIN: ClassVar[int] = 1
    MAX: ClassVar[int]
    DESCRIPTION: ClassVar[str] = _TEXT_WORDS


class _Text(_TextMarker):
    MAX = 500


class _Reason(_TextMarker):
    MAX = 2000


class _Note(_TextMarker):
    MIN = 0
    MAX = 2000


class _Email(_TextMarker):
    MIN = 3
    MAX = 254


class _Label(_TextMarker):
    MAX = 64


class _ExternalId(_TextMarker):
    MAX = 128


if TYPE_CHECKING:
    Text = str
    Reason = str
    Note = str
    Email = str
    Label = str
    ExternalId = str
else:
    Text, Reason, Note, Email = _Text, _Reason, _Note, _Email
    Label, ExternalId = _Label, _ExternalId
"""The one type of every name, title, reason, note, email and label a person writes (SPEC 6):
refused with a clear message when it holds a control, bidirectional or zero-width formatting
character, and stored NFC-normalised, whichever door it came through (API body, roster line,
web form, CLI roster)."""


def is_text_marker(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, _TextMarker)


def text_of(marker: type[_TextMarker], value: object) -> str:
    """`value` as checked, NFC-normalised text; else ValueError saying what is wrong.  Its
    length is judged as sent (as the OpenAPI schema says), before normalising."""
    if not isinstance(value, str):
        raise ValueError("must be text")
    if (why := unsafe_character(value)) is not None:
        raise ValueError(why)
    if len(value) < marker.MIN:
        raise ValueError("must not be empty" if marker.MIN == 1 else f"at least {marker.MIN}")
    if len(value) > marker.MAX:
        raise ValueError(f"at most {marker.MAX} characters")
    return unicodedata.normalize("NFC", value)


_PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?|-?(NaN|sNaN|Infinity|Inf)", re.IGNORECASE)
"""What `decimal_of` lets through to the domain, which judges the value: its sign, places,
range and finiteness, naming every bad field at once."""
_EXPONENT = re.compile(r"[0-9]*\.?[0-9]+[eE][+-]?[0-9]+")


def is_decimal_marker(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, _DecimalMarker)


def decimal_of(marker: type[_DecimalMarker], value: object) -> Decimal:
    """`value` (a decoded JSON number or text, or a CSV cell) as a Decimal, if it is written
    plainly; else ValueError saying what to write instead.  The form is checked here, where
    the text is still at hand; the value (positive, places, range) by the domain."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be a number such as {marker.EXAMPLE}")
    if not isinstance(value, str):
        return Decimal(value if isinstance(value, int) else repr(value))
    if "," in value:
        raise ValueError(f"use a dot for decimals, such as {marker.EXAMPLE}")
    if value.startswith("+"):
        raise ValueError("write the number without a sign")
    if _EXPONENT.fullmatch(value):
        raise ValueError("write the number out in full, without an exponent (10, not 1e1)")
    if not _PLAIN.fullmatch(value):
        raise ValueError(f"must be a number such as {marker.EXAMPLE}")
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # cannot happen for what _PLAIN matches
        raise ValueError(f"must be a number such as {marker.EXAMPLE}") from exc


def dec_hook(kind: type, value: Any) -> Any:
    """msgspec's `dec_hook` for the markers above, the same in every decoder (API body, roster
    line, web form, CLI roster)."""
    if is_decimal_marker(kind):
        return decimal_of(kind, value)
    if is_text_marker(kind):
        return text_of(kind, value)
    raise NotImplementedError(f"no decoder for {kind!r}")
