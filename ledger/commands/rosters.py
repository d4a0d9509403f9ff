"""A roster: many postings in one request, each standing alone, written in one transaction.

1. The earlier postings of every line are looked up in one read (`find_many`): an exact
   retry gets its original receipt, the same external_id with other content is refused.
2. The new lines are grouped by manager, and every manager's record is loaded in one read
   (`ManagerLoader.current_many`).  Each manager's lines are decided one after the other,
   each line seeing the lines accepted before it (so two lines with the same manager,
   activity and date meet the same rule as two separate posts).  A line the rules refuse
   takes only itself out of its group.
3. Every group goes to the store in one `append_many` (one transaction, one commit), one
   item per manager expecting the version its lines were decided on; each item has its own
   outcome.  A group that met a ConcurrencyConflict (another writer appended to that manager
   meanwhile) goes through the same stream queue as a single posting
   (ledger/commands/streams_queue.py), as one decision of that manager's stream: decided
   again on the fresh tail, queued behind (and combined with) the process's other writes to
   that manager, retried with the one conflict policy (events/backoff.py `CONFLICTS`) while
   other processes keep getting there first.  A group that met a DuplicateEventId (a
   concurrent request recorded one of its ids first), or that lost every round, falls back
   to posting its lines one at a time, which resolves each against what is stored.

   Why the first append is not the queue's too: the queue decides one stream at a time, on
   a load of that stream, so a roster over 500 managers would cost 500 loads (and 500
   queue rounds, coalesced into a few transactions by the store, but each waiting for its
   own).  The first round instead loads every manager in one read (`current_many`) and
   appends every group in one call, one transaction and one commit for the whole roster,
   with the same per-group guarantees: each item is checked against its own expected
   version, and a group that fails takes nothing else with it.  Only the groups that met
   another writer, a few at most, pay for the queue.
4. A group appended keeps its record, with its events folded in at the append's
   recorded_at, as the manager's snapshot (`ManagerLoader.keep_appended`): the next load of that
   manager reads no tail instead of reading back, decoding and folding what was just written.

Per line, the work is only the line's own: the activities are looked up once per roster, a
manager's lines are decided by one pure `record_completions` (the same-day rule looks in an
index built in one pass over the record), and a group's events are encoded with its
metadata encoded once (`encode_all`).

A line repeated within the roster is answered like a retry of its first occurrence.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from events.catalog import CompletionRecorded, Event
from events.codec import encode_all
from events.store import AppendItem, AppendResult, ConcurrencyConflict, EventStoreError
from ledger.commands.base import event_id
from ledger.commands.completions import (
    Duplicate,
    Posted,
    Receipt,
    earlier_of,
    record_completion,
)
from ledger.commands.loaders import find_completions
from ledger.commands.streams import completion_id, manager_stream
from ledger.domain import completions as rules
from ledger.domain.errors import DomainError

if TYPE_CHECKING:
    from uuid import UUID

    from ledger.commands.base import Context, Ledger
    from ledger.commands.messages import PostCompletion
    from ledger.domain.catalogue import Activity
    from ledger.domain.record import ManagerRecord

__all__ = ["Outcome", "record_completions"]

Outcome = Posted | DomainError
Line = tuple[int, rules.Line]
"""A roster line's index and the posting as the rules see it (with its completion id)."""


async def record_completions(
    ledger: Ledger, ctx: Context, provider_id: str, postings: list[PostCompletion]
) -> list[Outcome]:
    """One outcome per posting, in order: a receipt (created or not), or why it was refused."""
    postings = [p.normalized() for p in postings]
    outcomes: dict[int, Outcome] = {}
    first_of: dict[str, int] = {}
    for i, posting in enumerate(postings):
        first_of.setdefault(posting.external_id, i)
    cids = {i: completion_id(provider_id, postings[i].external_id) for i in first_of.values()}
    found = await find_completions(ledger.store, cids.values())
    groups: dict[str, list[Line]] = {}
    for i, cid in cids.items():
        try:
            earlier = earlier_of(postings[i], found.get(cid))
        except DomainError as refused:
            outcomes[i] = refused
            continue
        if earlier is not None:
            outcomes[i] = earlier
        else:
            groups.setdefault(postings[i].manager_id, []).append((i, _line(postings[i], cid)))
    if groups:
        outcomes |= await _record_groups(ledger, ctx, provider_id, groups, postings)
    return [
        outcomes[i] if (first := first_of[p.external_id]) == i
        else _repeat(p, postings[first], outcomes[first])
        for i, p in enumerate(postings)
    ]  # fmt: skip


def _line(posting: PostCompletion, cid: UUID) -> rules.Line:
    return cid, posting


def _repeat(posting: PostCompletion, first: PostCompletion, first_outcome: Outcome) -> Outcome:
    if not posting.same_as(first):
        return Duplicate(posting.external_id)
    if isinstance(first_outcome, Posted):
        return msgspec.structs.replace(first_outcome, created=False)
    return first_outcome


async def _activities(ledger: Ledger, groups: dict[str, list[Line]]) -> dict[str, Activity | None]:
    """Every line's activity, looked up once per activity (None: not registered)."""
    ids = {posting.activity_id for lines in groups.values() for _, (_, posting) in lines}
    return {a: await ledger.catalogue.activity(a) for a in sorted(ids)}


class _Group:
    """One manager's new lines of the roster, and what the rules made of them the last time
    they were decided."""

    __slots__ = ("lines", "manager_id", "refused", "taken")

    def __init__(self, manager_id: str, lines: list[Line]) -> None:
        self.manager_id = manager_id
        self.lines = lines
        self.refused: dict[int, Outcome] = {}
        self.taken: list[tuple[int, CompletionRecorded]] = []

    def decide(self, record: ManagerRecord | None, rule: Rule) -> list[Event]:
        """The lines decided on `record`, one after the other; the events of those accepted,
        then the claims they fulfil (after every completion, so that a line's receipt is at
        its completion's offset in the append)."""
        self.refused, self.taken = {}, []
        decided = rule(record, [line for _, line in self.lines])
        for (i, _), outcome in zip(self.lines, decided, strict=True):
            if isinstance(outcome, DomainError):
                self.refused[i] = outcome
            else:
                self.taken.append((i, outcome))
        recorded = [event for _, event in self.taken]
        if record is None or not recorded:
            return list(recorded)
        return [*recorded, *rules.claims_fulfilled(record, recorded)]

    def posted(self, result: AppendResult) -> dict[int, Outcome]:
        """Every line's outcome, the accepted ones appended as `result` says."""
        outcomes = dict(self.refused)
        for offset, (i, event) in enumerate(self.taken):
            receipt = Receipt.of(event, result.first_position + offset, result.recorded_at)
            outcomes[i] = Posted(receipt=receipt, created=result.created)
        return outcomes


Rule = Callable[
    ["ManagerRecord | None", list[rules.Line]],
    list["CompletionRecorded | DomainError"],
]
"""`rules.record_completions` with the roster's activities, provider and day."""


class _NothingAccepted(Exception):
    """A group's lines were all refused: nothing to append (the refusals are the answer)."""


async def _record_groups(
    ledger: Ledger,
    ctx: Context,
    provider_id: str,
    groups: dict[str, list[Line]],
    postings: list[PostCompletion],
) -> dict[int, Outcome]:
    """Every group decided on one load and appended in one call; a group that met another
    writer through the stream queue, one that met a recorded id line by line."""
    activities, today = await _activities(ledger, groups), ledger.today()
    rule: Rule = partial(
        rules.record_completions, activities=activities, provider_id=provider_id, today=today
    )
    states = await ledger.managers.current_many(groups)
    outcomes: dict[int, Outcome] = {}
    items: list[AppendItem] = []
    accepted: list[_Group] = []
    events_of: dict[str, list[Event]] = {}
    for manager_id, lines in groups.items():
        group = _Group(manager_id, lines)
        record, version = states[manager_id]
        if events := group.decide(record, rule):
            events_of[manager_id] = events
            batch = encode_all(((e, event_id(e, ledger.new_id)) for e in events), metadata=ctx)
            items.append(AppendItem(manager_stream(manager_id), batch, version))
            accepted.append(group)
        outcomes |= group.refused
    if not items:
        return outcomes
    conflicted: list[_Group] = []
    alone: list[int] = []
    for group, outcome in zip(accepted, await ledger.store.append_many(items), strict=True):
        if isinstance(outcome, AppendResult):
            outcomes |= group.posted(outcome)
            if outcome.created:
                record = states[group.manager_id][0]
                ledger.managers.keep_appended(record, events_of[group.manager_id], outcome)
        elif isinstance(outcome, ConcurrencyConflict):
            conflicted.append(group)
        else:  # DuplicateEventId: one of the ids was recorded meanwhile
            alone += [i for i, _ in group.lines]
    for answer in await asyncio.gather(*(_queued(ledger, ctx, g, rule) for g in conflicted)):
        outcomes |= answer.outcomes
        alone += answer.alone
    for i in sorted(alone):
        outcomes[i] = await _alone(ledger, ctx, provider_id, postings[i])
    return outcomes


class _Answer(NamedTuple):
    outcomes: dict[int, Outcome]
    alone: list[int]
    """The lines to post one at a time."""


async def _queued(ledger: Ledger, ctx: Context, group: _Group, rule: Rule) -> _Answer:
    """A group that met another writer, through the manager's stream queue as one decision
    (on the stream as stored: the snapshot is behind)."""

    def decide(record: ManagerRecord | None) -> list[Event]:
        if events := group.decide(record, rule):
            return events
        raise _NothingAccepted

    try:
        written = await ledger.writes.write(ctx, group.manager_id, decide, fresh=True)
    except _NothingAccepted:
        return _Answer(dict(group.refused), [])
    except EventStoreError:  # a recorded id, or every round lost: line by line
        return _Answer({}, [i for i, _ in group.lines])
    return _Answer(group.posted(written.result), [])


async def _alone(
    ledger: Ledger, ctx: Context, provider_id: str, posting: PostCompletion
) -> Outcome:
    try:
        return await record_completion(ledger, ctx, provider_id, posting)
    except DomainError as refused:
        return refused
