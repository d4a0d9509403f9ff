"""The commit scheduler: many appends, one transaction.

Holding the head lock across its own COMMIT (events/postgres/store.py) means one durable
flush per transaction, whatever the number of writers.  So a store does not run one
transaction per append: `append` and `append_many` put their request in a queue and wait,
and one flusher task per store (on the event loop) takes everything queued, runs it as *one*
transaction, and answers every waiter.  While that transaction waits for its flush, new
requests queue up and become the next batch: under load, batches grow by themselves, and an
idle store answers a lone append at once (no timer, no added latency).  Inside the
transaction, `events.append.Batch` plans the requests in queue order, each exactly as if it
ran alone right after the ones before it: its own expected-version check against the
versions left by the earlier requests (two appends to one stream each see the other's
effect), its own idempotency answer (an exact retry gets the original positions with
``created=False``, other content DuplicateEventId, also when the original is earlier in the
same batch), positions and hashes continuing from the previous request.  Everything is
checked before the single INSERT, so a request that conflicts or is a duplicate simply
contributes no rows: it fails alone, its batch-mates commit, and no savepoint is needed.

Nothing is acknowledged before COMMIT returns: each waiter's future is resolved only after
the flush has returned (for a success, that is its durability), and if the flush fails at
any step, including the COMMIT, every waiter of that batch gets that error, and none of them
is told "stored".  (As with any database client, an error during COMMIT leaves the outcome
unknown; an exact retry then answers it, idempotently.)  A caller that is cancelled while
queued is dropped from the batch; one cancelled after its batch was taken may still be
committed, as a plain append cancelled during COMMIT could.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from events.append import Batch, Outcome
from events.store import AppendItem, EventStoreError

__all__ = ["CommitScheduler", "Flush", "Request", "succeeded"]


class Request:
    """One queued `append` (a group of one, atomic) or `append_many`, and its waiter."""

    __slots__ = ("atomic", "future", "items", "size")

    def __init__(self, items: Sequence[AppendItem], atomic: bool) -> None:
        self.items = items
        self.atomic = atomic
        self.size = sum(len(item[1]) for item in items)
        self.future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()

    def plan(self, batch: Batch) -> list[Outcome] | EventStoreError:
        """This request planned onto `batch`: its outcomes, or the error of an atomic one."""
        try:
            return batch.add(self.items, atomic=self.atomic)
        except EventStoreError as error:
            return error


Flush = Callable[[list[Request]], Awaitable[list[list[Outcome] | EventStoreError]]]
"""Runs a batch of requests as one transaction; each request's answer, in order."""


def succeeded(outcome: list[Outcome] | EventStoreError) -> bool:
    return not isinstance(outcome, EventStoreError) and not any(
        isinstance(o, EventStoreError) for o in outcome
    )


class CommitScheduler:
    """The queue of one store's appends and the flusher task that empties it in batches of
    at most `max_batch_events` events (a request is never split)."""

    def __init__(self, flush: Flush, *, max_batch_events: int) -> None:
        self._flush = flush
        self._max_batch_events = max_batch_events
        self._queue: list[Request] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, items: Sequence[AppendItem], *, atomic: bool) -> list[Outcome]:
        request = Request(items, atomic)
        self._queue.append(request)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_queue())
        return await request.future

    async def _flush_queue(self) -> None:
        """Run batches until the queue is empty; every request taken gets an answer."""
        while self._queue:
            batch = self._take_batch()
            if not batch:
                continue
            try:
                outcomes = await self._flush(batch)
            except Exception as error:
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(error)
                continue
            except BaseException:  # cancelled with the loop: so are the waiters
                for request in batch:
                    request.future.cancel()
                raise
            for request, outcome in zip(batch, outcomes, strict=True):
                if request.future.done():
                    continue
                if isinstance(outcome, EventStoreError):
                    request.future.set_exception(outcome)
                else:
                    request.future.set_result(outcome)

    def _take_batch(self) -> list[Request]:
        """The oldest queued requests up to `max_batch_events` (at least one, never split),
        less those whose caller has gone."""
        taken, size = 0, 0
        for request in self._queue:
            if taken and size + request.size > self._max_batch_events:
                break
            taken, size = taken + 1, size + request.size
        batch, self._queue[:taken] = self._queue[:taken], []
        return [request for request in batch if not request.future.done()]
