"""Request bodies: strict msgspec Structs (unknown fields refused), separate from events.

Shapes and simple bounds are checked here, so they show in the OpenAPI schema; the rules
(CEUs against the activity, dates against today) are checked by the domain.  Bodies are
decoded strictly (ledger/api/strict.py): no text for a number, no float for an integer.
Decimal amounts are `Ceus` or `Fraction`: a JSON number, or a string written out plainly
(`"2.5"`; never `"1e1"`, `"+2"` or `"2,5"`), checked by `decimal_of` before they become a
`Decimal`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from ledger.domain.values import TEXT_PATTERN, unsafe_character

__all__ = [
    "MAX_INT",
    "MAX_SEED",
    "PATTERN_WORDS",
    "TEXT_PATTERN",
    "AmendBody",
    "AuditBody",
    "BatchBody",
    "CertificationBody",
    "CompletionBody",
    "DecisionBody",
    "Email",
    "ExtensionBody",
    "ExternalId",
    "FeeBody",
    "FindingBody",
    "Label",
    "ManagerBody",
    "Note",
    "ProfileBody",
    "ProgramBody",
    "ProviderBody",
    "Reason",
    "RefundBody",
    "RenewalBody",
    "RuleVersionBody",
    "RulesBody",
    "StandingBody",
    "Text",
    "TokenBody",
    "VoidBody",
    "decimal_of",
    "is_decimal_marker",
    "is_text_marker",
    "text_of",
]

_TEXT_WORDS = "text without control, bidirectional or zero-width characters"
Cents = Annotated[int, Meta(ge=0, le=10_000_000)]
MAX_BATCH = 1000
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
    Text = Reason = Note = Email = Label = ExternalId = str
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


class Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class TokenBody(Strict, kw_only=True):
    role: Literal["admin", "provider", "manager", "auditor"]
    provider_id: Id | None = None
    manager_id: Id | None = None
    programs: Annotated[list[Code], Meta(max_length=50)] = []
    expires_at: (
        Annotated[
            datetime, Meta(tz=True, description="an RFC 3339 instant with its zone, in the future")
        ]
        | None
    ) = None


class RulesBody(Strict, kw_only=True):
    cycle_months: Annotated[int, Meta(ge=1, le=120)]
    required_ceus: Ceus
    categories: Annotated[
        tuple[Label, ...],
        Meta(min_length=1, max_length=50),
    ] = ("core", "general")
    category_minimums: Annotated[
        dict[Annotated[str, Meta(min_length=1, max_length=64, pattern=TEXT_PATTERN)], Ceus],
        Meta(max_length=50),
    ] = {}
    grace_days: Annotated[int, Meta(ge=0, le=366)]
    fee_cents: Cents
    carryover_max_ceus: Ceus = Decimal(0)
    audit_rate: Fraction = Decimal("0.10")
    correction_window_days: Annotated[int, Meta(ge=0, le=3650)] = 60


class RuleVersionBody(RulesBody, kw_only=True):
    effective_from: date


class ProgramBody(Strict, kw_only=True):
    code: Code
    name: Text
    association: Text
    rules: RuleVersionBody


class ProviderBody(Strict, kw_only=True):
    provider_id: Id
    name: Text
    programs: Annotated[list[Code], Meta(min_length=1, max_length=50)]


class ActivityBody(Strict, kw_only=True):
    activity_id: Id
    title: Text
    format: Label
    ceus: Ceus
    category: Label
    programs: Annotated[list[Code], Meta(min_length=1, max_length=50)]
    starts_on: date
    ends_on: date


class ManagerBody(Strict, kw_only=True):
    manager_id: Id
    name: Text
    email: Email


class CertificationBody(Strict, kw_only=True):
    program: Code
    certified_on: date


class CompletionBody(Strict, kw_only=True):
    external_id: ExternalId
    manager_id: Id
    activity_id: Id
    completed_on: date
    ceus: Ceus


class BatchBody(Strict, kw_only=True):
    """Items are checked one by one (each stands alone, even one that is not an object), so
    they are left undecoded here."""

    items: Annotated[list[Any], Meta(min_length=1, max_length=MAX_BATCH)]


class VoidBody(Strict, kw_only=True):
    reason: Reason


class AmendBody(Strict, kw_only=True):
    reason: Reason
    ceus: Ceus | None = None
    completed_on: date | None = None


class FeeBody(Strict, kw_only=True):
    program: Code
    amount_cents: Annotated[int, Meta(ge=1, le=10_000_000)]
    reference: Text


class RenewalBody(Strict, kw_only=True):
    program: Code


class DecisionBody(Strict, kw_only=True):
    decision: Literal["approve", "deny"]
    reason: Note = ""


class AuditBody(Strict, kw_only=True):
    filed_from: date
    filed_to: date
    rate: Fraction | None = None
    """Fraction of the population to draw; the program's audit_rate if omitted."""
    seed: Annotated[int, Meta(ge=0, le=MAX_SEED)] | None = None
    """Same seed and same population give the same selection; random if omitted."""


class FindingBody(Strict, kw_only=True):
    renewal_id: UUID
    outcome: Literal["passed", "failed"]
    note: Note = ""


class StandingBody(Strict, kw_only=True):
    reason: Reason


class ExtensionBody(Strict, kw_only=True):
    ends_on: date
    reason: Reason


class ProfileBody(Strict, kw_only=True):
    name: Text | None = None
    email: Email | None = None


class RefundBody(Strict, kw_only=True):
    amount_cents: Annotated[int, Meta(ge=1, le=10_000_000)]
    reason: Reason
