"""The metered store: what this process appended, counted by event type.

It is the observed store (events/observed.py) with one observer, `count_appended`, that adds
each newly stored event to a counter labelled by type: an exact retry (`created=False`) and
a refused item (a conflict, a duplicate) count nothing, so the count is the events this
process really added to the log.  The counter is anything shaped like prometheus_client's
`Counter` with a `type` label (the API passes `ceu_ledger_events_appended`); this floor
does not import the metrics library.  The contract suite (tests/contract/) runs against the
metered store wrapping the in-memory and the PostgreSQL store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from events.observed import AppendObserver, ObservedStore
from events.store import AppendItem, AppendResult, EventStore, EventStoreError

__all__ = ["TypeCounter", "count_appended", "metered"]


class _Child(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class TypeCounter(Protocol):
    """A counter with a `type` label (prometheus_client's `Counter(..., ["type"])`)."""

    def labels(self, *, type: str) -> _Child: ...


def count_appended(counter: TypeCounter) -> AppendObserver:
    """An observer counting each newly stored event of an append, by type."""

    def observe(
        items: Sequence[AppendItem], outcomes: Sequence[AppendResult | EventStoreError]
    ) -> None:
        for (_, events, _), outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, AppendResult) and outcome.created:
                for event in events:
                    counter.labels(type=event.type).inc()

    return observe


def metered(store: EventStore, counter: TypeCounter, *observers: AppendObserver) -> ObservedStore:
    """`store`, its appends counted in `counter` (and told to any further `observers`)."""
    return ObservedStore(store, *observers, count_appended(counter))
