"""Approvals (SPEC 12): a provider's applications to a program, in its `provider-{id}` stream,
and an activity's, in its `activity-{id}` stream, decided by ledger/domain/approvals.py.
Each stream is small and folded whole; this process's own reads of the catalogue see a write
at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from events.codec import decode
from ledger.commands.base import write
from ledger.commands.streams import activity_stream, provider_stream
from ledger.domain import approvals as domain
from ledger.domain.approvals import evolve_activity_approvals, evolve_provider_approvals

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date, datetime
    from decimal import Decimal

    from events.catalog import Event
    from events.store import AppendResult, EventStore
    from ledger.commands.base import Context, Ledger, Load

__all__ = [
    "approve_activity",
    "approve_provider",
    "deny_activity",
    "deny_provider",
    "request_activity_approval",
    "request_provider_approval",
]

S = TypeVar("S")


def _folded(
    store: EventStore, stream: str, evolve: Callable[[S | None, Event, datetime], S]
) -> Load[S | None]:
    async def load() -> tuple[S | None, int]:
        state: S | None = None
        recorded = await store.read_stream(stream)
        for r in recorded:
            state = evolve(state, decode(r), r.recorded_at)
        return state, recorded[-1].version if recorded else 0

    return load


async def _provider(
    ledger: Ledger, ctx: Context, provider_id: str, decide: Callable[..., list[Event]]
) -> AppendResult:
    stream = provider_stream(provider_id)
    load = _folded(ledger.store, stream, evolve_provider_approvals)
    written = await write(ledger, ctx, stream, load, decide)
    ledger.catalogue.saw(written.result.last_position)
    return written.result


async def _activity(
    ledger: Ledger, ctx: Context, activity_id: str, decide: Callable[..., list[Event]]
) -> AppendResult:
    stream = activity_stream(activity_id)
    load = _folded(ledger.store, stream, evolve_activity_approvals)
    written = await write(ledger, ctx, stream, load, decide)
    ledger.catalogue.saw(written.result.last_position)
    return written.result


async def request_provider_approval(
    ledger: Ledger, ctx: Context, code: str, provider_id: str, *, contact_email: str
) -> AppendResult:
    program = await ledger.catalogue.program(code)
    return await _provider(
        ledger, ctx, provider_id,
        lambda state: domain.request_provider_approval(
            state, provider_id, program, contact_email=contact_email
        ),
    )  # fmt: skip


async def approve_provider(
    ledger: Ledger, ctx: Context, code: str, provider_id: str, *, approval_number: str,
    valid_until: date,
) -> AppendResult:  # fmt: skip
    await ledger.catalogue.program(code)
    today = ledger.today()
    return await _provider(
        ledger, ctx, provider_id,
        lambda state: domain.approve_provider(
            state, provider_id, code, approval_number=approval_number, valid_until=valid_until,
            today=today,
        ),
    )  # fmt: skip


async def deny_provider(
    ledger: Ledger, ctx: Context, code: str, provider_id: str, *, reason: str
) -> AppendResult:
    await ledger.catalogue.program(code)
    return await _provider(
        ledger, ctx, provider_id,
        lambda state: domain.deny_provider(state, provider_id, code, reason=reason),
    )  # fmt: skip


async def request_activity_approval(
    ledger: Ledger, ctx: Context, code: str, activity_id: str, *, provider_id: str
) -> AppendResult:
    program = await ledger.catalogue.program(code)
    return await _activity(
        ledger, ctx, activity_id,
        lambda state: domain.request_activity_approval(
            state, activity_id, program, provider_id=provider_id
        ),
    )  # fmt: skip


async def approve_activity(
    ledger: Ledger, ctx: Context, code: str, activity_id: str, *, index_number: str,
    ceus: Decimal, category: str,
) -> AppendResult:  # fmt: skip
    program = await ledger.catalogue.program(code)
    return await _activity(
        ledger, ctx, activity_id,
        lambda state: domain.approve_activity(
            state, activity_id, program, index_number=index_number, ceus=ceus, category=category
        ),
    )  # fmt: skip


async def deny_activity(
    ledger: Ledger, ctx: Context, code: str, activity_id: str, *, reason: str
) -> AppendResult:
    await ledger.catalogue.program(code)
    return await _activity(
        ledger, ctx, activity_id,
        lambda state: domain.deny_activity(state, activity_id, code, reason=reason),
    )  # fmt: skip
