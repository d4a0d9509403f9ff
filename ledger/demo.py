"""Demo data for `ceu-ledger serve --demo`: a small, believable ledger relative to today.

Two providers, their activities, and managers in every state a page can show: ready to file,
short of CEUs, short on CMOM core skills, in grace, lapsed, a renewal waiting for a decision,
one approved (now in its second cycle), one denied, one revoked by a failed audit; a voided and
an amended posting; an audit with findings.  Approvals (SPEC 12): PAHCOM approved tma for CMM
and its compliance bootcamp (so renewals count approved CEUs), tma's leadership workshop and
PMI Online's application to CMOM wait for a decision, and CMM moves to PAHCOM's rule (at
least 12 approved CEUs, at most 12 self-reported) on the next 1 January: cycles begun before
are judged under the old rules.  No activity is completed twice in one cycle (it
would count once).  Safe to run on every start: what exists is left alone.  Tokens are new
each time (they are shown once).
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

import msgspec

from events.catalog import ActivityRegistered
from ledger.commands import Context, approvals, audits, catalogue, completions, managers, renewals
from ledger.commands.messages import AmendCompletion, PostCompletion, VoidCompletion
from ledger.domain.catalogue import DEFAULT_PROGRAMS
from ledger.domain.cycles import add_months
from ledger.domain.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ledger.access.tokens import TokenStore
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
        starts_on=today - timedelta(days=3 * 365),
        ends_on=today,
    )


def _activities(today: date) -> list[ActivityRegistered]:
    both, cmm, cmom, pmi = ("CMM", "CMOM"), ("CMM",), ("CMOM",), "pmi-online"
    return [
        _activity("tma", "tma-revenue-cycle", "Revenue cycle workshop", "workshop", "12", "core",
                  both, today),
        _activity("tma", "tma-compliance", "Compliance bootcamp", "workshop", "12", "core",
                  cmm, today),
        _activity("tma", "tma-hipaa", "HIPAA privacy update", "webinar", "1.5", "general",
                  both, today),
        _activity("tma", "tma-leadership", "Leading a practice team", "workshop", "6", "general",
                  cmm, today),
        _activity(pmi, "pmi-coding", "Coding essentials", "online", "6", "core", cmom, today),
        _activity(pmi, "pmi-front-office", "Running a front office", "online", "4", "general",
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
    decision: str | None = None
    """None: not filed; "filed": filed and waiting; "approve" / "deny": decided."""
    later: tuple[tuple[str, int, str], ...] = ()
    """Completions recorded after the decision (the next cycle's)."""
    audit: str | None = None
    """"passed" or "failed": the finding of the demo audit on this renewal."""


def _managers(today: date) -> list[_Manager]:
    def months(n: int, days: int = 0) -> date:
        return add_months(today, -n) - timedelta(days=days)

    return [
        _Manager("pat-ready", "Pat Rivera", "CMM", months(23),
                 [("tma-revenue-cycle", 200, "12"), ("tma-compliance", 30, "12")], paid=True),
        _Manager("sam-short", "Sam Okafor", "CMM", months(23, -20),
                 [("tma-revenue-cycle", 100, "12"), ("tma-hipaa", 40, "1.5"),
                  ("tma-leadership", 20, "6")]),
        _Manager("lee-core", "Lee Chen", "CMOM", months(11),
                 [("pmi-coding", 90, "6"), ("pmi-front-office", 60, "4"),
                  ("tma-hipaa", 10, "1.5")], paid=True),
        _Manager("kim-grace", "Kim Novak", "CMM", months(24, 10),
                 [("tma-revenue-cycle", 300, "12")]),
        _Manager("lou-lapsed", "Lou Martin", "CMM", months(26),
                 [("tma-revenue-cycle", 400, "12")]),
        _Manager("ana-filed", "Ana Souza", "CMOM", months(11, 5),
                 [("tma-revenue-cycle", 120, "12")], paid=True, decision="filed"),
        _Manager("dee-denied", "Dee Walker", "CMOM", months(11, 10),
                 [("tma-revenue-cycle", 150, "12")], paid=True, decision="deny"),
        _Manager("ben-approved", "Ben Adler", "CMM", months(24, 5),
                 [("tma-revenue-cycle", 400, "12"), ("tma-compliance", 200, "12")], paid=True,
                 decision="approve", later=(("tma-hipaa", 2, "1.5"),), audit="passed"),
        _Manager("cy-revoked", "Cy Brandt", "CMM", months(23, 15),
                 [("tma-revenue-cycle", 300, "12"), ("tma-compliance", 100, "12")], paid=True,
                 decision="approve", audit="failed"),
    ]  # fmt: skip


_REASONS = {
    "deny": "No certificate of attendance on file for the revenue cycle workshop",
    "approve": "All evidence on file",
    "passed": "Certificates match the provider's roster",
    "failed": "The certificates sent do not match the provider's roster",
}


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
    await _seed_approvals(ledger, ctx, today)
    people = _managers(today)
    audited: dict[UUID, str] = {}
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
        if (renewal_id := await _seed_manager(ledger, ctx, m, today)) and m.audit:
            audited[renewal_id] = m.audit
    if audited:
        drawn = await audits.draw_audit(
            ledger, ctx, program="CMM", filed_from=today, filed_to=today, rate=Decimal("1"),
            seed=20260615, population=list(audited),
        )  # fmt: skip
        for renewal_id, outcome in sorted(audited.items(), key=lambda kv: kv[1], reverse=True):
            await audits.record_finding(
                ledger, ctx, drawn.audit_id, renewal_id=renewal_id, passed=outcome == "passed",
                note=_REASONS[outcome],
            )  # fmt: skip
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


async def _seed_approvals(ledger: Ledger, ctx: Context, today: date) -> None:
    """PAHCOM's rule from the next 1 January; tma approved for CMM (and its compliance
    bootcamp), its leadership workshop and PMI Online's application waiting.  Each step once:
    on a later start it is refused (already there) and skipped."""
    pahcom = msgspec.structs.replace(
        DEFAULT_PROGRAMS[0].rules,
        effective_from=date(today.year + 1, 1, 1),
        source_minimums={"approved": Decimal(12)},
        source_maximums={"self": Decimal(12)},
    )
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: catalogue.revise_rules(ledger, ctx, "CMM", pahcom),
        lambda: approvals.request_provider_approval(
            ledger, ctx, "CMM", "tma", contact_email="ce@texmed.example"
        ),
        lambda: approvals.approve_provider(
            ledger, ctx, "CMM", "tma", approval_number=f"PAHCOM-{today.year}-017",
            valid_until=add_months(today, 24),
        ),
        lambda: approvals.request_activity_approval(
            ledger, ctx, "CMM", "tma-compliance", provider_id="tma"
        ),
        lambda: approvals.approve_activity(
            ledger, ctx, "CMM", "tma-compliance", index_number="CMM-IDX-0412",
            ceus=Decimal(12), category="core",
        ),
        lambda: approvals.request_activity_approval(
            ledger, ctx, "CMM", "tma-leadership", provider_id="tma"
        ),
        lambda: approvals.request_provider_approval(
            ledger, ctx, "CMOM", "pmi-online", contact_email="learning@pmi-online.example"
        ),
    ]  # fmt: skip
    for step in steps:
        with contextlib.suppress(DomainError):
            await step()


async def _post(ledger: Ledger, ctx: Context, m: _Manager, n: int, line: tuple[str, int, str],
                today: date) -> UUID:  # fmt: skip
    activity_id, days_ago, ceus = line
    provider = "pmi-online" if activity_id.startswith("pmi") else "tma"
    posting = PostCompletion(
        external_id=f"demo-{m.manager_id}-{n}",
        manager_id=m.manager_id,
        activity_id=activity_id,
        completed_on=today - timedelta(days=days_ago),
        ceus=Decimal(ceus),
    )
    return (await completions.record_completion(ledger, ctx, provider, posting)).receipt.id


async def _seed_manager(ledger: Ledger, ctx: Context, m: _Manager, today: date) -> UUID | None:
    """One demo manager's record; the id of their renewal if they filed one."""
    await managers.grant_certification(
        ledger, ctx, m.manager_id, program=m.program, certified_on=m.certified_on
    )
    posted = [await _post(ledger, ctx, m, n, line, today) for n, line in enumerate(m.completions)]
    if m.manager_id == "sam-short":  # one amended posting and one voided, by their provider
        amendment = AmendCompletion(reason="Attended the first hour only", ceus=Decimal("1"))
        await completions.amend_completion(ledger, ctx, posted[1], amendment, provider_id="tma")
        voiding = VoidCompletion(reason="Posted to the wrong manager")
        await completions.void_completion(ledger, ctx, posted[2], voiding, provider_id="tma")
    if m.paid:
        fee = (await ledger.catalogue.program(m.program)).versions[-1].fee_cents
        await renewals.pay_fee(
            ledger,
            ctx,
            m.manager_id,
            program=m.program,
            amount_cents=fee,
            reference=f"DEMO-{m.manager_id}",
        )
    if m.decision is None:
        return None
    filed, _ = await renewals.file_renewal(ledger, ctx, m.manager_id, program=m.program)
    if m.decision != "filed":
        await renewals.decide_renewal(
            ledger,
            ctx,
            filed.renewal_id,
            approve=m.decision == "approve",
            reason=_REASONS[m.decision],
        )
    for n, line in enumerate(m.later, start=len(m.completions)):
        await _post(ledger, ctx, m, n, line, today)
    return filed.renewal_id
