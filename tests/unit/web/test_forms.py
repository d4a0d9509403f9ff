"""A posted form becomes the API's own body: decimals typed as people type them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.commands.messages import AmendCompletion, DrawAudit, RegisterActivity
from ledger.web.forms import FormInvalid, form_values, parse_form

ACTIVITY = {
    "activity_id": "act-1",
    "title": "Coding update",
    "format": "online",
    "category": "core",
    "starts_on": "2026-01-05",
    "ends_on": "2026-01-05",
}


def activity(ceus: str) -> RegisterActivity:
    values = form_values({**ACTIVITY, "ceus": ceus, "programs": "CMM CMOM"}, lists=("programs",))
    return parse_form(values, RegisterActivity, {"ceus": "the CEUs"})


def test_a_decimal_typed_with_a_dot_is_accepted() -> None:
    body = activity("2.5")
    assert body.ceus == Decimal("2.5")
    assert body.programs == ["CMM", "CMOM"]
    assert body.starts_on == date(2026, 1, 5)


def test_a_whole_number_is_accepted_as_a_decimal() -> None:
    assert activity("3").ceus == Decimal(3)


def test_a_decimal_typed_with_a_comma_asks_for_a_dot() -> None:
    with pytest.raises(FormInvalid) as refused:
        activity("1,5")
    assert "dot" in refused.value.errors["ceus"]


def test_an_empty_required_decimal_is_asked_for() -> None:
    with pytest.raises(FormInvalid) as refused:
        activity("")
    assert refused.value.errors == {"ceus": "Enter the CEUs"}


def test_an_optional_decimal_left_empty_is_none_and_a_rate_with_a_dot_is_read() -> None:
    assert parse_form({"reason": "typo"}, AmendCompletion, {}).ceus is None
    assert parse_form({"reason": "typo", "ceus": "1.25"}, AmendCompletion, {}).ceus == Decimal(
        "1.25"
    )
    audit = parse_form(
        {"filed_from": "2026-01-01", "filed_to": "2026-12-31", "rate": "0.25"}, DrawAudit, {}
    )
    assert audit.rate == Decimal("0.25")


def test_a_decimal_with_a_comma_says_use_a_dot_for_decimals() -> None:
    with pytest.raises(FormInvalid) as refused:
        activity("2,5")
    assert refused.value.errors["ceus"] == (
        "Enter the CEUs as a number: use a dot for decimals, such as 2.5"
    )


def test_a_decimal_with_too_many_places_says_at_most_2_decimal_places() -> None:
    with pytest.raises(FormInvalid) as refused:
        activity("1.255")
    assert refused.value.errors["ceus"] == "Enter the CEUs with at most 2 decimal places"
    with pytest.raises(FormInvalid) as amended:
        parse_form({"reason": "typo", "ceus": "0.125"}, AmendCompletion, {"ceus": "the new CEUs"})
    assert amended.value.errors == {"ceus": "Enter the new CEUs with at most 2 decimal places"}


def test_a_negative_or_huge_decimal_is_named_beside_its_field() -> None:
    with pytest.raises(FormInvalid) as negative:
        activity("-1")
    assert "0 or more" in negative.value.errors["ceus"]
    with pytest.raises(FormInvalid) as huge:
        activity("100000")
    assert "no larger than" in huge.value.errors["ceus"]
