"""Stored events must stay readable forever.  tests/golden/ keeps one stored example of every
event type at every schema version; each must decode, and a current-version one must encode
back to the very same bytes (the hash chain covers them).  A change to the catalogue that
breaks this needs a new schema_version and an upcaster (events/codec.py), never an edit here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from events.codec import EVENT_TYPES, Actor, Metadata, decode, encode
from events.store import RecordedEvent

GOLDEN = Path(__file__).parent.parent / "golden"


class Stored(msgspec.Struct):
    type: str
    schema_version: int
    data: msgspec.Raw


def _stored() -> list[Stored]:
    lines = []
    for path in sorted(GOLDEN.glob("events_v*.jsonl")):
        lines += [msgspec.json.decode(line, type=Stored) for line in path.read_bytes().splitlines()]
    return lines


def _recorded(stored: Stored) -> RecordedEvent:
    data = bytes(stored.data)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return RecordedEvent(
        1, uuid.uuid4(), "s", 1, stored.type, stored.schema_version, data, b"{}", now, b"", b""
    )


def test_every_event_type_has_a_golden_example():
    assert {s.type for s in _stored()} >= set(EVENT_TYPES)


@pytest.mark.parametrize("stored", _stored(), ids=lambda s: f"{s.type}-v{s.schema_version}")
def test_a_stored_event_decodes_and_encodes_to_the_same_bytes(stored):
    event = decode(_recorded(stored))

    assert type(event) is EVENT_TYPES[stored.type]
    if stored.schema_version == event.schema_version:
        metadata = Metadata(actor=Actor(role="admin", id="a"), request_id="r")
        assert encode(event, metadata=metadata, event_id=uuid.uuid4()).data == bytes(stored.data)


def test_every_version_of_every_event_type_has_a_golden_example():
    stored = {(s.type, s.schema_version) for s in _stored()}
    wanted = {(t, v) for t, cls in EVENT_TYPES.items() for v in range(1, cls.schema_version + 1)}
    assert stored >= wanted


def _first(type_: str, version: int):
    stored = next(s for s in _stored() if (s.type, s.schema_version) == (type_, version))
    return decode(_recorded(stored))


def test_rules_stored_before_closed_categories_name_the_defaults_and_their_minimums():
    defined = _first("program_defined", 1)
    revised = _first("program_rules_revised", 1)

    assert defined.rules.categories == ("core", "general")  # its minimum is on core
    assert revised.rules.categories == ("core", "general")  # no minimums at all


def test_an_upcast_rule_set_keeps_a_category_with_a_minimum_in_its_closed_list():
    stored = Stored(
        type="program_defined",
        schema_version=1,
        data=msgspec.Raw(
            b'{"type":"program_defined","program":"X","name":"X","association":"A","rules":'
            b'{"effective_from":"2000-01-01","cycle_months":12,"required_ceus":"12",'
            b'"category_minimums":{"ethics":"1","core":"2"},"grace_days":30,"fee_cents":0,'
            b'"audit_rate":"0.1","correction_window_days":60}}'
        ),
    )
    assert decode(_recorded(stored)).rules.categories == ("core", "general", "ethics")


def test_a_fee_stored_before_fees_had_ids_has_none():
    assert _first("fee_paid", 1).fee_id is None
    assert _first("fee_paid", 2).fee_id == uuid.UUID(int=5)


def test_rules_stored_before_workshops_get_the_default_presence_and_claim_window():
    for type_, version in [("program_defined", 1), ("program_defined", 2)]:
        rules = _first(type_, version).rules
        assert (rules.min_presence, rules.claim_window_days) == (Decimal("0.9"), 30)
    assert _first("program_rules_revised", 3).rules.min_presence == Decimal("0.75")


def test_a_completion_stored_before_workshops_names_no_sessions():
    assert _first("completion_recorded", 1).sessions == ()
    assert _first("completion_amended", 1).sessions is None
    assert _first("completion_recorded", 2).sessions == ("s-1",)


def test_rules_stored_before_sources_of_credit_have_no_source_minimums_or_maximums():
    for type_ in ("program_defined", "program_rules_revised"):
        for version in (1, 2, 3):
            rules = _first(type_, version).rules
            assert (rules.source_minimums, rules.source_maximums) == ({}, {})
    revised = _first("program_rules_revised", 4).rules
    assert revised.source_minimums == {"approved": Decimal(12)}
    assert revised.source_maximums == {"self": Decimal(12)}


def test_a_renewal_filed_before_sources_counted_providers_postings():
    assert [c.source for c in _first("renewal_filed", 1).completions] == ["provider"]
    assert [c.source for c in _first("renewal_filed", 2).completions] == ["approved", "self"]
