"""Reminders end to end, against the real PostgreSQL and a real SMTP server (aiosmtpd): a
clock moved day by day through four CMM certifications' lives, with the projections, the
reminder scheduler and the sender run each day as `serve` runs them, yields exactly the
notices of those lives, each sent once, on the day it became due."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from events.catalog import ActivityRegistered
from events.codec import Actor
from events.postgres.connection import connect
from events.postgres.store import PostgresEventStore
from ledger.commands import (
    Context,
    Ledger,
    PostCompletion,
    audits,
    catalogue,
    completions,
    renewals,
)
from ledger.commands import managers as enrolment
from ledger.commands.messages import (
    DecideRenewal,
    DrawAudit,
    EnrollManager,
    FileRenewal,
    GrantCertification,
    PayFee,
    RegisterProvider,
)
from ledger.domain.notices import Notice
from ledger.infra.mailer import Mailer, Smtp, backoff
from ledger.infra.reminders import ReminderScheduler, remind
from projections.ceu import CeuProjection
from projections.engine import ProjectionRunner
from projections.notices import NoticeProjection, enqueue
from tests.builders import SteppingClock
from tests.smtp import Inbox, smtp_server

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="t")
CERTIFIED = date(2024, 3, 1)  # CMM: deadline 2026-03-01, grace until 2026-03-31
END = date(2026, 4, 15)
MANAGERS = ("alex", "blair", "casey", "devon")


def at_nine(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


class Life:
    """The ledger, its projections, the scheduler and the sender, on one stepping clock."""

    def __init__(self, dsn: str, pool, inbox: Inbox) -> None:
        self.clock = SteppingClock(at_nine(CERTIFIED))
        self.ledger = Ledger(PostgresEventStore(pool, clock=self.clock), clock=self.clock)
        self.runners = [ProjectionRunner(dsn, p) for p in (CeuProjection(), NoticeProjection())]
        smtp = Smtp(host=inbox.host, port=inbox.port, sender="CMM <notices@example.org>")
        self.mailer = Mailer(dsn, smtp, name="life", clock=self.clock, lease=30)
        self.renewals: dict[str, object] = {}

    async def set_up(self) -> None:
        await catalogue.ensure_default_programs(self.ledger, ADMIN)
        await catalogue.register_provider(
            self.ledger, ADMIN, RegisterProvider(provider_id="p", name="Provider", programs=["CMM"])
        )
        await catalogue.register_activity(
            self.ledger,
            ADMIN,
            ActivityRegistered(
                provider_id="p", activity_id="congress", title="Congress", format="in person",
                ceus=Decimal(24), category="core", programs=("CMM",),
                starts_on=date(2024, 1, 1), ends_on=date(2026, 12, 31),
            ),
        )  # fmt: skip
        for m in MANAGERS:
            await enrolment.enroll_manager(
                self.ledger,
                ADMIN,
                EnrollManager(manager_id=m, name=m.title(), email=f"{m}@example.org"),
            )
            await enrolment.grant_certification(
                self.ledger, ADMIN, m, GrantCertification(program="CMM", certified_on=CERTIFIED)
            )

    async def earn_and_pay(self, manager_id: str) -> None:
        posting = PostCompletion(
            external_id=f"congress-{manager_id}", manager_id=manager_id, activity_id="congress",
            completed_on=self.clock.now.date(), ceus=Decimal(24),
        )  # fmt: skip
        await completions.record_completion(self.ledger, ADMIN, "p", posting)
        await renewals.pay_fee(
            self.ledger,
            ADMIN,
            manager_id,
            PayFee(program="CMM", amount_cents=7500, reference="chk"),
        )

    async def file(self, manager_id: str) -> None:
        filed, _ = await renewals.file_renewal(
            self.ledger, ADMIN, manager_id, FileRenewal(program="CMM")
        )
        self.renewals[manager_id] = filed.renewal_id

    async def decide(self, manager_id: str, approve: bool) -> None:
        rid = self.renewals[manager_id]
        reason = "ok" if approve else "no certificate of attendance"
        await renewals.decide_renewal(
            self.ledger,
            ADMIN,
            rid,
            DecideRenewal(decision="approve" if approve else "deny", reason=reason),
        )

    async def draw(self, manager_id: str) -> None:
        rid = self.renewals[manager_id]
        day = date(2025, 10, 1)
        draw = DrawAudit(filed_from=day, filed_to=day, rate=Decimal(1), seed=42)
        await audits.draw_audit(self.ledger, ADMIN, "CMM", draw, population=[rid])

    async def day_ends(self, conn) -> None:
        """What the background tasks of `serve` do: project, remind, send."""
        for runner in self.runners:
            await runner.catch_up(conn)
        await remind(conn, self.clock.now.date(), self.clock.now)
        while await self.mailer.send_due(conn):
            pass


EVENTS = {
    date(2025, 9, 15): [("earn_and_pay", "blair"), ("earn_and_pay", "casey"),
                        ("earn_and_pay", "devon")],
    date(2025, 10, 1): [("file", "blair"), ("file", "casey"), ("file", "devon")],
    date(2025, 10, 2): [("approve", "blair"), ("deny", "casey")],
    date(2025, 10, 3): [("draw", "devon")],
    date(2025, 10, 10): [("approve", "devon")],
    date(2026, 1, 20): [("file", "casey")],  # again, and it stays pending past the deadline
    date(2026, 3, 5): [("approve", "casey")],
}  # fmt: skip

EXPECTED = sorted(
    [
        ("alex", "deadline_90", date(2025, 12, 1)),
        ("alex", "deadline_45", date(2026, 1, 15)),
        ("alex", "deadline_15", date(2026, 2, 14)),
        ("alex", "deadline_1", date(2026, 2, 28)),
        ("alex", "grace_started", date(2026, 3, 1)),
        ("alex", "lapsed", date(2026, 3, 31)),
        ("blair", "renewal_approved", date(2025, 10, 2)),
        ("casey", "renewal_denied", date(2025, 10, 2)),
        ("casey", "deadline_90", date(2025, 12, 1)),
        ("casey", "deadline_45", date(2026, 1, 15)),
        ("casey", "grace_started", date(2026, 3, 1)),
        ("casey", "renewal_approved", date(2026, 3, 5)),
        ("devon", "audit_selected", date(2025, 10, 3)),
        ("devon", "renewal_approved", date(2025, 10, 10)),
    ]
)


async def _outbox(conn) -> list[tuple]:
    rows = await conn.fetch(
        "SELECT manager_id, kind, due_on, cycle, status, attempts, sent_at, notice_id, recipient"
        " FROM notice_outbox ORDER BY manager_id, kind, due_on"
    )
    return [tuple(r) for r in rows]


@pytest.mark.slow
async def test_a_clock_moved_through_four_lives_yields_exactly_their_notices_each_sent_once(
    dsn, pool
):
    with smtp_server(Inbox()) as inbox:
        life = Life(dsn, pool, inbox)
        conn = await connect(dsn)
        try:
            await life.set_up()
            day = CERTIFIED
            while day <= END:
                life.clock.now = at_nine(day)
                for action, manager_id in EVENTS.get(day, []):
                    match action:
                        case "approve" | "deny":
                            await life.decide(manager_id, approve=action == "approve")
                        case _:
                            await getattr(life, action)(manager_id)
                await life.day_ends(conn)
                day += timedelta(days=1)
            rows = await _outbox(conn)

            assert sorted((m, k, d) for m, k, d, *_ in rows) == EXPECTED
            assert {(r[3], r[4], r[5]) for r in rows} == {(1, "sent", 1)}, "cycle 1, once"
            assert all(r[6] == at_nine(r[2]) for r in rows), "sent on the day it became due"
            assert all(r[8] == f"{r[0]}@example.org" for r in rows)
            received = Counter(inbox.message_ids())
            assert received == Counter(f"<{r[7]}@ceu-ledger>" for r in rows)
            subjects = {m["Message-ID"]: (m["To"], m["Subject"]) for m in inbox.messages}
            alex_15 = next(r for r in rows if r[:2] == ("alex", "deadline_15"))
            assert subjects[f"<{alex_15[7]}@ceu-ledger>"] == (
                "Alex <alex@example.org>",
                "Your CMM renewal is due in 15 days (2026-03-01)",
            )

            # A rebuild of the projection and the scheduler run again find nothing new.
            await ProjectionRunner(dsn, NoticeProjection()).rebuild()
            assert await remind(conn, END, life.clock.now) == 0
            assert await life.mailer.send_due(conn) == 0
            assert await _outbox(conn) == rows
            assert len(inbox.messages) == len(EXPECTED)
        finally:
            await conn.close()


# -- retries ----------------------------------------------------------------------------------


async def _one_notice(dsn, pool, clock: SteppingClock) -> None:
    ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
    await enrolment.enroll_manager(
        ledger, ADMIN, EnrollManager(manager_id="m", name="Mo", email="mo@example.org")
    )
    conn = await connect(dsn)
    try:
        await ProjectionRunner(dsn, CeuProjection()).catch_up(conn)
        notice = _notice("m", 1)
        await enqueue(conn, [notice], clock.now)
    finally:
        await conn.close()


def _notice(manager_id: str, cycle: int) -> Notice:
    return Notice(
        manager_id=manager_id, program="CMM", cycle=cycle, kind="lapsed",
        due_on=date(2026, 3, 31), deadline=date(2026, 3, 1), grace_ends_on=date(2026, 3, 31),
    )  # fmt: skip


def test_backoff_doubles_from_30_seconds_and_stops_at_an_hour():
    assert [backoff(n) for n in (1, 2, 3, 4, 7, 8, 20)] == [30, 60, 120, 240, 1920, 3600, 3600]


async def test_a_refused_attempt_is_retried_after_a_growing_pause_then_sent_once(dsn, pool):
    clock = SteppingClock(datetime(2026, 4, 1, 9, tzinfo=UTC))
    await _one_notice(dsn, pool, clock)
    with smtp_server(
        Inbox(answer=lambda _m, n: "451 4.3.0 try later" if n <= 2 else None)
    ) as inbox:
        mailer = Mailer(dsn, Smtp(host=inbox.host, port=inbox.port, sender="x@example.org"),
                        clock=clock, lease=30)  # fmt: skip
        conn = await connect(dsn)
        try:
            state = "SELECT status, attempts, next_attempt_at, last_error FROM notice_outbox"
            assert await mailer.send_due(conn) == 0
            status, attempts, next_at, error = await conn.fetchrow(state)
            assert (status, attempts, next_at) == ("pending", 1, clock.now + timedelta(seconds=30))
            assert "451" in error
            clock.advance(seconds=29)
            assert await mailer.send_due(conn) == 0, "not due yet"
            assert (await conn.fetchrow(state))[1] == 1
            clock.advance(seconds=1)
            assert await mailer.send_due(conn) == 0
            assert (await conn.fetchrow(state))[1:3] == (2, clock.now + timedelta(seconds=60))
            clock.advance(seconds=60)
            assert await mailer.send_due(conn) == 1
            assert (await conn.fetchrow(state))[:2] == ("sent", 3)
            assert len(inbox.message_ids()) == 1
        finally:
            await conn.close()


async def test_a_permanent_refusal_fails_the_notice_at_once(dsn, pool):
    clock = SteppingClock(datetime(2026, 4, 1, 9, tzinfo=UTC))
    await _one_notice(dsn, pool, clock)
    with smtp_server(Inbox(answer=lambda _m, _n: "550 5.1.1 no such mailbox")) as inbox:
        mailer = Mailer(dsn, Smtp(host=inbox.host, port=inbox.port, sender="x@example.org"),
                        clock=clock, lease=30)  # fmt: skip
        conn = await connect(dsn)
        try:
            assert await mailer.send_due(conn) == 0
            clock.advance(hours=2)
            assert await mailer.send_due(conn) == 0
            row = await conn.fetchrow("SELECT status, attempts, sent_at FROM notice_outbox")
            assert tuple(row) == ("failed", 1, None)
        finally:
            await conn.close()


async def test_an_unreachable_server_is_a_retry_not_a_loss(dsn, pool):
    clock = SteppingClock(datetime(2026, 4, 1, 9, tzinfo=UTC))
    await _one_notice(dsn, pool, clock)
    with smtp_server(Inbox()) as inbox:
        port = inbox.port
    mailer = Mailer(dsn, Smtp(host="127.0.0.1", port=port, sender="x@example.org"), clock=clock)
    conn = await connect(dsn)
    try:
        assert await mailer.send_due(conn) == 0
        row = await conn.fetchrow("SELECT status, attempts, claimed_by FROM notice_outbox")
        assert tuple(row) == ("pending", 1, None)
    finally:
        await conn.close()


async def test_the_scheduler_runs_again_as_soon_as_new_data_is_projected_not_an_hour_later(
    dsn, pool
) -> None:
    """The first `make run` recorded the demo after the scheduler's first run, and showed no
    reminder for an hour: new data in the read model is a reason to run, as the hour is."""
    clock = SteppingClock(at_nine(date(2025, 12, 1)))  # alex's 90-day notice is due
    ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
    runner = ProjectionRunner(dsn, CeuProjection())
    scheduler = ReminderScheduler(dsn, clock=lambda: clock.now, interval=3600)
    assert await scheduler.step() == 0  # on start, before any data
    assert await scheduler.step() is None  # nothing new: no run before the hour
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await enrolment.enroll_manager(
        ledger, ADMIN, EnrollManager(manager_id="alex", name="Alex", email="alex@example.org")
    )
    await enrolment.grant_certification(
        ledger, ADMIN, "alex", GrantCertification(program="CMM", certified_on=CERTIFIED)
    )
    conn = await connect(dsn)
    try:
        await runner.catch_up(conn)
        assert await scheduler.step() == 1  # the demo's data: its reminder at once
        assert await scheduler.step() is None
        kinds = [r[1] for r in await _outbox(conn)]
    finally:
        await conn.close()
        await scheduler.close()
    assert kinds == ["deadline_90"]


async def test_the_running_scheduler_is_woken_by_notify_not_by_polling(dsn, pool) -> None:
    """It used to open a connection every 5 s to look at the read model.  With the hour and
    the fallback far longer than the test, only the store's NOTIFY can make it run again."""
    clock = SteppingClock(at_nine(date(2025, 12, 1)))
    ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
    runner = ProjectionRunner(dsn, CeuProjection())
    scheduler = ReminderScheduler(dsn, clock=lambda: clock.now, interval=3600, fallback=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    conn = await connect(dsn)
    try:
        async with asyncio.timeout(30):  # a guard against hanging, not an ordering
            await _ran(scheduler, 1)  # on start, listening from then on
            assert scheduler.heard <= scheduler.projected  # nothing announced yet
            await catalogue.ensure_default_programs(ledger, ADMIN)
            await enrolment.enroll_manager(
                ledger,
                ADMIN,
                EnrollManager(manager_id="alex", name="Alex", email="alex@example.org"),
            )
            await enrolment.grant_certification(
                ledger, ADMIN, "alex", GrantCertification(program="CMM", certified_on=CERTIFIED)
            )
            await runner.catch_up(conn)
            await _ran(scheduler, 2)
        assert [r[1] for r in await _outbox(conn)] == ["deadline_90"]
        assert scheduler.heard == scheduler.projected  # caught up: back to the fallback
    finally:
        stop.set()
        await task
        await conn.close()


async def test_data_stored_before_the_scheduler_started_is_reminded_of_once_projected(
    dsn, pool
) -> None:
    """`serve` records the demo before its projector process starts: no NOTIFY announces that
    data to the scheduler, which ran first before the read model had it.  The head it reads
    at each run says the read model is behind, so it looks again soon, not at the fallback."""
    clock = SteppingClock(at_nine(date(2025, 12, 1)))
    ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await enrolment.enroll_manager(
        ledger, ADMIN, EnrollManager(manager_id="alex", name="Alex", email="alex@example.org")
    )
    await enrolment.grant_certification(
        ledger, ADMIN, "alex", GrantCertification(program="CMM", certified_on=CERTIFIED)
    )
    runner = ProjectionRunner(dsn, CeuProjection())
    scheduler = ReminderScheduler(dsn, clock=lambda: clock.now, interval=3600, fallback=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    conn = await connect(dsn)
    try:
        async with asyncio.timeout(60):  # a guard against hanging, not an ordering
            await _ran(scheduler, 1)  # on start: the read model has nothing yet
            assert await _outbox(conn) == []
            await runner.catch_up(conn)
            await _ran(scheduler, 2)
        assert [r[1] for r in await _outbox(conn)] == ["deadline_90"]
    finally:
        stop.set()
        await task
        await conn.close()


async def _ran(scheduler: ReminderScheduler, runs: int) -> None:
    while scheduler.runs < runs:
        scheduler.ran.clear()
        await scheduler.ran.wait()


# -- one notice's fault is its own (issue 16, attack 5) ---------------------------------------


async def test_a_notice_that_cannot_be_built_fails_alone_and_the_rest_of_its_batch_is_sent(
    dsn, pool
):
    """A name with a line break, written before SPEC 6 refused it (here through the commands,
    which the API's validation stands in front of), made its notice fail to build outside the
    sender's error handling: the up to nine others claimed with it stayed pending for ever."""
    clock = SteppingClock(datetime(2026, 4, 1, 9, tzinfo=UTC))
    ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
    names = {"m-0": "Mo\nBcc: all@example.org"} | {f"m-{n}": f"M{n}" for n in range(1, 10)}
    for manager_id, name in names.items():
        await enrolment.enroll_manager(
            ledger,
            ADMIN,
            EnrollManager(manager_id=manager_id, name=name, email=f"{manager_id}@example.org"),
        )
    with smtp_server(Inbox()) as inbox:
        mailer = Mailer(dsn, Smtp(host=inbox.host, port=inbox.port, sender="x@example.org"),
                        clock=clock, lease=30, batch_size=10)  # fmt: skip
        conn = await connect(dsn)
        try:
            await ProjectionRunner(dsn, CeuProjection()).catch_up(conn)
            await enqueue(conn, [_notice(m, 1) for m in names], clock.now)

            assert await mailer.send_due(conn) == 9
            clock.advance(hours=2)
            assert await mailer.send_due(conn) == 0, "the bad one is not tried again"
            rows = await conn.fetch(
                "SELECT manager_id, status, last_error FROM notice_outbox ORDER BY manager_id"
            )
        finally:
            await conn.close()

    assert [(r[0], r[1]) for r in rows] == [("m-0", "failed")] + [
        (f"m-{n}", "sent") for n in range(1, 10)
    ]
    assert "ValueError" in rows[0][2]
    assert len(inbox.messages) == 9
    assert all(m["Bcc"] is None for m in inbox.messages)


async def test_a_notice_links_to_the_configured_public_url(dsn, pool):
    """SPEC 6: mail uses LEDGER_PUBLIC_URL (before, the link was a bare path)."""
    clock = SteppingClock(datetime(2026, 4, 1, 9, tzinfo=UTC))
    await _one_notice(dsn, pool, clock)
    with smtp_server(Inbox()) as inbox:
        smtp = Smtp(host=inbox.host, port=inbox.port, sender="x@example.org",
                    public_url="https://ceu.example.org")  # fmt: skip
        conn = await connect(dsn)
        try:
            assert await Mailer(dsn, smtp, clock=clock).send_due(conn) == 1
        finally:
            await conn.close()

    (message,) = inbox.messages
    body = message.get_payload(decode=True).decode()
    assert "See where you stand: https://ceu.example.org/managers/m\r\n" in body
