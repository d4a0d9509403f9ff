"""What every command shares: the store, the clock, new ids, and the write loop."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from functools import partial
from typing import Any
from uuid import UUID

import msgspec

from events.catalog import Event
from events.codec import Actor, Metadata
from events.store import AppendResult, EventStore, utc_now
from ledger.commands.streams import (
    append_decided,
    load,
    load_manager,
    load_programs,
    manager_stream,
    program_stream,
)
from ledger.domain.catalogue import Program, evolve_program
from ledger.domain.errors import NotFound
from ledger.domain.managers import require_manager
from ledger.domain.record import ManagerRecord

__all__ = ["Context", "LedgerBase", "enrolled"]

ManagerDecision = Callable[[ManagerRecord | None], list[Event]]


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """Who is asking, and in which request: becomes every event's metadata."""

    actor: Actor
    request_id: str

    @property
    def metadata(self) -> Metadata:
        return Metadata(actor=self.actor, request_id=self.request_id)


def enrolled(record: ManagerRecord | None, manager_id: str) -> ManagerRecord:
    return require_manager(record, manager_id)


class LedgerBase:
    def __init__(
        self,
        store: EventStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], UUID] = uuid.uuid4,
    ) -> None:
        self.store = store
        self.clock = clock
        self.new_id = new_id

    def today(self) -> date:
        """The ledger's calendar day (UTC)."""
        return self.clock().date()

    async def _write(
        self,
        ctx: Context,
        stream: str,
        load_state: Callable[[], Awaitable[tuple[Any, int]]],
        decide: Callable[[Any], list[Event]],
    ) -> tuple[list[Event], AppendResult]:
        return await append_decided(
            self.store, stream, load_state, decide, ctx.metadata, self.new_id
        )

    async def _write_manager(
        self, ctx: Context, manager_id: str, decide: ManagerDecision
    ) -> AppendResult:
        load_state = partial(load_manager, self.store, manager_id)
        return (await self._write(ctx, manager_stream(manager_id), load_state, decide))[1]

    async def program(self, code: str, *, known_at: datetime | None = None) -> Program | None:
        return (await load(self.store, program_stream(code), evolve_program, known_at=known_at))[0]

    async def programs(self, *, known_at: datetime | None = None) -> dict[str, Program]:
        return await load_programs(self.store, known_at=known_at)

    async def existing_program(self, code: str) -> Program:
        program = await self.program(code)
        if program is None:
            raise NotFound("program", code)
        return program

    async def manager(
        self, manager_id: str, *, as_of: date | None = None, known_at: datetime | None = None
    ) -> ManagerRecord | None:
        """A manager's record folded from the stream: as recorded by `known_at`, and as it
        stood on `as_of` (see ledger/domain/record.py::happened_by)."""
        return (await load_manager(self.store, manager_id, known_at=known_at, as_of=as_of))[0]
