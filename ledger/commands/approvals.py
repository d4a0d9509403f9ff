"""Approvals (SPEC 12): a provider's applications to a program, in its `provider-{id}` stream,
and an activity's, in its `activity-{id}` stream, decided by ledger/domain/approvals.py.
Each command takes the message its doors decode.  The streams are catalogue streams, small
and folded whole (`write_catalogue`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.commands.catalogue import write_catalogue
from ledger.commands.streams import activity_stream, provider_stream
from ledger.domain import approvals as domain
from ledger.domain.approvals import evolve_activity_approvals, evolve_provider_approvals

if TYPE_CHECKING:
    from collections.abc import Callable

    from events.catalog import Event
    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger
    from ledger.commands.messages import (
        ApplyForApproval,
        ApproveActivity,
        ApproveProvider,
        DenyApproval,
        SubmitActivity,
    )
    from ledger.domain.approvals import ActivityApprovals, ProviderApprovals

__all__ = [
    "approve_activity",
    "approve_provider",
    "deny_activity",
    "deny_provider",
    "request_activity_approval",
    "request_provider_approval",
]


async def _provider(
    ledger: Ledger,
    ctx: Context,
    provider_id: str,
    decide: Callable[[ProviderApprovals | None], list[Event]],
) -> AppendResult:
    stream = provider_stream(provider_id)
    return await write_catalogue(ledger, ctx, stream, evolve_provider_approvals, decide)


async def _activity(
    ledger: Ledger,
    ctx: Context,
    activity_id: str,
    decide: Callable[[ActivityApprovals | None], list[Event]],
) -> AppendResult:
    stream = activity_stream(activity_id)
    return await write_catalogue(ledger, ctx, stream, evolve_activity_approvals, decide)


async def request_provider_approval(
    ledger: Ledger, ctx: Context, code: str, provider_id: str, applied: ApplyForApproval
) -> AppendResult:
    program = await ledger.catalogue.program(code)
    return await _provider(
        ledger, ctx, provider_id,
        lambda state: domain.request_provider_approval(
            state, provider_id, program, contact_email=applied.contact_email
        ),
    )  # fmt: skip


async def approve_provider(
    ledger: Ledger, ctx: Context, code: str, provider_id: str, approval: ApproveProvider
) -> AppendResult:
    await ledger.catalogue.program(code)
    today = ledger.today()
    return await _provider(
        ledger, ctx, provider_id,
        lambda state: domain.approve_provider(
            state, provider_id, code, approval_number=approval.approval_number,
            valid_until=approval.valid_until, today=today,
        ),
    )  # fmt: skip


async def deny_provider(
    ledger: Ledger, ctx: Context, code: str, provider_id: str, denial: DenyApproval
) -> AppendResult:
    await ledger.catalogue.program(code)
    return await _provider(
        ledger, ctx, provider_id,
        lambda state: domain.deny_provider(state, provider_id, code, reason=denial.reason),
    )  # fmt: skip


async def request_activity_approval(
    ledger: Ledger, ctx: Context, code: str, provider_id: str, submitted: SubmitActivity
) -> AppendResult:
    """The provider's own activity submitted to the program (`provider_id`: who submits)."""
    program = await ledger.catalogue.program(code)
    activity_id = submitted.activity_id
    return await _activity(
        ledger, ctx, activity_id,
        lambda state: domain.request_activity_approval(
            state, activity_id, program, provider_id=provider_id
        ),
    )  # fmt: skip


async def approve_activity(
    ledger: Ledger, ctx: Context, code: str, activity_id: str, approval: ApproveActivity
) -> AppendResult:
    program = await ledger.catalogue.program(code)
    return await _activity(
        ledger, ctx, activity_id,
        lambda state: domain.approve_activity(
            state, activity_id, program, index_number=approval.index_number,
            ceus=approval.ceus, category=approval.category,
        ),
    )  # fmt: skip


async def deny_activity(
    ledger: Ledger, ctx: Context, code: str, activity_id: str, denial: DenyApproval
) -> AppendResult:
    await ledger.catalogue.program(code)
    return await _activity(
        ledger, ctx, activity_id,
        lambda state: domain.deny_activity(state, activity_id, code, reason=denial.reason),
    )  # fmt: skip
