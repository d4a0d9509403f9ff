"""Stored events must stay readable forever.  tests/golden/ keeps one stored example of every
event type at every schema version; each must decode, and a current-version one must encode
back to the very same bytes (the hash chain covers them).  A change to the catalogue that
breaks this needs a new schema_version and an upcaster (events/codec.py), never an edit here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
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
