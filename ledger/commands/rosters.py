"""A roster: many postings in one request, each standing alone.

New postings are grouped by manager, and each manager's lines are decided one after the
other against one load of the record, each line seeing the lines accepted before it (so two
lines with the same manager, activity and date meet the same rule as two separate posts),
and appended together.  A line the rules refuse takes only itself out of its group.  If a
concurrent request records one of the group's ids first, the group falls back to posting its
lines one at a time, which resolves each against what is stored.  A line repeated within the
roster is answered like a retry of its first occurrence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from events.catalog import CompletionRecorded
from events.store import DuplicateEventId
from ledger.commands.base import write_manager
from ledger.commands.completions import (
    Duplicate,
    Posted,
    Posting,
    Receipt,
    decide_posting,
    earlier_posting,
    record_completion,
)
from ledger.domain.errors import DomainError
from ledger.domain.record import evolve

if TYPE_CHECKING:
    from events.catalog import Event
    from ledger.commands.base import Context, Ledger
    from ledger.domain.record import ManagerRecord

__all__ = ["Outcome", "record_completions"]

Outcome = Posted | DomainError
Line = tuple[int, Posting]


class _AllRefused(Exception):
    """Every line of a group was refused: there is nothing to append."""


async def record_completions(
    ledger: Ledger, ctx: Context, provider_id: str, postings: list[Posting]
) -> list[Outcome]:
    """One outcome per posting, in order: a receipt (created or not), or why it was refused."""
    postings = [p.normalized() for p in postings]
    outcomes: dict[int, Outcome] = {}
    first_of: dict[str, int] = {}
    groups: dict[str, list[Line]] = {}
    for i, posting in enumerate(postings):
        if first_of.setdefault(posting.external_id, i) != i:
            continue  # a repeat within this roster: answered from its first line below
        try:
            earlier = await earlier_posting(ledger, provider_id, posting)
        except DomainError as refused:
            outcomes[i] = refused
            continue
        if earlier is not None:
            outcomes[i] = earlier
        else:
            groups.setdefault(posting.manager_id, []).append((i, posting))
    for lines in groups.values():
        outcomes |= await _record_group(ledger, ctx, provider_id, lines)
    return [
        outcomes[i] if (first := first_of[p.external_id]) == i
        else _repeat(p, postings[first], outcomes[first])
        for i, p in enumerate(postings)
    ]  # fmt: skip


def _repeat(posting: Posting, first: Posting, first_outcome: Outcome) -> Outcome:
    if posting.content() != first.content():
        return Duplicate(posting.external_id)
    if isinstance(first_outcome, Posted):
        return msgspec.structs.replace(first_outcome, created=False)
    return first_outcome


async def _record_group(
    ledger: Ledger, ctx: Context, provider_id: str, lines: list[Line]
) -> dict[int, Outcome]:
    activities = {p.activity_id: await ledger.catalogue.activity(p.activity_id) for _, p in lines}
    refused: dict[int, Outcome] = {}
    accepted: list[int] = []

    def decide_all(record: ManagerRecord | None) -> list[Event]:
        refused.clear()  # a retry after a conflict decides everything again
        accepted.clear()
        events: list[Event] = []
        for i, posting in lines:
            decide = decide_posting(ledger, provider_id, posting, activities[posting.activity_id])
            try:
                decided = decide(record)
            except DomainError as why:
                refused[i] = why
                continue
            accepted.append(i)
            events += decided
            # The next line is decided as if this one were already stored.
            record = evolve(record, decided[0], ledger.clock())
        if not events:
            raise _AllRefused
        return events

    try:
        written = await write_manager(ledger, ctx, lines[0][1].manager_id, decide_all)
    except _AllRefused:
        return refused
    except DuplicateEventId:
        return {i: await _alone(ledger, ctx, provider_id, posting) for i, posting in lines}
    result, receipts = written.result, dict(refused)
    for offset, (i, event) in enumerate(zip(accepted, written.events, strict=True)):
        assert isinstance(event, CompletionRecorded)
        position = result.first_position + offset
        receipt = Receipt.of(event, position, result.recorded_at)
        receipts[i] = Posted(receipt=receipt, created=result.created)
    return receipts


async def _alone(ledger: Ledger, ctx: Context, provider_id: str, posting: Posting) -> Outcome:
    try:
        return await record_completion(ledger, ctx, provider_id, posting)
    except DomainError as refused:
        return refused
