"""Provider postings and their corrections.

A posting's id is derived from (provider, external_id), and it is the id of the event that
records it.  So a retry finds the original with one indexed lookup and gets the original
receipt back, a different posting under the same external_id is refused, and two identical
postings racing each other are resolved by the store's own idempotent append.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import partial
from uuid import UUID

import msgspec

from events.catalog import CompletionRecorded
from events.codec import decode
from events.store import AppendResult, DuplicateEventId, RecordedEvent
from ledger.commands.base import Context, LedgerBase
from ledger.commands.catalogue import CatalogueCommands
from ledger.commands.streams import completion_id, load_manager, manager_stream
from ledger.domain import decide
from ledger.domain.errors import DomainError, NotFound

__all__ = ["CompletionCommands", "Duplicate", "Posting", "Receipt", "receipt_of"]

_CENT = Decimal("0.01")


class Posting(msgspec.Struct, frozen=True, kw_only=True):
    """One provider's report that a manager completed an activity."""

    external_id: str
    manager_id: str
    activity_id: str
    completed_on: date
    ceus: Decimal


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    external_id: str
    provider_id: str
    manager_id: str
    position: int
    recorded_at: datetime
    created: bool


class Duplicate(DomainError):
    """The same provider posted the same external_id before, with other content."""

    def __init__(self, external_id: str) -> None:
        super().__init__(f"external_id {external_id!r} was already posted with other content")
        self.external_id = external_id


def _cents(ceus: Decimal) -> Decimal:
    """One spelling per amount ("1.5" and "1.50" are the same posting); amounts that are not
    valid CEUs are left alone for the decision to refuse."""
    if decide.valid_ceus(ceus) is None and ceus < 10**6:
        return ceus.quantize(_CENT)
    return ceus


def receipt_of(
    event: CompletionRecorded, position: int, recorded_at: datetime, *, created: bool
) -> Receipt:
    return Receipt(
        id=event.completion_id,
        external_id=event.external_id,
        provider_id=event.provider_id,
        manager_id=event.manager_id,
        position=position,
        recorded_at=recorded_at,
        created=created,
    )


class CompletionCommands(CatalogueCommands, LedgerBase):
    async def completion(self, cid: UUID) -> tuple[CompletionRecorded, RecordedEvent] | None:
        """The fact that recorded a completion, and where it stands in the log."""
        recorded = await self.store.find(cid)
        event = None if recorded is None else decode(recorded)
        return (event, recorded) if isinstance(event, CompletionRecorded) and recorded else None

    async def record_completion(self, ctx: Context, provider_id: str, posting: Posting) -> Receipt:
        cid = completion_id(provider_id, posting.external_id)
        if (earlier := await self.earlier_posting(cid, posting)) is not None:
            return earlier
        decide_fn = partial(
            decide.record_completion,
            activity=await self.activity(posting.activity_id),
            **self.posting_fields(provider_id, posting, cid),
        )
        load_state = partial(load_manager, self.store, posting.manager_id)
        try:
            [event], result = await self._write(
                ctx, manager_stream(posting.manager_id), load_state, decide_fn
            )
        except DuplicateEventId as exc:  # a concurrent posting of the same id won the race
            raise Duplicate(posting.external_id) from exc
        # created=False here means an identical posting won a race: same fact, same receipt.
        assert isinstance(event, CompletionRecorded)
        return receipt_of(event, result.first_position, result.recorded_at, created=result.created)

    async def earlier_posting(self, cid: UUID, posting: Posting) -> Receipt | None:
        """The original receipt if this exact posting was recorded before; Duplicate if the
        same external_id was recorded with other content; None if it is new."""
        earlier = await self.completion(cid)
        if earlier is None:
            return None
        event, recorded = earlier
        if (event.manager_id, event.activity_id, event.completed_on, event.ceus) != (
            posting.manager_id,
            posting.activity_id,
            posting.completed_on,
            _cents(posting.ceus),
        ):
            raise Duplicate(posting.external_id)
        return receipt_of(event, recorded.position, recorded.recorded_at, created=False)

    def posting_fields(self, provider_id: str, posting: Posting, cid: UUID) -> dict[str, object]:
        """The arguments of decide.record_completion for a posting, but the activity."""
        return {
            "provider_id": provider_id,
            "manager_id": posting.manager_id,
            "activity_id": posting.activity_id,
            "external_id": posting.external_id,
            "completion_id": cid,
            "completed_on": posting.completed_on,
            "ceus": _cents(posting.ceus),
            "today": self.today(),
        }

    async def _posted(self, cid: UUID) -> CompletionRecorded:
        found = await self.completion(cid)
        if found is None:
            raise NotFound("completion", cid)
        return found[0]

    async def void_completion(
        self, ctx: Context, cid: UUID, *, reason: str, provider_id: str | None
    ) -> AppendResult:
        """`provider_id` is the correcting provider, or None for an association or admin."""
        posted, programs = await self._posted(cid), await self.programs()
        return await self._write_manager(
            ctx,
            posted.manager_id,
            partial(
                decide.void_completion,
                manager_id=posted.manager_id,
                completion_id=cid,
                programs=programs,
                reason=reason,
                provider_id=provider_id,
                today=self.today(),
            ),
        )

    async def amend_completion(
        self,
        ctx: Context,
        cid: UUID,
        *,
        reason: str,
        ceus: Decimal | None,
        completed_on: date | None,
        provider_id: str | None,
    ) -> AppendResult:
        posted, programs = await self._posted(cid), await self.programs()
        return await self._write_manager(
            ctx,
            posted.manager_id,
            partial(
                decide.amend_completion,
                manager_id=posted.manager_id,
                completion_id=cid,
                programs=programs,
                activity=await self.activity(posted.activity_id),
                reason=reason,
                ceus=None if ceus is None else _cents(ceus),
                completed_on=completed_on,
                provider_id=provider_id,
                today=self.today(),
            ),
        )
