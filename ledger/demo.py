"""Demo data for `ceu-ledger serve --demo`: a small, believable ledger relative to today.

Two providers, a handful of activities, and managers in every interesting state: one ready to
file, one short of CEUs with the deadline near, one CMOM holder short on core skills, one in
grace, plus a filed renewal waiting for a decision.  Safe to run on every start: what exists
is left alone.  Tokens are new each time (they are shown once).
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from events.catalog import ActivityRegistered
from ledger.commands import Context, Posting, catalogue, completions, managers, renewals
from ledger.domain.cycles import add_months
from ledger.domain.errors import DomainError

if TYPE_CHECKING:
    from ledger.api.auth import TokenStore
    from ledger.commands import Ledger

__all__ = ["seed_demo"]

_PROVIDERS = (
    ("tma", "Texas Medical Association", ("CMM", "CMOM")),
    ("pmi-online", "PMI Online Learning", ("CMOM",)),
)


def _activity(provider: str, activity_id: str, title: str, fmt: str, ceus: str, category: str,
              programs: tuple[str, ...], today: date) -> ActivityRegistered:  # fmt: skip
    return ActivityRegistered(
        provider_id=provider,
        activity_id=activity_id,
        title=title,
        format=fmt,
        ceus=Decimal(ceus),
        category=category,
        programs=programs,
        starts_on=today - timedelta(days=365),
        ends_on=today,
    )


def _activities(today: date) -> list[ActivityRegistered]:
    both, cmm, cmom, pmi = ("CMM", "CMOM"), ("CMM",), ("CMOM",), "pmi-online"
    return [
        _activity("tma", "tma-revenue-cycle", "Revenue cycle workshop", "workshop", "12", "core",
                  both, today),
        _activity("tma", "tma-hipaa", "HIPAA privacy update", "webinar", "1.5", "compliance",
                  cmm, today),
        _activity(pmi, "pmi-coding", "Coding essentials", "online", "6", "core", cmom, today),
        _activity(pmi, "pmi-leadership", "Leading a front office", "online", "4", "leadership",
                  cmom, today),
    ]  # fmt: skip


class _Manager(NamedTuple):
    manager_id: str
    name: str
    program: str
    certified_on: date
    completions: list[tuple[str, int, str]]
    """(activity, days ago, CEUs)"""
    paid: bool = False
    file: bool = False


def _managers(today: date) -> list[_Manager]:
    cycle_ending = add_months(today, -23)
    return [
        _Manager("pat-ready", "Pat Rivera", "CMM", cycle_ending,
                 [("tma-revenue-cycle", 200, "12"), ("tma-revenue-cycle", 30, "12")], paid=True),
        _Manager("sam-short", "Sam Okafor", "CMM", cycle_ending + timedelta(days=20),
                 [("tma-revenue-cycle", 100, "12"), ("tma-hipaa", 40, "1.5")]),
        _Manager("lee-core", "Lee Chen", "CMOM", add_months(today, -11),
                 [("pmi-coding", 90, "6"), ("pmi-leadership", 60, "4"),
                  ("tma-revenue-cycle", 10, "2")], paid=True),
        _Manager("kim-grace", "Kim Novak", "CMM", add_months(today, -24) - timedelta(days=10),
                 [("tma-revenue-cycle", 300, "12")]),
        _Manager("ana-filed", "Ana Souza", "CMOM", add_months(today, -11) - timedelta(days=5),
                 [("tma-revenue-cycle", 120, "12")], paid=True, file=True),
    ]  # fmt: skip


async def seed_demo(ledger: Ledger, tokens: TokenStore, ctx: Context) -> list[tuple[str, str, str]]:
    """Record the demo ledger (once) and return (role, id, token) for each demo identity."""
    today = ledger.today()
    for provider_id, name, programs in _PROVIDERS:
        with contextlib.suppress(DomainError):
            await catalogue.register_provider(
                ledger, ctx, provider_id=provider_id, name=name, programs=programs
            )
    for activity in _activities(today):
        with contextlib.suppress(DomainError):
            await catalogue.register_activity(ledger, ctx, activity)
    people = _managers(today)
    for m in people:
        try:
            await managers.enroll_manager(
                ledger,
                ctx,
                manager_id=m.manager_id,
                name=m.name,
                email=f"{m.manager_id}@example.org",
            )
        except DomainError:
            continue  # seeded on an earlier start
        await managers.grant_certification(
            ledger, ctx, m.manager_id, program=m.program, certified_on=m.certified_on
        )
        for n, (activity_id, days_ago, ceus) in enumerate(m.completions):
            provider = "pmi-online" if activity_id.startswith("pmi") else "tma"
            posting = Posting(
                external_id=f"demo-{m.manager_id}-{n}",
                manager_id=m.manager_id,
                activity_id=activity_id,
                completed_on=today - timedelta(days=days_ago),
                ceus=Decimal(ceus),
            )
            await completions.record_completion(ledger, ctx, provider, posting)
        if m.paid:
            fee = (await ledger.catalogue.program(m.program)).versions[-1].fee_cents
            await renewals.pay_fee(
                ledger,
                ctx,
                m.manager_id,
                program=m.program,
                amount_cents=fee,
                reference=f"DEMO-{n}",
            )
        if m.file:
            await renewals.file_renewal(ledger, ctx, m.manager_id, program=m.program)
    identities = [
        ("admin", "demo", {}),
        *(("provider", p, {"provider_id": p}) for p, _, _ in _PROVIDERS),
        *(("manager", m.manager_id, {"manager_id": m.manager_id}) for m in people),
        ("auditor", "PAHCOM", {"programs": ("CMM",)}),
        ("auditor", "PMI", {"programs": ("CMOM",)}),
    ]
    return [
        (role, subject, (await tokens.create(role=role, created_by="demo", **scope)).token)  # type: ignore[arg-type]
        for role, subject, scope in identities
    ]
