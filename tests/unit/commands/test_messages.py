"""The commands' input messages (ledger/commands/messages.py): what each door decodes, the
same shape from the decoder to the domain, refused where its constraints say so."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec
import pytest

from events.catalog import CompletionRecorded
from ledger.commands import messages
from ledger.commands.messages import (
    AmendCompletion,
    DrawAudit,
    Message,
    PayFee,
    PostCompletion,
    RegisterProvider,
    convert,
    convert_form,
    decoder,
)

POSTING = {
    "external_id": "row-1",
    "manager_id": "m-1",
    "activity_id": "act-1",
    "completed_on": "2026-05-02",
    "ceus": "1.5",
}


def _post(**changes: object) -> PostCompletion:
    return decoder(PostCompletion).decode(msgspec.json.encode(POSTING | changes))


def _refusal(**changes: object) -> str:
    with pytest.raises(msgspec.ValidationError) as refused:
        _post(**changes)
    return str(refused.value)


def test_every_message_is_frozen_keyword_only_and_refuses_unknown_fields() -> None:
    kinds = [
        kind
        for name in messages.__all__
        if isinstance(kind := getattr(messages, name), type)
        and issubclass(kind, Message)
        and kind.__struct_fields__
    ]

    assert len(kinds) >= 20
    for kind in kinds:
        config = kind.__struct_config__
        assert (config.frozen, config.forbid_unknown_fields) == (True, True), kind
        with pytest.raises(TypeError, match="positional"):  # keyword-only
            kind(*[None] * len(kind.__struct_fields__))


def test_a_posting_decodes_into_the_message_with_a_plain_decimal_and_date() -> None:
    posting = _post()

    assert posting == PostCompletion(
        external_id="row-1",
        manager_id="m-1",
        activity_id="act-1",
        completed_on=date(2026, 5, 2),
        ceus=Decimal("1.5"),
    )
    assert type(posting.ceus) is Decimal


def test_a_posting_with_a_field_it_does_not_have_is_refused_naming_it() -> None:
    assert "unknown field `provider_id`" in _refusal(provider_id="tma")


@pytest.mark.parametrize(
    ("ceus", "says"),
    [
        ("1e1", "without an exponent"),
        ("2,5", "use a dot"),
        ("+2", "without a sign"),
        ("two", "must be a number"),
        (True, "must be a number"),
    ],
)
def test_ceus_are_refused_unless_written_plainly(ceus: object, says: str) -> None:
    assert says in _refusal(ceus=ceus)


def test_ids_and_text_are_held_to_their_patterns_and_lengths() -> None:
    assert "`$.manager_id`" in _refusal(manager_id="no spaces")
    assert "control, bidirectional or zero-width" in _refusal(external_id="row\n1")
    assert "at most 128 characters" in _refusal(external_id="x" * 129)
    assert "must not be empty" in _refusal(external_id="")


def test_a_posting_is_strict_no_number_for_a_date_and_no_text_for_a_count() -> None:
    assert "Expected `date`" in _refusal(completed_on=20260502)
    with pytest.raises(msgspec.ValidationError, match="Expected `int`"):
        convert({"program": "CMM", "amount_cents": "7500", "reference": "r"}, PayFee)


def test_a_message_is_frozen() -> None:
    with pytest.raises(AttributeError):
        _post().ceus = Decimal(2)  # type: ignore[misc]


def test_a_form_reads_numbers_and_dates_from_text_but_ceus_keep_their_own_rules() -> None:
    amended = convert_form({"reason": "typo", "completed_on": "2026-05-03"}, AmendCompletion)
    assert amended.completed_on == date(2026, 5, 3)
    with pytest.raises(msgspec.ValidationError, match="without an exponent"):
        convert_form({"reason": "typo", "ceus": "1e1"}, AmendCompletion)


def test_lists_are_bounded() -> None:
    with pytest.raises(msgspec.ValidationError, match="length >= 1"):
        convert({"provider_id": "tma", "name": "TMA", "programs": []}, RegisterProvider)
    with pytest.raises(msgspec.ValidationError, match="<= 9007199254740991"):
        convert({"filed_from": "2026-01-01", "filed_to": "2026-02-01", "seed": 2**53}, DrawAudit)


def test_one_spelling_per_valid_amount_and_an_invalid_one_is_left_for_the_rules() -> None:
    assert _post(ceus="1.5").normalized().ceus.as_tuple() == Decimal("1.50").as_tuple()
    assert _post(ceus="1.505").normalized().ceus == Decimal("1.505")
    assert AmendCompletion(reason="x", ceus=Decimal("2")).normalized().ceus == Decimal("2.00")
    assert AmendCompletion(reason="x").normalized().ceus is None


def test_a_stored_posting_is_the_same_posting_when_every_field_of_the_message_matches() -> None:
    posting = _post().normalized()
    stored = CompletionRecorded(
        **msgspec.structs.asdict(posting),
        completion_id=uuid.uuid4(),
        provider_id="tma",
        activity_title="Course",
        category="core",
        programs=("CMM",),
    )

    assert posting.same_as(stored)
    assert not msgspec.structs.replace(posting, ceus=Decimal("2.00")).same_as(stored)
    assert not msgspec.structs.replace(posting, manager_id="m-2").same_as(stored)
