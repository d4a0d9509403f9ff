"""Facts to stored bytes and back, with one typed decoder for the whole catalogue.

Stored events keep the schema version they were written with.  Reading one written with an
older version runs it through the upcasters registered here, oldest first, until it has the
current shape; nothing stored is ever rewritten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, get_args

import msgspec

from events.catalog import Event, LedgerEvent
from events.store import NewEvent

if TYPE_CHECKING:
    from uuid import UUID

    from events.store import RecordedEvent

__all__ = [
    "EVENT_TYPES",
    "Actor",
    "Metadata",
    "UnknownEventType",
    "decode",
    "encode",
    "encode_all",
    "type_of",
]


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    role: str
    id: str


class Metadata(msgspec.Struct, frozen=True, kw_only=True):
    """Who asked for a fact to be recorded, and in which request.  No secrets here."""

    actor: Actor
    request_id: str


class UnknownEventType(Exception):
    pass


def type_of(cls: type[Event]) -> str:
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str), f"{cls.__name__} needs an explicit tag"
    return tag


EVENT_TYPES: dict[str, type[Event]] = {type_of(cls): cls for cls in get_args(LedgerEvent)}
_TAGS: dict[type[Event], str] = {cls: tag for tag, cls in EVENT_TYPES.items()}

_encoder = msgspec.json.Encoder(decimal_format="string")
_DECODERS = {name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()}
"""One typed decoder per event type: a third faster than decoding the union of them all."""

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _with_categories(payload: dict[str, Any]) -> dict[str, Any]:
    """Rules before the closed category list: the defaults, and any category with a minimum."""
    rules = payload["rules"]
    named = ["core", "general", *sorted(rules.get("category_minimums", {}))]
    return {**payload, "rules": {**rules, "categories": list(dict.fromkeys(named))}}


def _with_fee_id(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "fee_id": None}


def _with_workshop_rules(payload: dict[str, Any]) -> dict[str, Any]:
    """Rules before workshops: the defaults (present for 90% of a session, claims overdue
    after 30 days)."""
    rules = {"min_presence": "0.9", "claim_window_days": 30, **payload["rules"]}
    return {**payload, "rules": rules}


def _with_no_sessions(payload: dict[str, Any]) -> dict[str, Any]:
    """A completion posted before workshops names no sessions."""
    return {"sessions": [], **payload}


def _sessions_unchanged(payload: dict[str, Any]) -> dict[str, Any]:
    return {"sessions": None, **payload}


def _with_no_source_rules(payload: dict[str, Any]) -> dict[str, Any]:
    """Rules before the sources of credit: no source minimums or maximums."""
    rules = {"source_minimums": {}, "source_maximums": {}, **payload["rules"]}
    return {**payload, "rules": rules}


def _counted_from_providers(payload: dict[str, Any]) -> dict[str, Any]:
    """A renewal filed before the sources of credit counted providers' postings only."""
    counted = [{"source": "provider", **c} for c in payload["completions"]]
    return {**payload, "completions": counted}


_UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("program_defined", 1): _with_categories,
    ("program_rules_revised", 1): _with_categories,
    ("program_defined", 2): _with_workshop_rules,
    ("program_rules_revised", 2): _with_workshop_rules,
    ("fee_paid", 1): _with_fee_id,
    ("completion_recorded", 1): _with_no_sessions,
    ("completion_amended", 1): _sessions_unchanged,
    ("program_defined", 3): _with_no_source_rules,
    ("program_rules_revised", 3): _with_no_source_rules,
    ("renewal_filed", 1): _counted_from_providers,
}
"""(event type, version it reads) -> function returning the payload at version + 1."""


def encode(event: Event, *, metadata: Metadata, event_id: UUID) -> NewEvent:
    [encoded] = encode_all([(event, event_id)], metadata=metadata)
    return encoded


def encode_all(events: Iterable[tuple[Event, UUID]], *, metadata: Metadata) -> list[NewEvent]:
    """Events of one request, (event, event_id) pairs, with its metadata (encoded once)."""
    meta = _encoder.encode(metadata)
    return [
        NewEvent(
            event_id=event_id,
            type=_TAGS[type(event)],
            schema_version=event.schema_version,
            data=_encoder.encode(event),
            metadata=meta,
        )
        for event, event_id in events
    ]


def decode(recorded: RecordedEvent) -> Event:
    cls = EVENT_TYPES.get(recorded.type)
    if cls is None:
        raise UnknownEventType(recorded.type)
    if recorded.schema_version == cls.schema_version:
        event: Event = _DECODERS[recorded.type].decode(recorded.data)
        return event
    payload = msgspec.json.decode(recorded.data)
    for version in range(recorded.schema_version, cls.schema_version):
        payload = _UPCASTERS[(recorded.type, version)](payload)
    upcast: Event = msgspec.convert(payload, LedgerEvent)
    return upcast
