"""Demo data for `ceu-ledger serve --demo`: a small, believable ledger relative to today.

Two providers, their activities, and managers in every state a page can show: ready to file,
short of CEUs, short on CMOM core skills, in grace, lapsed, a renewal waiting for a decision,
one approved (now in its second cycle), one denied, one revoked by a failed audit; a voided and
an amended posting; an audit with findings; a three-day workshop with its agenda and attendance
(a missed session, a late arrival) whose last session is on now, its kiosk ready to scan; an
open claim and an overdue one; a self-report waiting for review.  Approvals (SPEC 12): PAHCOM
approved tma for CMM and its compliance bootcamp (so renewals count approved CEUs), tma's
leadership workshop and PMI Online's application to CMOM wait for a decision, and CMM moves to
PAHCOM's rule (at least 12 approved CEUs, at most 12 self-reported) on the next 1 January:
cycles begun before are judged under the old rules.  No activity is completed twice in one
cycle (it would count once).  Safe to run on every start: what exists is left alone.  Tokens
are new each time (they are shown once).

An overdue claim is one still open 30 days after it was filed, and a claim's filing time is its
event's `recorded_at`, the store's clock.  So the demo is recorded on a clock of its own
(`DemoClock`, given to the store and the Ledger by `demo_ledger`): a first chapter of history
40 days back (the programs, the catalogue, Kim's enrolment and the claim Kim filed 35 days ago),
then the rest on the real clock.  The log stays in time order: on a log that already holds
later events, that chapter is recorded no earlier than its last one (and Kim's claim is then
only open).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

import msgspec

from events.catalog import ActivityRegistered
from events.postgres.store import PostgresEventStore
from events.store import utc_now
from ledger.commands import (
    Context,
    Ledger,
    approvals,
    audits,
    catalogue,
    claims,
    completions,
    managers,
    renewals,
    self_reports,
    workshops,
)
from ledger.commands.messages import (
    AgendaSession,
    AmendCompletion,
    ApplyForApproval,
    ApproveActivity,
    ApproveProvider,
    DecideRenewal,
    DrawAudit,
    EnrollManager,
    FileClaim,
    FileRenewal,
    GrantCertification,
    PayFee,
    PostCompletion,
    RecordAttendance,
    RecordFinding,
    RegisterProvider,
    ReportSelf,
    SubmitActivity,
    VoidCompletion,
)
from ledger.domain.catalogue import DEFAULT_PROGRAMS
from ledger.domain.cycles import add_months
from ledger.domain.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import asyncpg

    from events.store import EventStore
    from ledger.access.tokens import TokenStore
    from ledger.evidence.store import EvidenceStore

__all__ = ["DemoClock", "demo_ledger", "seed_demo"]

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


class DemoClock:
    """The clock the demo is recorded on, by the store and the Ledger alike (`demo_ledger`):
    `base` (the real clock, or a test's), except within `in_the_past`, where it reads the time
    the chapter of history being recorded has reached."""

    def __init__(self, base: Callable[[], datetime] = utc_now) -> None:
        self.base = base
        self._at: datetime | None = None

    def __call__(self) -> datetime:
        return self.base() if self._at is None else self._at

    @contextlib.contextmanager
    def in_the_past(self, start: datetime) -> Iterator[None]:
        self._at = start
        try:
            yield
        finally:
            self._at = None

    def move_to(self, at: datetime) -> None:
        """Within `in_the_past`: on to `at` (never back)."""
        assert self._at is not None, "only a chapter of history moves by hand"
        self._at = max(self._at, at)


def demo_ledger(pool: asyncpg.Pool, clock: Callable[[], datetime] = utc_now) -> Ledger:
    """The Ledger `seed_demo` records on: its store and itself on one `DemoClock` over
    `clock`."""
    demo_clock = DemoClock(clock)
    return Ledger(PostgresEventStore(pool, clock=demo_clock), clock=demo_clock)


HISTORY_DAYS = 40
"""How far back the demo's first chapter (`_seed_history`) begins."""


async def seed_demo(
    ledger: Ledger, tokens: TokenStore, ctx: Context, evidence: EvidenceStore | None = None
) -> list[tuple[str, str, str]]:
    """Record the demo ledger (once) and return (role, id, token) for each demo identity.
    `ledger` is a `demo_ledger`: its first chapter is recorded in the past.  With an evidence
    store, Sam's self-report waits in the CMM review queue."""
    clock = ledger.clock
    if not isinstance(clock, DemoClock):
        raise TypeError("seed_demo records on a demo_ledger (its clock goes back in time)")
    now = clock()
    today = now.date()
    people = _managers(today)
    start = now - timedelta(days=HISTORY_DAYS)
    with clock.in_the_past(max(start, await _last_recorded_at(ledger.store) or start)):
        first = await _seed_history(
            ledger, ctx, clock, now, next(m for m in people if m.manager_id == KIM)
        )
    if first:  # an application again would be a renewal: the approvals are seeded once
        await _seed_approvals(ledger, ctx, today)
    audited: dict[UUID, str] = {}
    for m in people:
        try:
            await managers.enroll_manager(
                ledger,
                ctx,
                EnrollManager(
                    manager_id=m.manager_id, name=m.name, email=f"{m.manager_id}@example.org"
                ),
            )
        except DomainError:
            continue  # seeded on an earlier start (or, Kim, in the first chapter)
        if (renewal_id := await _seed_manager(ledger, ctx, m, today)) and m.audit:
            audited[renewal_id] = m.audit
        if evidence is not None and m.manager_id == "sam-short":
            await _self_report(ledger, ctx, evidence, m.manager_id, today)
    if audited:
        every = DrawAudit(filed_from=today, filed_to=today, rate=Decimal("1"), seed=20260615)
        drawn = await audits.draw_audit(ledger, ctx, "CMM", every, population=list(audited))
        for renewal_id, outcome in sorted(audited.items(), key=lambda kv: kv[1], reverse=True):
            finding = RecordFinding(
                renewal_id=renewal_id,
                outcome="passed" if outcome == "passed" else "failed",
                note=_REASONS[outcome],
            )
            await audits.record_finding(ledger, ctx, drawn.audit_id, finding)
    await _seed_workshop(ledger, ctx)
    await _seed_claims(ledger, ctx, today)
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
    bootcamp), its leadership workshop and PMI Online's application waiting: on the first start
    only (a step refused as already there is skipped)."""
    pahcom = msgspec.structs.replace(
        DEFAULT_PROGRAMS[0].rules,
        effective_from=date(today.year + 1, 1, 1),
        source_minimums={"approved": Decimal(12)},
        source_maximums={"self": Decimal(12)},
    )
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: catalogue.revise_rules(ledger, ctx, "CMM", pahcom),
        lambda: approvals.request_provider_approval(
            ledger, ctx, "CMM", "tma", ApplyForApproval(contact_email="ce@texmed.example")
        ),
        lambda: approvals.approve_provider(
            ledger, ctx, "CMM", "tma",
            ApproveProvider(
                approval_number=f"PAHCOM-{today.year}-017", valid_until=add_months(today, 24)
            ),
        ),
        lambda: approvals.request_activity_approval(
            ledger, ctx, "CMM", "tma", SubmitActivity(activity_id="tma-compliance")
        ),
        lambda: approvals.approve_activity(
            ledger, ctx, "CMM", "tma-compliance",
            ApproveActivity(index_number="CMM-IDX-0412", ceus=Decimal(12), category="core"),
        ),
        lambda: approvals.request_activity_approval(
            ledger, ctx, "CMM", "tma", SubmitActivity(activity_id="tma-leadership")
        ),
        lambda: approvals.request_provider_approval(
            ledger, ctx, "CMOM", "pmi-online",
            ApplyForApproval(contact_email="learning@pmi-online.example"),
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
        ledger,
        ctx,
        m.manager_id,
        GrantCertification(program=m.program, certified_on=m.certified_on),
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
            PayFee(program=m.program, amount_cents=fee, reference=f"DEMO-{m.manager_id}"),
        )
    if m.decision is None:
        return None
    filed, _ = await renewals.file_renewal(
        ledger, ctx, m.manager_id, FileRenewal(program=m.program)
    )
    if m.decision != "filed":
        await renewals.decide_renewal(
            ledger,
            ctx,
            filed.renewal_id,
            DecideRenewal(
                decision="approve" if m.decision == "approve" else "deny",
                reason=_REASONS[m.decision],
            ),
        )
    for n, line in enumerate(m.later, start=len(m.completions)):
        await _post(ledger, ctx, m, n, line, today)
    return filed.renewal_id


# -- a three-day workshop (SPEC 11) -------------------------------------------------------------

WORKSHOP = "tma-practice-week"
_CDT = timezone(timedelta(hours=-5))
"""The workshop is in Texas: its sessions' times are Central Daylight Time."""


def _agenda(now: datetime) -> tuple[date, date, tuple[AgendaSession, ...]]:
    """Its days (the last one today, where it is) and its five sessions: two on each of the
    first two days, and on the last a panel on now (from 5 minutes ago for 90 minutes, or to
    the end of the day), so that its kiosk is ready to scan whenever the demo starts."""
    local = now.astimezone(_CDT)
    last = local.date()
    first = last - timedelta(days=2)

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(first + timedelta(days=day), time(hour, minute), _CDT)

    panel_ends = min(local + timedelta(minutes=85), datetime.combine(last, time(23, 59), _CDT))
    rows = (
        ("d1-am", "The revenue cycle, end to end", at(0, 9), at(0, 10, 30), "core"),
        ("d1-pm", "Coding clinic", at(0, 13), at(0, 14, 30), "core"),
        ("d2-am", "Front-office flow", at(1, 9), at(1, 10, 30), "general"),
        ("d2-pm", "Compliance walk-through", at(1, 13), at(1, 14, 30), "core"),
        ("d3-panel", "Closing panel", local - timedelta(minutes=5), panel_ends, "general"),
    )
    return first, last, tuple(
        AgendaSession(session_id=sid, title=title, starts_at=starts, ends_at=ends,
                      ceus=Decimal("1.5"), category=category)
        for sid, title, starts, ends, category in rows
    )  # fmt: skip


_ATTENDANCE = (
    # Sam missed the second morning; Lee arrived 30 minutes late to it (60 of 90 minutes: it
    # does not count) and has checked in at the panel by the kiosk, not out yet.
    ("sam-short", "d1-am", (0, 8, 55), (0, 10, 30)),
    ("sam-short", "d1-pm", (0, 12, 58), (0, 14, 31)),
    ("sam-short", "d2-pm", (1, 12, 55), (1, 14, 30)),
    ("lee-core", "d1-am", (0, 8, 58), (0, 10, 31)),
    ("lee-core", "d1-pm", (0, 13, 0), (0, 14, 30)),
    ("lee-core", "d2-am", (1, 9, 30), (1, 10, 30)),
    ("lee-core", "d2-pm", (1, 13, 0), (1, 14, 30)),
)


async def _seed_workshop(ledger: Ledger, ctx: Context) -> None:
    """The workshop, once: on a later start its agenda stays as it was first given."""
    now = ledger.clock()
    first, last, agenda = _agenda(now)
    week = ActivityRegistered(
        provider_id="tma", activity_id=WORKSHOP, title="Practice management week",
        format="workshop", ceus=Decimal("7.5"), category="core", programs=("CMM", "CMOM"),
        starts_on=first, ends_on=last,
    )  # fmt: skip
    try:
        await catalogue.register_activity(ledger, ctx, week)
    except DomainError:
        return  # seeded on an earlier start
    await workshops.schedule_sessions(ledger, ctx, "tma", WORKSHOP, agenda)

    def at(day: int, hour: int, minute: int) -> datetime:
        return datetime.combine(first + timedelta(days=day), time(hour, minute), _CDT)

    for manager_id, session_id, checked_in, checked_out in _ATTENDANCE:
        given = RecordAttendance(
            manager_id=manager_id,
            session_id=session_id,
            checked_in_at=at(*checked_in),
            checked_out_at=at(*checked_out),
        )
        await workshops.record_attendance(ledger, ctx, "tma", WORKSHOP, given)
    at_the_door = RecordAttendance(
        manager_id="lee-core", session_id="d3-panel", checked_in_at=now, method="kiosk"
    )
    await workshops.record_attendance(ledger, ctx, "tma", WORKSHOP, at_the_door)


# -- a self-report waiting for review (SPEC 12) --------------------------------------------------

_CERTIFICATE = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 420 200] /Contents 4 0 R"
    b" /Resources << /Font << /F1 5 0 R >> >> >> endobj\n"
    b"4 0 obj << /Length 92 >> stream\nBT /F1 16 Tf 40 120 Td (Certificate of completion) Tj"
    b" 0 -30 Td (Sam Okafor - 1.5 CEUs) Tj ET\nendstream endobj\n"
    b"5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
    b"trailer << /Size 6 /Root 1 0 R >>\n%%EOF\n"
)
"""A one-page certificate (a PDF readers open; its cross-reference table left for them to
rebuild)."""


async def _self_report(
    ledger: Ledger, ctx: Context, evidence: EvidenceStore, manager_id: str, today: date
) -> None:
    message = ReportSelf(
        title="Practice management webinar", provider_name="State MGMA chapter",
        completed_on=today - timedelta(days=15), ceus=Decimal("1.5"), category="general",
        programs=["CMM"],
    )  # fmt: skip
    await self_reports.report(
        ledger, ctx, evidence, manager_id, message=message, data=_CERTIFICATE,
        filename="webinar-certificate.pdf",
    )  # fmt: skip


async def _seed_claims(ledger: Ledger, ctx: Context, today: date) -> None:
    """Claims (SPEC 11): Sam says the compliance bootcamp of 12 days ago was not posted (open
    on Sam's page and on tma's); seeded once (a second one on it is refused)."""
    claim = FileClaim(
        activity_id="tma-compliance",
        completed_on=today - timedelta(days=12),
        note="Signed in at the front desk",
    )
    with contextlib.suppress(DomainError):
        await claims.file_claim(ledger, ctx, "sam-short", claim)


# -- the first chapter, 40 days back: an overdue claim (SPEC 11) ---------------------------------

KIM = "kim-grace"
OVERDUE_ACTIVITY = "tma-leadership"
"""Kim's overdue claim: the leadership workshop of 37 days ago, claimed 35 days ago, which tma
has neither posted nor disputed."""


async def _last_recorded_at(store: EventStore) -> datetime | None:
    """When the log's last event was recorded (None on an empty log)."""
    head = await store.head()
    if head.position == 0:
        return None
    [last] = await store.read_all(after=head.position - 1, limit=1)
    return last.recorded_at


async def _seed_history(
    ledger: Ledger, ctx: Context, clock: DemoClock, now: datetime, kim: _Manager
) -> bool:
    """What the overdue claim stands on, as it was recorded: the programs, the providers and
    their activities 40 days before `now` (their dates the same as on a demo begun today),
    Kim's enrolment, certification and posting 38 days before, and the claim 35 days before.
    Once: with Kim enrolled, the rest of the chapter is on the log already (False)."""
    today = now.date()
    await catalogue.ensure_default_programs(ledger, ctx)
    for provider_id, name, programs in _PROVIDERS:
        with contextlib.suppress(DomainError):
            provider = RegisterProvider(provider_id=provider_id, name=name, programs=list(programs))
            await catalogue.register_provider(ledger, ctx, provider)
    for activity in _activities(today):
        with contextlib.suppress(DomainError):
            await catalogue.register_activity(ledger, ctx, activity)
    clock.move_to(now - timedelta(days=38))
    try:
        enrol = EnrollManager(
            manager_id=kim.manager_id, name=kim.name, email=f"{kim.manager_id}@example.org"
        )
        await managers.enroll_manager(ledger, ctx, enrol)
    except DomainError:
        return False  # seeded on an earlier start
    await _seed_manager(ledger, ctx, kim, today)
    clock.move_to(now - timedelta(days=35))
    claim = FileClaim(
        activity_id=OVERDUE_ACTIVITY,
        completed_on=today - timedelta(days=37),
        note="Both mornings; my name is on the sign-in sheet",
    )
    await claims.file_claim(ledger, ctx, kim.manager_id, claim)
    return True
