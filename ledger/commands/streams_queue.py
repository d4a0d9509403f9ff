"""Writes to one manager's stream, queued and combined within this process.

A busy manager stream (16 writers posting to one manager) would otherwise be a storm of
optimistic retries: every writer loads, decides, appends, and all but one meet a
ConcurrencyConflict and start over, until some run out of attempts and a new, distinct
posting is refused.  Instead, `StreamQueue.write` puts each decision in the stream's queue,
and one drain task per busy stream runs them in rounds:

1. **Gather.**  A round takes every decision queued for the stream (in arrival order);
   whatever arrives while the round runs waits for the next one.  An idle stream runs a
   lone write at once: nothing waits for a timer.
2. **Decide in order.**  The round loads the record once (`ManagerLoader.current`: the
   snapshot plus the stream's tail) and calls each decision in turn; each sees the events
   of the decisions before it, folded with `ledger.domain.record.evolve`, exactly as if
   they had been stored one after the other.  A decision that raises (a DomainError, or
   anything else) is that caller's answer alone and changes nothing for the others.

   A round of first tries on a manager this process holds a snapshot of decides on the
   snapshot alone, without reading the tail (**speculative**): after each round that
   appends, the loader keeps the record as stored (the round's events folded in at their
   stored `recorded_at`), so in a process that is the stream's only writer the snapshot is
   the stream and the tail read would return nothing.  The append's expected version
   guards it: if another process appended meanwhile, the items conflict and are decided
   again on the fresh tail (point 3), without counting as lost rounds.  A refusal is never
   answered from a speculation: a caller whose decision raised in a speculative round is
   decided again in the next round, on the fresh tail, and only that answer is given.
3. **Append once.**  The accepted decisions go to the store in one `append_many`, one item
   per caller, each expecting the version left by the items before it; the store runs it
   as one transaction (and coalesces it with other streams' appends).  So every caller gets
   its own AppendResult (its own first and last positions, its own `created`), or its own
   store error:

   * DuplicateEventId (an id stored before with other content): that caller's error; the
     items after it then expected a version that was never reached, see next point.
   * ConcurrencyConflict: the item's decision was made on a state that is not the stream's
     (another process appended first, or an earlier item of this round did not go in).
     Those callers are decided again in the next round, first in line, against the fresh
     tail.  Conflicts can then only come from other processes, so a hot stream is queued,
     not refused; after `attempts` rounds lost to other processes, the caller gets the
     ConcurrencyConflict.
   * A decision whose event ids repeat those of an earlier decision in the same round (two
     identical postings racing) waits for the next round, where the store answers it as
     the exact retry it is (`created=False`, the original's positions).

An error of the round itself (the database went away) is every caller of the round's
answer.  A caller cancelled while queued is dropped; one cancelled during its round may
still be stored, as a plain append cancelled during COMMIT could be.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from events.catalog import Event
from events.codec import encode_all
from events.store import AppendItem, AppendResult, ConcurrencyConflict, EventStoreError
from ledger.commands.streams import manager_stream
from ledger.domain.record import evolve

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from events.codec import Metadata
    from events.store import EventStore
    from ledger.commands.loaders import ManagerLoader
    from ledger.domain.record import ManagerRecord

__all__ = ["Decide", "StreamQueue", "Written"]

Decide = Callable[["ManagerRecord | None"], list[Event]]


class Written(msgspec.Struct, frozen=True, kw_only=True):
    events: list[Event]
    result: AppendResult


@dataclass(slots=True)
class _Job:
    ctx: Metadata
    decide: Decide
    future: asyncio.Future[Written]
    lost: int = 0
    """Rounds this job lost to another process's append."""
    tries: int = 0
    """Rounds this job was decided in."""
    events: list[Event] = field(default_factory=list)


class StreamQueue:
    """Queued writes per manager stream; see the module docstring for order and failure."""

    def __init__(
        self,
        store: EventStore,
        managers: ManagerLoader,
        *,
        clock: Callable[[], datetime],
        event_id: Callable[[Event], UUID],
        attempts: int = 20,
    ) -> None:
        self._store = store
        self._managers = managers
        self._clock = clock
        self._event_id = event_id
        self._attempts = attempts
        self._queues: dict[str, list[_Job]] = {}
        self._drains: dict[str, asyncio.Task[None]] = {}
        self.rounds = 0
        """Rounds run (for tests and the benchmark)."""
        self.speculative_rounds = 0
        """Of those, the ones decided on the snapshot without reading the tail."""

    async def write(self, ctx: Metadata, manager_id: str, decide: Decide) -> Written:
        """Decide on the manager's record (after every write queued before this one) and
        append; the decision raises to refuse."""
        job = _Job(ctx, decide, asyncio.get_running_loop().create_future())
        self._queues.setdefault(manager_id, []).append(job)
        if manager_id not in self._drains:
            self._drains[manager_id] = asyncio.create_task(self._drain(manager_id))
        return await job.future

    async def _drain(self, manager_id: str) -> None:
        try:
            while jobs := self._queues.pop(manager_id, None):
                jobs = [job for job in jobs if not job.future.done()]
                try:
                    again = await self._round(manager_id, jobs) if jobs else []
                except Exception as error:  # the round itself failed: all of it
                    for job in jobs:
                        if not job.future.done():
                            job.future.set_exception(error)
                    continue
                except BaseException:
                    for job in jobs:
                        job.future.cancel()
                    raise
                if again:  # first in line for the next round
                    self._queues[manager_id] = again + self._queues.get(manager_id, [])
        finally:
            del self._drains[manager_id]

    async def _round(self, manager_id: str, jobs: list[_Job]) -> list[_Job]:  # noqa: C901 (split by the commands change of issue 17)
        """Decide `jobs` on one load, append them in one call; the jobs to run again."""
        self.rounds += 1
        kept = self._managers.kept(manager_id)
        speculative = kept is not None and not any(job.tries for job in jobs)
        if speculative:
            assert kept is not None
            record, version = kept, kept.version
            self.speculative_rounds += 1
        else:
            record, version = await self._managers.current(manager_id)
        start, stream, now = record, manager_stream(manager_id), self._clock()
        taken: list[_Job] = []
        later: list[_Job] = []
        ids: set[UUID] = set()
        items: list[AppendItem] = []
        for job in jobs:
            job.tries += 1
            try:
                events = job.decide(record)
                assert events, "a decision that records nothing should have raised"
                batch = encode_all(((e, self._event_id(e)) for e in events), metadata=job.ctx)
                if ids.intersection(e.event_id for e in batch):
                    later.append(job)  # an exact repeat of an earlier decision: next round
                    continue
                after = record
                for event in events:  # the next decision sees this one as stored
                    after = evolve(after, event, now)
            except Exception as refused:
                if speculative:
                    later.append(job)  # refused on the snapshot: decide again on the tail
                else:
                    _fail(job, refused)
                continue
            record = after
            ids.update(e.event_id for e in batch)
            job.events = events
            items.append(AppendItem(stream, batch, version))
            taken.append(job)
            version += len(events)
        if not items:
            return later
        outcomes = await self._store.append_many(items)
        self._keep(start, taken, outcomes)
        again: list[_Job] = []
        for index, (job, outcome) in enumerate(zip(taken, outcomes, strict=True)):
            if isinstance(outcome, AppendResult):
                if not job.future.done():  # (its caller may have gone meanwhile)
                    job.future.set_result(Written(events=job.events, result=outcome))
            elif isinstance(outcome, ConcurrencyConflict):
                # The first item conflicts only if another process appended first (after
                # a speculation: before the snapshot was taken, perhaps; not a lost round).
                job.lost += index == 0 and not speculative
                if job.lost >= self._attempts:
                    _fail(job, outcome)
                else:
                    again.append(job)
            else:
                _fail(job, outcome)
        if again and again[0] is taken[0]:
            # Another process is writing this stream too: spread out a little.
            await asyncio.sleep(random.uniform(0, 0.002 * again[0].lost))
        return again + later

    def _keep(
        self,
        record: ManagerRecord | None,
        taken: list[_Job],
        outcomes: list[AppendResult | EventStoreError],
    ) -> None:
        """The record the round was decided on, with every item's events folded in as
        stored, as the manager's snapshot: only while every item was newly stored, in order."""
        for job, outcome in zip(taken, outcomes, strict=True):
            if not isinstance(outcome, AppendResult) or not outcome.created:
                return
            if (record := self._managers.keep_appended(record, job.events, outcome)) is None:
                return


def _fail(job: _Job, error: BaseException) -> None:
    if not job.future.done():  # (its caller may have gone meanwhile)
        job.future.set_exception(error)
