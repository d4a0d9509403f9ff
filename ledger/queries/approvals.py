"""Approvals as the API and the pages answer them (SPEC 12): a program's applications for its
auditors, a provider's own, each with what it is about.  Read from the catalogue, which folds
every approval (ledger/commands/loaders.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from ledger.commands.loaders import find_renewal
from ledger.domain.approvals import ApplicationState
from ledger.domain.errors import NotFound
from projections.provider_notices import ProviderNoticeRow, provider_notices

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from ledger.domain.approvals import (
        ActivityApplication,
        ActivityApprovals,
        ProviderApplication,
        ProviderApprovals,
    )
    from ledger.queries.reads import Reads

__all__ = [
    "APPLICATION_STATES",
    "ActivityApprovalView",
    "ProviderApprovalView",
    "ProvidersApprovalsView",
    "activity_approvals",
    "notices_of_provider",
    "renewal_sources",
    "activity_approval",
    "provider_approval",
    "provider_section",
    "provider_approvals",
    "providers_own",
]

APPLICATION_STATES: tuple[ApplicationState, ...] = ("pending", "approved", "denied")


class ProviderApprovalView(msgspec.Struct, frozen=True, kw_only=True):
    """One application of a provider to a program, and its decision."""

    provider_id: str
    provider_name: str
    program: str
    state: ApplicationState
    requested_at: datetime
    contact_email: str
    decided_at: datetime | None
    approval_number: str
    valid_from: date | None
    valid_until: date | None
    """The first day the approval is no longer valid."""
    reason: str
    valid_today: bool

    @classmethod
    def of(cls, a: ProviderApplication, name: str, today: date) -> ProviderApprovalView:
        return cls(
            provider_id=a.provider_id, provider_name=name, program=a.program, state=a.state,
            requested_at=a.requested_at, contact_email=a.contact_email, decided_at=a.decided_at,
            approval_number=a.approval_number, valid_from=a.valid_from,
            valid_until=a.valid_until, reason=a.reason, valid_today=a.valid_on(today),
        )  # fmt: skip


class ActivityApprovalView(msgspec.Struct, frozen=True, kw_only=True):
    """One program's approval of an activity: asked for, granted (by an auditor, or on
    registration: `automatic`) or refused."""

    activity_id: str
    title: str
    provider_id: str
    program: str
    state: ApplicationState
    requested_at: datetime | None
    decided_at: datetime | None
    index_number: str
    ceus: Decimal | None
    """The CEUs approved (the activity's own CEUs are `activity_ceus`)."""
    category: str | None
    reason: str
    automatic: bool
    activity_ceus: Decimal
    activity_category: str
    starts_on: date
    ends_on: date

    @classmethod
    def of(cls, approvals: ActivityApprovals, a: ActivityApplication) -> ActivityApprovalView:
        activity = approvals.activity
        return cls(
            activity_id=activity.activity_id, title=activity.title,
            provider_id=activity.provider_id, program=a.program, state=a.state,
            requested_at=a.requested_at, decided_at=a.decided_at, index_number=a.index_number,
            ceus=a.ceus, category=a.category, reason=a.reason, automatic=a.automatic,
            activity_ceus=activity.ceus, activity_category=activity.category,
            starts_on=activity.starts_on, ends_on=activity.ends_on,
        )  # fmt: skip


class ProvidersApprovalsView(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's own applications: to programs, and of its activities."""

    provider_id: str
    providers: list[ProviderApprovalView]
    activities: list[ActivityApprovalView]


def _newest_first(views: list[ProviderApprovalView]) -> list[ProviderApprovalView]:
    """By when they were asked for; the same instant keeps the order given (each provider's
    later applications first: `_of_providers`)."""
    return sorted(views, key=lambda v: v.requested_at, reverse=True)


def _asked_or_decided(v: ActivityApprovalView) -> datetime:
    """When it was asked for, or (approved on registration) decided."""
    at = v.requested_at or v.decided_at
    assert at is not None, "an application is asked for or decided"
    return at


def _activities_newest_first(views: list[ActivityApprovalView]) -> list[ActivityApprovalView]:
    return sorted(views, key=_asked_or_decided, reverse=True)


def _of_providers(
    found: dict[str, ProviderApprovals], today: date, program: str | None = None
) -> list[ProviderApprovalView]:
    return [
        ProviderApprovalView.of(a, p.name, today)
        for p in found.values()
        for a in reversed(p.applications)
        if program in (None, a.program)
    ]


def _of_activities(
    found: dict[str, ActivityApprovals], program: str | None = None
) -> list[ActivityApprovalView]:
    return [
        ActivityApprovalView.of(approvals, a)
        for approvals in found.values()
        for a in reversed(approvals.applications)
        if program in (None, a.program)
    ]


async def provider_approvals(
    reads: Reads, code: str, state: ApplicationState | None = None
) -> list[ProviderApprovalView]:
    """The program's applications from providers (in `state`), newest first."""
    await reads.catalogue.program(code)
    found = _of_providers(await reads.catalogue.provider_approvals(), reads.today(), code)
    return _newest_first([v for v in found if state in (None, v.state)])


async def activity_approvals(
    reads: Reads, code: str, state: ApplicationState | None = None
) -> list[ActivityApprovalView]:
    """The program's approvals of activities (in `state`), newest first."""
    await reads.catalogue.program(code)
    found = _of_activities(await reads.catalogue.activity_approvals(), code)
    return _activities_newest_first([v for v in found if state in (None, v.state)])


async def providers_own(reads: Reads, provider_id: str) -> ProvidersApprovalsView:
    """Everything a provider applied for, and its activities' approvals."""
    mine = {k: v for k, v in (await reads.catalogue.provider_approvals()).items()
            if k == provider_id}  # fmt: skip
    activities = {
        k: v
        for k, v in (await reads.catalogue.activity_approvals()).items()
        if v.activity.provider_id == provider_id
    }
    return ProvidersApprovalsView(
        provider_id=provider_id,
        providers=_newest_first(_of_providers(mine, reads.today())),
        activities=_activities_newest_first(_of_activities(activities)),
    )


async def provider_approval(reads: Reads, code: str, provider_id: str) -> ProviderApprovalView:
    """The latest application of a provider to a program (after a write: the one written)."""
    approvals = (await reads.catalogue.provider_approvals())[provider_id]
    return ProviderApprovalView.of(approvals.of(code)[-1], approvals.name, reads.today())


async def activity_approval(reads: Reads, code: str, activity_id: str) -> ActivityApprovalView:
    """The latest application of an activity to a program (after a write: the one written)."""
    approvals = (await reads.catalogue.activity_approvals())[activity_id]
    return ActivityApprovalView.of(approvals, approvals.of(code)[-1])


async def notices_of_provider(reads: Reads, provider_id: str) -> list[ProviderNoticeRow]:
    """The reminders the ledger queued for a provider (its approvals lapsing), newest due
    first; 404 for an unknown provider."""
    if await reads.catalogue.provider(provider_id) is None:
        raise NotFound("provider", provider_id)
    async with reads.pool.acquire() as conn:
        return await provider_notices(conn, provider_id)


async def renewal_sources(
    reads: Reads, renewal_ids: Iterable[UUID]
) -> dict[str, dict[str, Decimal]]:
    """Each renewal's frozen evidence summed per source (its id as text -> {source: CEUs}),
    for an audit's selected renewals."""
    found: dict[str, dict[str, Decimal]] = {}
    for renewal_id in renewal_ids:
        counted: dict[str, Decimal] = {}
        for c in (await find_renewal(reads.store, renewal_id)).completions:
            counted[c.source] = counted.get(c.source, Decimal(0)) + c.ceus
        found[str(renewal_id)] = counted
    return found


async def provider_section(reads: Reads, provider_id: str) -> dict[str, object]:
    """What the "Approvals" section of a provider's page shows: its applications, its
    activities' approvals, the reminders queued for it, and the programs it may apply to."""
    return {
        "approvals": await providers_own(reads, provider_id),
        "provider_notices": await notices_of_provider(reads, provider_id),
        "program_options": [(code, code) for code in sorted(await reads.catalogue.programs())],
    }
