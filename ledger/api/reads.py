"""How the API reads, and why its answers are never stale.

* One manager, now: the `ceu` projection's snapshot of the record, plus whatever the stream
  holds beyond the snapshot's version, folded with the same `evolve`.  The answer is exactly
  the fold of the whole stream (a client that just posted sees its posting) without waiting
  for the projector, and costs one primary-key read and one short indexed read.
* One manager, as of a date or as known at an instant: fold the stream (bitemporal reads).
* Across managers (renewal register, due list, audits): wait until the projection has
  caught up with the log's head as it was when the request arrived, then query it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import TYPE_CHECKING

from events.codec import decode
from events.postgres import fetch_head
from ledger.commands.streams import manager_stream
from ledger.domain.errors import NotFound
from ledger.domain.record import ManagerRecord, evolve
from projections import ceu_queries
from projections.engine import read_checkpoint

if TYPE_CHECKING:
    from datetime import date, datetime

    import asyncpg

    from ledger.commands import Ledger
    from ledger.domain.catalogue import Program

__all__ = ["ProjectionBehind", "Reads"]


def _aware(instant: datetime | None) -> datetime | None:
    """An instant without a time zone is taken as UTC, the ledger's clock."""
    if instant is None or instant.tzinfo is not None:
        return instant
    return instant.replace(tzinfo=UTC)


class ProjectionBehind(Exception):
    """The read model did not catch up in time (the projector is down or far behind)."""


class Reads:
    def __init__(
        self, pool: asyncpg.Pool, ledger: Ledger, *, catch_up_timeout: float = 10.0
    ) -> None:
        self.pool = pool
        self.ledger = ledger
        self.catch_up_timeout = catch_up_timeout

    async def record(
        self, manager_id: str, *, as_of: date | None = None, known_at: datetime | None = None
    ) -> ManagerRecord:
        known_at = _aware(known_at)
        if as_of is not None or known_at is not None:
            record = await self.ledger.manager(manager_id, as_of=as_of, known_at=known_at)
        else:
            record = await self._current(manager_id)
        if record is None:
            raise NotFound("manager", manager_id)
        return record

    async def _current(self, manager_id: str) -> ManagerRecord | None:
        async with self.pool.acquire() as conn:
            snapshot = await ceu_queries.manager_record(conn, manager_id)
        after = 0 if snapshot is None else snapshot.version
        record = snapshot
        for recorded in await self.ledger.store.read_stream(
            manager_stream(manager_id), after_version=after
        ):
            record = evolve(record, decode(recorded), recorded.recorded_at)
        return record

    async def programs(self, *, known_at: datetime | None = None) -> dict[str, Program]:
        return await self.ledger.programs(known_at=_aware(known_at))

    async def program(self, code: str, *, known_at: datetime | None = None) -> Program:
        program = (await self.programs(known_at=known_at)).get(code)
        if program is None:
            raise NotFound("program", code)
        return program

    async def caught_up(self, conn: asyncpg.Connection, projection: str = "ceu") -> None:
        """Return once `projection` has processed every event committed before this call."""
        head = (await fetch_head(conn)).position
        delay = 0.002
        try:
            async with asyncio.timeout(self.catch_up_timeout):
                while (await read_checkpoint(conn, projection)).position < head:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.1)
        except TimeoutError as exc:
            raise ProjectionBehind(projection) from exc
