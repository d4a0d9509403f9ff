"""Provider postings and their corrections.

A posting's id is derived from (provider, external_id), and it is the id of the event that
records it.  So a retry is decided and appended like a new posting, and the store's
idempotent append recognises it (same id, same stream, same content: the original positions,
``created=False``), as it resolves two identical postings racing each other; nothing is
looked up first.  Only when that fails (the store holds the id with other content or in
another manager's stream, or today's rules refuse what was accepted then) is the original
looked up by its id: the same content gets the original receipt back, other content under
the same external_id is refused as a duplicate.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec

from events.catalog import CompletionRecorded
from events.store import DuplicateEventId
from ledger.commands.base import write_manager
from ledger.commands.loaders import find_completion, require_completion
from ledger.commands.streams import completion_id
from ledger.domain import completions as rules
from ledger.domain.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Callable

    from events.catalog import Event
    from events.store import AppendResult, RecordedEvent
    from ledger.commands.base import Context, Ledger
    from ledger.commands.messages import AmendCompletion, PostCompletion, VoidCompletion
    from ledger.domain.catalogue import Activity
    from ledger.domain.record import ManagerRecord

__all__ = [
    "Duplicate",
    "Posted",
    "Receipt",
    "amend_completion",
    "decide_posting",
    "earlier_of",
    "earlier_posting",
    "record_completion",
    "void_completion",
]


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What a provider gets back for a posting, the same for the first post and any retry."""

    id: UUID
    external_id: str
    provider_id: str
    manager_id: str
    position: int
    recorded_at: datetime

    @classmethod
    def of(cls, event: CompletionRecorded, position: int, recorded_at: datetime) -> Receipt:
        return cls(
            id=event.completion_id,
            external_id=event.external_id,
            provider_id=event.provider_id,
            manager_id=event.manager_id,
            position=position,
            recorded_at=recorded_at,
        )


class Posted(msgspec.Struct, frozen=True, kw_only=True):
    receipt: Receipt
    created: bool
    """False for an exact retry of a posting already recorded."""


class Duplicate(DomainError):
    """The same provider posted the same external_id before, with other content."""

    def __init__(self, external_id: str) -> None:
        super().__init__(f"external_id {external_id!r} was already posted with other content")
        self.external_id = external_id


def decide_posting(
    ledger: Ledger, provider_id: str, posting: PostCompletion, activity: Activity | None
) -> Callable[[ManagerRecord | None], list[Event]]:
    """The pure decision for one posting, given the activity; a function of the record."""
    cid, today = completion_id(provider_id, posting.external_id), ledger.today()
    return lambda record: rules.record_completion(
        record, activity, posting, completion_id=cid, provider_id=provider_id, today=today
    )


async def record_completion(
    ledger: Ledger, ctx: Context, provider_id: str, posting: PostCompletion
) -> Posted:
    posting = posting.normalized()
    activity = await ledger.catalogue.activity(posting.activity_id)
    decide = decide_posting(ledger, provider_id, posting, activity)
    try:
        written = await write_manager(ledger, ctx, posting.manager_id, decide)
    except (DomainError, DuplicateEventId) as refused:
        # Only a refused posting pays for looking its id up: it may be a retry of one
        # recorded before (whose decision today may differ), answered with the original.
        if (earlier := await earlier_posting(ledger, provider_id, posting)) is not None:
            return earlier
        if isinstance(refused, DuplicateEventId):
            raise Duplicate(posting.external_id) from refused
        raise
    # created=False: the store recognised an exact retry (or an identical posting that won a
    # race): same fact, the original positions, the same receipt.
    # The completion, then the claims it fulfilled (ledger/domain/completions.py).
    event, result = written.events[0], written.result
    assert isinstance(event, CompletionRecorded)
    receipt = Receipt.of(event, result.first_position, result.recorded_at)
    return Posted(receipt=receipt, created=result.created)


async def earlier_posting(
    ledger: Ledger, provider_id: str, posting: PostCompletion
) -> Posted | None:
    """The original receipt if this exact (normalized) posting was recorded before; Duplicate
    if the same external_id was recorded with other content; None if it is new."""
    found = await find_completion(ledger.store, completion_id(provider_id, posting.external_id))
    return earlier_of(posting, found)


def earlier_of(
    posting: PostCompletion, found: tuple[CompletionRecorded, RecordedEvent] | None
) -> Posted | None:
    """`earlier_posting`, given what was found under the posting's id."""
    if found is None:
        return None
    event, recorded = found
    if not posting.same_as(event):
        raise Duplicate(posting.external_id)
    receipt = Receipt.of(event, recorded.position, recorded.recorded_at)
    return Posted(receipt=receipt, created=False)


async def void_completion(
    ledger: Ledger, ctx: Context, cid: UUID, message: VoidCompletion, *, provider_id: str | None
) -> AppendResult:
    """`provider_id` is the correcting provider, or None for an association or admin."""
    posted, programs = (
        await require_completion(ledger.store, cid),
        await ledger.catalogue.programs(),
    )
    today = ledger.today()
    written = await write_manager(
        ledger,
        ctx,
        posted.manager_id,
        lambda record: rules.void_completion(
            record, posted.manager_id, cid, programs, reason=message.reason,
            provider_id=provider_id, today=today,
        ),
    )  # fmt: skip
    return written.result


async def amend_completion(
    ledger: Ledger,
    ctx: Context,
    cid: UUID,
    message: AmendCompletion,
    *,
    provider_id: str | None,
) -> AppendResult:
    posted, programs = (
        await require_completion(ledger.store, cid),
        await ledger.catalogue.programs(),
    )
    activity, today = await ledger.catalogue.activity(posted.activity_id), ledger.today()
    message = message.normalized()
    written = await write_manager(
        ledger,
        ctx,
        posted.manager_id,
        lambda record: rules.amend_completion(
            record, posted.manager_id, cid, programs, activity, reason=message.reason,
            ceus=message.ceus, completed_on=message.completed_on, provider_id=provider_id,
            today=today,
        ),
    )  # fmt: skip
    return written.result
