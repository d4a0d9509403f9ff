"""Names, titles, reasons and emails are one type (SPEC 6; issue 16, attacks 5 and 7): each
door (a JSON body, a roster line of the API or the CLI, a web form) refuses control,
bidirectional and zero-width formatting characters naming the field, and keeps text
NFC-normalised; and what an old event holds is signed and shown without them."""

from __future__ import annotations

import json

import msgspec
import pytest
from litestar.exceptions import ValidationException

from ledger.api import strict
from ledger.commands.messages import (
    ChangeProfile,
    EnrollManager,
    PostCompletion,
    RegisterActivity,
    VoidCompletion,
    convert,
)
from ledger.domain.values import shown
from ledger.web.forms import FormInvalid, form_values, parse_form

HOUSE = "Dr. Gregory House\u202e\u200b"
UNSAFE = ["Ann\nLee", "Ann\r\nBcc: x@example.org", "a\x00b", "Ann\u202eLee", "Ann\u200b", HOUSE]
MANAGER = {"manager_id": "m-1", "name": "Ann", "email": "ann@example.org"}
ACTIVITY = {
    "activity_id": "act-1", "title": "Coding update", "format": "online", "ceus": "2",
    "category": "core", "programs": "CMM", "starts_on": "2026-01-05", "ends_on": "2026-01-05",
}  # fmt: skip
LINE = {
    "external_id": "r-1", "manager_id": "m-1", "activity_id": "act-1",
    "completed_on": "2026-01-05", "ceus": "2",
}  # fmt: skip


@pytest.mark.parametrize("value", UNSAFE)
@pytest.mark.parametrize("field", ["name", "email"])
def test_a_json_body_with_unsafe_text_is_a_422_naming_the_field(field: str, value: str) -> None:
    body = json.dumps(MANAGER | {field: value}).encode()

    with pytest.raises(ValidationException) as refused:
        strict.decode(body, EnrollManager)

    assert isinstance(refused.value.extra, list)
    assert [e["key"] for e in refused.value.extra] == [field]


@pytest.mark.parametrize("value", UNSAFE)
def test_a_roster_line_with_unsafe_text_is_refused_as_the_cli_and_the_api_read_it(
    value: str,
) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"external_id"):
        convert(LINE | {"external_id": value}, PostCompletion)


@pytest.mark.parametrize("value", ["Coding\nupdate", "Coding \u202eupdate", "Coding\u2066"])
def test_a_web_form_with_unsafe_text_names_the_field(value: str) -> None:
    values = form_values(ACTIVITY | {"title": value}, lists=("programs",))

    with pytest.raises(FormInvalid) as refused:
        parse_form(values, RegisterActivity, {})

    assert set(refused.value.errors) == {"title"}


def test_the_house_name_is_refused_as_a_profile_change() -> None:
    with pytest.raises(ValidationException):
        strict.decode(json.dumps({"name": HOUSE}).encode(), ChangeProfile)


def test_every_door_keeps_text_nfc_normalised() -> None:
    decomposed = "Rene\u0301e"

    from_json = strict.decode(json.dumps(MANAGER | {"name": decomposed}).encode(), EnrollManager)
    from_roster = convert(LINE | {"external_id": decomposed}, PostCompletion)
    from_form = parse_form(form_values({"reason": decomposed}), VoidCompletion, {})

    assert from_json.name == from_roster.external_id == from_form.reason == "Renée"


def test_odd_but_safe_text_is_kept_as_written() -> None:
    for text in ("O'Brien; DROP TABLE", "Zoë ✓ \U0001d518", "שלום", "=HYPERLINK()"):
        body = json.dumps(MANAGER | {"name": text}).encode()
        assert strict.decode(body, EnrollManager).name == text


def test_a_name_an_old_event_holds_is_shown_without_formatting_or_control_characters() -> None:
    assert shown(HOUSE) == "Dr. Gregory House"
    assert shown("Mo\r\nBcc: x") == "Mo Bcc: x"
    assert shown("Rene\u0301e") == "Renée"
