"""A roster: many postings in one request, each standing alone.

New postings are grouped by manager, and each manager's are decided one by one against one
load of the record and appended together, in one transaction: a roster of a thousand lines
for two hundred managers costs two hundred appends, not a thousand.  A posting that the rules
refuse takes only itself out of its group.  If a concurrent request records one of the
group's ids first, the group falls back to posting its lines one at a time, which resolves
each against what is stored.  A line repeated within the roster is answered like a retry of
its first occurrence.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import msgspec

from events.catalog import CompletionRecorded, Event
from events.store import DuplicateEventId
from ledger.commands.completions import CompletionCommands, Duplicate, Posting, Receipt, receipt_of
from ledger.commands.streams import completion_id, load_manager, manager_stream
from ledger.domain import decide
from ledger.domain.errors import DomainError

if TYPE_CHECKING:
    from uuid import UUID

    from ledger.commands.base import Context
    from ledger.domain.catalogue import Activity
    from ledger.domain.record import ManagerRecord

__all__ = ["Outcome", "RosterCommands"]

Outcome = Receipt | DomainError


class _AllRefused(Exception):
    """Every line of a group was refused: there is nothing to append."""


def _content(posting: Posting) -> tuple[object, ...]:
    return posting.manager_id, posting.activity_id, posting.completed_on, posting.ceus.normalize()


class RosterCommands(CompletionCommands):
    async def record_completions(
        self, ctx: Context, provider_id: str, postings: list[Posting]
    ) -> list[Outcome]:
        """One outcome per posting, in order: a receipt (created or not), or why it was refused."""
        outcomes: dict[int, Outcome] = {}
        first_of: dict[UUID, int] = {}
        groups: dict[str, list[int]] = {}
        for i, posting in enumerate(postings):
            cid = completion_id(provider_id, posting.external_id)
            if first_of.setdefault(cid, i) != i:
                continue  # a repeat within this roster: answered from its first line below
            try:
                earlier = await self.earlier_posting(cid, posting)
            except DomainError as refused:
                outcomes[i] = refused
                continue
            if earlier is not None:
                outcomes[i] = earlier
            else:
                groups.setdefault(posting.manager_id, []).append(i)
        wanted = {postings[i].activity_id for group in groups.values() for i in group}
        activities = {a: await self.activity(a) for a in sorted(wanted)}
        for group in groups.values():
            lines = [(i, postings[i]) for i in group]
            outcomes |= await self._record_group(ctx, provider_id, lines, activities)
        return [
            self._repeat(p, postings[first], outcomes[first])
            if (first := first_of[completion_id(provider_id, p.external_id)]) != i
            else outcomes[i]
            for i, p in enumerate(postings)
        ]

    @staticmethod
    def _repeat(posting: Posting, first: Posting, first_outcome: Outcome) -> Outcome:
        if _content(posting) != _content(first):
            return Duplicate(posting.external_id)
        if isinstance(first_outcome, Receipt):
            return msgspec.structs.replace(first_outcome, created=False)
        return first_outcome

    async def _record_group(
        self,
        ctx: Context,
        provider_id: str,
        lines: list[tuple[int, Posting]],
        activities: dict[str, Activity | None],
    ) -> dict[int, Outcome]:
        manager_id = lines[0][1].manager_id
        refused: dict[int, Outcome] = {}
        accepted: list[int] = []

        def decide_all(record: ManagerRecord | None) -> list[Event]:
            refused.clear()  # a retry after a conflict decides everything again
            accepted.clear()
            events: list[Event] = []
            for i, posting in lines:
                cid = completion_id(provider_id, posting.external_id)
                fields = self.posting_fields(provider_id, posting, cid)
                try:
                    events += decide.record_completion(
                        record, activities[posting.activity_id], **fields
                    )
                except DomainError as why:
                    refused[i] = why
                else:
                    accepted.append(i)
            if not events:
                raise _AllRefused
            return events

        load_state = partial(load_manager, self.store, manager_id)
        try:
            events, result = await self._write(
                ctx, manager_stream(manager_id), load_state, decide_all
            )
        except _AllRefused:
            return refused
        except DuplicateEventId:
            return {i: await self._alone(ctx, provider_id, posting) for i, posting in lines}
        receipts: dict[int, Outcome] = {}
        for offset, (i, event) in enumerate(zip(accepted, events, strict=True)):
            assert isinstance(event, CompletionRecorded)
            position = result.first_position + offset
            receipts[i] = receipt_of(event, position, result.recorded_at, created=result.created)
        return receipts | refused

    async def _alone(self, ctx: Context, provider_id: str, posting: Posting) -> Outcome:
        try:
            return await self.record_completion(ctx, provider_id, posting)
        except DomainError as refused:
            return refused
