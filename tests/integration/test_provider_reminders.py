"""Reminders to providers (SPEC 12), against the real PostgreSQL: a clock moved day by day
from an approval to past its lapse, with the reminder scheduler run each day (twice on some
days, as two processes would), queues exactly two notices, 120 and 30 days before the lapse,
each once, on the day it became due; a renewal approved in time is not reminded of; the
sender mails a reminder once to the application's contact address (aiosmtpd), retrying a
refusal."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from events.codec import Actor
from events.postgres.connection import connect
from events.postgres.store import PostgresEventStore
from ledger.commands import Context, Ledger, approvals, catalogue
from ledger.commands.messages import ApplyForApproval, ApproveProvider, RegisterProvider
from ledger.infra.mailer import Mailer, Smtp
from ledger.infra.reminders import remind
from tests.builders import SteppingClock
from tests.smtp import Inbox, smtp_server

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="t")
APPROVED = date(2026, 1, 5)
LAPSES = date(2026, 9, 1)


def at_nine(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


async def _approved(ledger: Ledger, provider_id: str, until: date) -> None:
    await catalogue.register_provider(
        ledger,
        ADMIN,
        RegisterProvider(provider_id=provider_id, name=provider_id.upper(), programs=["CMM"]),
    )
    await approvals.request_provider_approval(
        ledger,
        ADMIN,
        "CMM",
        provider_id,
        ApplyForApproval(contact_email=f"ce@{provider_id}.example"),
    )
    await approvals.approve_provider(
        ledger,
        ADMIN,
        "CMM",
        provider_id,
        ApproveProvider(approval_number=f"{provider_id}-1", valid_until=until),
    )


async def _queued(conn) -> list[tuple]:
    rows = await conn.fetch(
        "SELECT provider_id, kind, due_on, valid_until, email, created_at FROM provider_notices"
        " ORDER BY provider_id, due_on"
    )
    return [tuple(row) for row in rows]


async def test_a_provider_is_reminded_120_and_30_days_before_its_approval_lapses_once_each(
    dsn, pool
):
    clock = SteppingClock(at_nine(APPROVED))
    ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await _approved(ledger, "tma", LAPSES)
    await _approved(ledger, "mgma", LAPSES)
    conn = await connect(dsn)
    try:
        day = APPROVED
        while day <= LAPSES + timedelta(days=5):
            clock.now = at_nine(day)
            if day == date(2026, 7, 1):  # mgma renews in time: a new approval to 2028
                await approvals.request_provider_approval(
                    ledger, ADMIN, "CMM", "mgma", ApplyForApproval(contact_email="ce@mgma.example")
                )
                await approvals.approve_provider(
                    ledger,
                    ADMIN,
                    "CMM",
                    "mgma",
                    ApproveProvider(approval_number="mgma-2", valid_until=date(2028, 9, 1)),
                )
            await remind(conn, day, clock.now)
            if day.day == 1:  # another process at the same moment finds the same ones
                await remind(conn, day, clock.now)
            day += timedelta(days=1)
        queued = await _queued(conn)
    finally:
        await conn.close()

    assert queued == [
        ("mgma", "approval_lapses_120", date(2026, 5, 4), LAPSES, "ce@mgma.example",
         at_nine(date(2026, 5, 4))),
        ("tma", "approval_lapses_120", date(2026, 5, 4), LAPSES, "ce@tma.example",
         at_nine(date(2026, 5, 4))),
        ("tma", "approval_lapses_30", date(2026, 8, 2), LAPSES, "ce@tma.example",
         at_nine(date(2026, 8, 2))),
    ]  # fmt: skip


async def test_a_scheduler_down_on_the_day_sends_the_next_reminder_not_the_missed_one(dsn, pool):
    clock = SteppingClock(at_nine(APPROVED))
    ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await _approved(ledger, "tma", LAPSES)
    conn = await connect(dsn)
    try:
        assert await remind(conn, date(2026, 5, 3), at_nine(date(2026, 5, 3))) == 0
        assert await remind(conn, date(2026, 8, 10), at_nine(date(2026, 8, 10))) == 1
        assert await remind(conn, date(2026, 8, 11), at_nine(date(2026, 8, 11))) == 0
        assert await remind(conn, LAPSES, at_nine(LAPSES)) == 0
        kinds = [row[1] for row in await _queued(conn)]
    finally:
        await conn.close()

    assert kinds == ["approval_lapses_30"]


async def test_a_provider_s_reminder_is_mailed_once_to_its_contact_address(dsn, pool):
    clock = SteppingClock(at_nine(APPROVED))
    ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await _approved(ledger, "tma", LAPSES)
    with smtp_server(
        Inbox(answer=lambda _m, n: "451 4.3.0 try later" if n == 1 else None)
    ) as inbox:
        mailer = Mailer(
            dsn, Smtp(host=inbox.host, port=inbox.port, sender="notices@example.org",
                      public_url="https://ceu.example"), clock=clock, lease=30,
        )  # fmt: skip
        conn = await connect(dsn)
        try:
            clock.now = at_nine(date(2026, 8, 2))
            await remind(conn, clock.now.date(), clock.now)
            assert await mailer.send_due_providers(conn) == 0  # refused once: retried later
            clock.advance(seconds=30)
            assert await mailer.send_due_providers(conn) == 1
            clock.advance(hours=1)
            await remind(conn, clock.now.date(), clock.now)
            assert await mailer.send_due_providers(conn) == 0  # sent already
            status = await conn.fetchrow("SELECT status, attempts FROM provider_notices")
        finally:
            await conn.close()

    [message] = inbox.messages
    assert tuple(status) == ("sent", 2)
    assert message["To"] == "TMA <ce@tma.example>"
    assert message["Subject"] == "Your CMM approval tma-1 lapses in 30 days"
    assert "lapses on 01 September 2026" in message.get_payload()
    assert "https://ceu.example/providers/tma#approvals" in message.get_payload()
