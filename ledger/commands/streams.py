"""Streams (one per consistency boundary) and the load / decide / append loop.

* `program-{code}`   the program and its rule versions
* `provider-{id}`    the provider
* `activity-{id}`    one activity; a stream of its own so that ids are unique ledger-wide
                     (registering appends with expected version 0)
* `manager-{id}`     everything about one manager: certifications, completions and their
                     corrections, fees, renewals and decisions, revocations, findings
* `audit-{id}`       one audit draw

A write loads its stream, folds it, asks a pure `decide` function for events, and appends
them expecting the version it loaded.  If another writer got there first the append is a
ConcurrencyConflict and the loop starts again from the new state: decisions are always made
on the state they are appended to.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID, uuid5

from events.catalog import (
    CompletionRecorded,
    Event,
    ProgramDefined,
    ProgramRulesRevised,
    RenewalFiled,
)
from events.codec import decode, encode
from events.store import ConcurrencyConflict
from ledger.domain.catalogue import evolve_program
from ledger.domain.record import ManagerRecord, fold

if TYPE_CHECKING:
    from datetime import date, datetime

    from events.codec import Metadata
    from events.store import AppendResult, EventStore
    from ledger.domain.catalogue import Program

__all__ = [
    "activity_stream",
    "append_decided",
    "audit_stream",
    "completion_id",
    "load",
    "load_manager",
    "load_programs",
    "manager_stream",
    "program_stream",
    "provider_stream",
]

S = TypeVar("S")

_NAMESPACE = UUID("6f0c4f3e-2d7b-4c55-9a51-0c3e1c2b9d10")


def program_stream(code: str) -> str:
    return f"program-{code}"


def provider_stream(provider_id: str) -> str:
    return f"provider-{provider_id}"


def activity_stream(activity_id: str) -> str:
    return f"activity-{activity_id}"


def manager_stream(manager_id: str) -> str:
    return f"manager-{manager_id}"


def audit_stream(audit_id: UUID) -> str:
    return f"audit-{audit_id}"


def completion_id(provider_id: str, external_id: str) -> UUID:
    """A provider's posting has one id forever: retries land on the same fact."""
    return uuid5(_NAMESPACE, f"completion\x1f{provider_id}\x1f{external_id}")


def event_id(event: Event, new_id: Callable[[], UUID]) -> UUID:
    """Completions and renewals are identified by their recording event, so that the store's
    idempotency and `find` work for them directly."""
    match event:
        case CompletionRecorded(completion_id=cid):
            return cid
        case RenewalFiled(renewal_id=rid):
            return rid
    return new_id()


async def load(
    store: EventStore,
    stream: str,
    evolve: Callable[[S | None, Event], S],
    *,
    known_at: datetime | None = None,
) -> tuple[S | None, int]:
    state: S | None = None
    recorded = await store.read_stream(stream, known_at=known_at)
    for event in recorded:
        state = evolve(state, decode(event))
    return state, recorded[-1].version if recorded else 0


async def load_manager(
    store: EventStore,
    manager_id: str,
    *,
    known_at: datetime | None = None,
    as_of: date | None = None,
) -> tuple[ManagerRecord | None, int]:
    recorded = await store.read_stream(manager_stream(manager_id), known_at=known_at)
    record = fold([(decode(r), r.recorded_at) for r in recorded], as_of)
    return record, recorded[-1].version if recorded else 0


async def load_programs(
    store: EventStore, *, known_at: datetime | None = None
) -> dict[str, Program]:
    """Every program, from the (few) program events, as known at `known_at`."""
    programs: dict[str, Program] = {}
    async for recorded in _program_events(store):
        if known_at is None or recorded.recorded_at <= known_at:
            event = decode(recorded)
            assert isinstance(event, ProgramDefined | ProgramRulesRevised)
            programs[event.program] = evolve_program(programs.get(event.program), event)
    return programs


async def _program_events(store: EventStore):  # type: ignore[no-untyped-def]
    after = 0
    while batch := await store.read_all(
        after=after, limit=500, types=["program_defined", "program_rules_revised"]
    ):
        for recorded in batch:
            yield recorded
        after = batch[-1].position


async def append_decided(
    store: EventStore,
    stream: str,
    load_state: Callable[[], Awaitable[tuple[S | None, int]]],
    decide: Callable[[S | None], list[Event]],
    metadata: Metadata,
    new_id: Callable[[], UUID],
    *,
    attempts: int = 20,
) -> tuple[list[Event], AppendResult]:
    """Load, decide, append; again on a conflict.  A decision either raises or returns events."""
    for attempt in range(attempts):
        state, version = await load_state()
        events = decide(state)
        assert events, "a decision that records nothing should have raised"
        batch = [encode(e, metadata=metadata, event_id=event_id(e, new_id)) for e in events]
        try:
            return events, await store.append(stream, batch, expected_version=version)
        except ConcurrencyConflict:
            if attempt == attempts - 1:
                raise
            # Back off a little, with jitter, so that a crowd of writers spreads out.
            await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
    raise AssertionError("unreachable")
