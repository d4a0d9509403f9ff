"""What both doors say about a refusal: the HTTP status of a refused command, a parser's
message in the caller's words, and how long a busy service asks to be left alone."""

from __future__ import annotations

import re
from collections.abc import Callable

from ledger.commands import Duplicate
from ledger.domain.errors import (
    AlreadyExists,
    AlreadyRecorded,
    DomainError,
    NotAllowed,
    NotFound,
    WrongState,
)
from ledger.domain.values import PATTERN_WORDS

__all__ = ["RETRY_AFTER", "human", "status_of"]

RETRY_AFTER = "1"
"""Seconds a 503 (the database away, the workers busy) asks the client to wait."""

_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "text",
    "bool": "true or false",
    "object": "a JSON object",
    "array": "a list",
    "null": "null",
    "decimal": "a number",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "an ISO 8601 instant",
    "uuid": "a UUID",
}


def _words(kind: str) -> str:
    return " or ".join(_WORDS.get(k.strip(), k.strip()) for k in kind.split("|"))


def _bound(kind: str, op: str, n: str) -> str:
    sized = {"str": "characters", "array": "items", "object": "entries"}.get(kind)
    word = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}[op]
    if sized is None:
        return f"{word} {n}"
    if op == ">=" and n == "1":
        return "must not be empty"
    return f"{word} {n} {sized}"


def _pattern(regex: str) -> str:
    return PATTERN_WORDS.get(regex, f"must match {regex}")


_PHRASES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"Invalid RFC3339 encoded date$"), lambda m: "use YYYY-MM-DD"),
    (
        re.compile(r"Invalid RFC3339 encoded datetime$"),
        lambda m: "use an ISO 8601 instant such as 2026-06-15T14:30:00Z",
    ),
    (re.compile(r"Invalid UUID"), lambda m: "must be a UUID"),
    (re.compile(r"Object contains unknown field `([^`]+)`"), lambda m: f"unknown field {m[1]}"),
    (re.compile(r"Object missing required field `([^`]+)`"), lambda m: f"{m[1]} is required"),
    (re.compile(r"Invalid enum value (.+)$"), lambda m: f"{m[1]} is not one of the allowed values"),
    (re.compile(r"Expected `int`, got `float`"), lambda m: "must be a whole number (no decimals)"),
    (
        re.compile(r"Expected `([^`]+)`, got `([^`]+)`"),
        lambda m: f"must be {_words(m[1])}, not {_words(m[2])}",
    ),
    (re.compile(r"Expected `str` matching regex '(.+)'"), lambda m: _pattern(m[1])),
    (
        re.compile(r"Expected `(\w+)` of length (>=|<=) (\d+)"),
        lambda m: _bound(m[1], m[2], m[3]),
    ),
    (re.compile(r"Expected `(\w+)` (>=|<=|>|<) (\S+)"), lambda m: _bound(m[1], m[2], m[3])),
]


def human(message: str) -> str:
    """A parser's message (msgspec's, without its ` - at ...` part) in the caller's words."""
    for pattern, say in _PHRASES:
        if (found := pattern.search(message)) is not None:
            return say(found)
    return message


def status_of(exc: DomainError) -> int:
    """The one mapping from a refused command to an HTTP status."""
    match exc:
        case NotFound():
            return 404
        case AlreadyExists() | AlreadyRecorded() | WrongState() | Duplicate():
            return 409
        case NotAllowed():
            return 403
    return 422
