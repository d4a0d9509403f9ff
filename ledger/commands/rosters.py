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
   meanwhile) is decided again on its fresh tail, alone with the other conflicted groups, a
   few rounds at most, then line by line through the stream queue.  A group that met a
   DuplicateEventId (a concurrent request recorded one of its ids first) falls back to
   posting its lines one at a time, which resolves each against what is stored.
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
import random
from typing import TYPE_CHECKING

import msgspec

from events.catalog import CompletionRecorded
from events.codec import encode_all
from events.store import AppendItem, AppendResult, ConcurrencyConflict
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

__all__ = ["Outcome", "record_completions"]

Outcome = Posted | DomainError
Line = tuple[int, rules.Line]
"""A roster line's index and the posting as the rules see it (with its completion id)."""
ROUNDS = 4
"""Rounds of `append_many` for groups that keep conflicting, before going line by line."""


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


async def _record_groups(
    ledger: Ledger,
    ctx: Context,
    provider_id: str,
    groups: dict[str, list[Line]],
    postings: list[PostCompletion],
) -> dict[int, Outcome]:
    activities, today = await _activities(ledger, groups), ledger.today()
    outcomes: dict[int, Outcome] = {}
    alone: list[int] = []
    pending = groups
    for round_ in range(ROUNDS):
        states = await ledger.managers.current_many(pending)
        items: list[AppendItem] = []
        accepted: list[tuple[str, list[tuple[int, CompletionRecorded]]]] = []
        for manager_id, lines in pending.items():
            record, version = states[manager_id]
            decided = rules.record_completions(
                record, [line for _, line in lines], activities,
                provider_id=provider_id, today=today,
            )  # fmt: skip
            taken: list[tuple[int, CompletionRecorded]] = []
            for (i, _), outcome in zip(lines, decided, strict=True):
                if isinstance(outcome, DomainError):
                    outcomes[i] = outcome
                else:
                    taken.append((i, outcome))
            if taken:
                batch = encode_all(((e, e.completion_id) for _, e in taken), metadata=ctx)
                items.append(AppendItem(manager_stream(manager_id), batch, version))
                accepted.append((manager_id, taken))
        if not items:
            return outcomes
        conflicted: dict[str, list[Line]] = {}
        for (manager_id, taken), outcome in zip(
            accepted, await ledger.store.append_many(items), strict=True
        ):
            if isinstance(outcome, AppendResult):
                for offset, (i, event) in enumerate(taken):
                    position = outcome.first_position + offset
                    receipt = Receipt.of(event, position, outcome.recorded_at)
                    outcomes[i] = Posted(receipt=receipt, created=outcome.created)
                if outcome.created:
                    record = states[manager_id][0]
                    ledger.managers.keep_appended(record, [e for _, e in taken], outcome)
            elif isinstance(outcome, ConcurrencyConflict):
                conflicted[manager_id] = pending[manager_id]
            else:  # DuplicateEventId: one of the ids was recorded meanwhile
                alone += [i for i, _ in pending[manager_id]]
        if not conflicted:
            break
        pending = conflicted
        await asyncio.sleep(random.uniform(0, 0.002 * (round_ + 1)))
    else:
        alone += [i for lines in pending.values() for i, _ in lines]
    for i in alone:
        outcomes[i] = await _alone(ledger, ctx, provider_id, postings[i])
    return outcomes


async def _alone(
    ledger: Ledger, ctx: Context, provider_id: str, posting: PostCompletion
) -> Outcome:
    try:
        return await record_completion(ledger, ctx, provider_id, posting)
    except DomainError as refused:
        return refused
