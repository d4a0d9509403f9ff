"""Forms people finish: a posted form becomes the command's own input message
(ledger/commands/messages.py), checked field by field so that every mistake is named at once,
in plain words, beside its field (the GOV.UK Design System's error summary and error message
patterns)."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from ledger.commands.messages import convert_form
from ledger.domain.errors import DomainError, Invalid
from ledger.domain.values import PATTERN_WORDS, is_decimal_marker

__all__ = ["FormInvalid", "form_values", "parse_form", "errors_of"]

T = TypeVar("T", bound=msgspec.Struct)


class FormInvalid(Exception):
    """The form's mistakes, field name -> message ("" names no single field)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _base(annotation: Any) -> Any:
    """`Annotated[date | None, Meta(...)]` -> date."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return _base(args[0]) if len(args) == 1 else annotation
    return annotation


def _message(label: str, annotation: Any, detail: str) -> str:
    base = _base(annotation)
    if is_decimal_marker(base):
        # decimal_of's own words ("use a dot for decimals, such as 2.5"), minus msgspec's path
        return f"Enter {label} as a number: {detail.split(' - at ')[0]}"
    if base is date:
        return f"Enter {label} as a date, YYYY-MM-DD (for example 2026-03-31)"
    if base is Decimal:
        return f"Enter {label} as a number such as 1.5, with a dot for decimals"
    if base is int:
        return f"Enter {label} as a whole number"
    if typing.get_origin(base) is typing.Literal:
        return f"Choose {label}: one of {', '.join(map(str, typing.get_args(base)))}"
    for pattern, words in PATTERN_WORDS.items():
        if f"regex '{pattern}'" in detail.replace("\\\\", "\\"):
            return f"Enter {label} as {words}"
    if "length" in detail:
        return f"{label.capitalize()} is too long or empty"
    return f"Check {label}: {detail}"


def form_values(form: Mapping[str, Any], lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """The form's fields without the CSRF token, trimmed; list fields split on commas/spaces."""
    values: dict[str, Any] = {}
    for key, raw in form.items():
        if key.startswith("_") or not isinstance(raw, str):
            continue
        values[key] = raw.strip()
    for key in lists:
        values[key] = values.get(key, "").replace(",", " ").split()
    return values


def parse_form(values: Mapping[str, Any], body: type[T], labels: Mapping[str, str]) -> T:
    """`values` as a `body`, or FormInvalid naming every bad field."""
    errors: dict[str, str] = {}
    given: dict[str, Any] = {}
    for field in msgspec.structs.fields(body):
        label = labels.get(field.name, field.name.replace("_", " "))
        value = values.get(field.name)
        if value in (None, "", []):
            if field.required:
                errors[field.name] = f"Enter {label}"
            continue
        try:
            given[field.name] = convert_form(value, field.type)
        except msgspec.ValidationError as exc:
            errors[field.name] = _message(label, field.type, str(exc))
        else:
            if problem := _decimal_problem(field.type, given[field.name]):
                errors[field.name] = f"Enter {label} {problem}"
    if errors:
        raise FormInvalid(errors)
    # Each field is converted once, above, with its own constraints; the values are already
    # the body's types (a Decimal is not converted again: its marker reads text or numbers).
    try:
        return body(**given)
    except (TypeError, ValueError) as exc:
        raise FormInvalid({"": str(exc)}) from exc


def _decimal_problem(annotation: Any, value: Any) -> str:
    """What a person must change in a decimal the parser read: its places and its range are
    the marker's (CEUs: at most 2 places), said here beside the field rather than by the
    domain in its own terms."""
    marker = _base(annotation)
    if not (is_decimal_marker(marker) and isinstance(value, Decimal)):
        return ""
    if not value.is_finite():
        example: str = marker.EXAMPLE
        return "as a number such as " + example
    if value < 0:
        return "as a number of 0 or more, without a sign"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > marker.PLACES:
        return f"with at most {marker.PLACES} decimal places"
    if value > marker.LIMIT:
        return f"as a number no larger than {marker.LIMIT}"
    return ""


def errors_of(exc: DomainError) -> dict[str, str]:
    """A refusal by the rules, as form errors: a field's own message when it names one."""
    if isinstance(exc, Invalid):
        return {e.field.split(".")[0]: e.message for e in exc.errors}
    return {"": exc.detail}
