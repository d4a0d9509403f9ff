"""Intent-named builders for test data."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import msgspec

from events.store import NewEvent

_counter = itertools.count(1)


def fact(
    type: str = "thing_happened",
    *,
    event_id: uuid.UUID | None = None,
    schema_version: int = 1,
    request_id: str = "req-1",
    **data: object,
) -> NewEvent:
    """A new event with a JSON payload; each call is a distinct fact unless ids are given."""
    payload = data or {"n": next(_counter)}
    return NewEvent(
        event_id=event_id or uuid.uuid4(),
        type=type,
        schema_version=schema_version,
        data=msgspec.json.encode({"type": type, **payload}),
        metadata=msgspec.json.encode(
            {"actor": {"role": "admin", "id": "t"}, "request_id": request_id}
        ),
    )


def facts(count: int, type: str = "thing_happened") -> list[NewEvent]:
    return [fact(type) for _ in range(count)]


class SteppingClock:
    """A clock that the test moves by hand."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
