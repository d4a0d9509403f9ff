"""An overdue claim's notices end to end, against the real PostgreSQL and a real SMTP server
(aiosmtpd): the ledger, its projections, the reminder scheduler and the sender on one stepping
clock, run day by day.  The manager is mailed once, the day the claim becomes overdue; each
association whose program the activity counts for (and the manager holds) gets its notice;
nothing is told before that day, nor again after."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from events.catalog import ActivityRegistered
from events.codec import Actor
from events.postgres.connection import connect
from events.postgres.store import PostgresEventStore
from ledger.commands import Context, Ledger, catalogue, claims
from ledger.commands import managers as enrolment
from ledger.commands.messages import EnrollManager, FileClaim, GrantCertification, RegisterProvider
from ledger.infra.mailer import Mailer, Smtp
from ledger.infra.reminders import remind
from projections.ceu import CeuProjection
from projections.claims import ClaimsProjection
from projections.engine import ProjectionRunner
from tests.builders import SteppingClock
from tests.smtp import Inbox, smtp_server

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="t")
FILED = date(2026, 3, 2)


async def test_an_overdue_claim_is_mailed_to_its_manager_once_and_listed_for_the_association(
    dsn, pool
):
    clock = SteppingClock(datetime.combine(FILED, time(9), tzinfo=UTC))
    ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await catalogue.register_provider(
        ledger, ADMIN, RegisterProvider(provider_id="p", name="Provider", programs=["CMM", "CMOM"])
    )
    await catalogue.register_activity(
        ledger, ADMIN,
        ActivityRegistered(
            provider_id="p", activity_id="congress", title="Congress", format="in person",
            ceus=Decimal(12), category="core", programs=("CMM", "CMOM"),
            starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
        ),
    )  # fmt: skip
    await enrolment.enroll_manager(
        ledger, ADMIN, EnrollManager(manager_id="m", name="Mo", email="mo@example.org")
    )
    await enrolment.grant_certification(
        ledger, ADMIN, "m", GrantCertification(program="CMM", certified_on=date(2025, 6, 1))
    )
    filed, _ = await claims.file_claim(
        ledger, ADMIN, "m", FileClaim(activity_id="congress", completed_on=date(2026, 2, 27))
    )
    runners = [ProjectionRunner(dsn, p) for p in (CeuProjection(), ClaimsProjection())]
    conn = await connect(dsn)
    sent: dict[date, int] = {}
    try:
        with smtp_server(Inbox()) as inbox:
            smtp = Smtp(host=inbox.host, port=inbox.port, sender="notices@example.org")
            mailer = Mailer(dsn, smtp, name="t", clock=clock, lease=30)
            for day in range(35):  # 2026-03-02 .. 2026-04-05, once a day
                clock.now = datetime.combine(FILED + timedelta(days=day), time(9), tzinfo=UTC)
                for runner in runners:
                    await runner.catch_up(conn)
                await remind(conn, clock.now.date(), clock.now)
                while n := await mailer.send_due(conn):
                    sent[clock.now.date()] = sent.get(clock.now.date(), 0) + n
        told = await conn.fetch(
            "SELECT program, due_on FROM association_notices WHERE claim_id = $1",
            filed.claim_id,
        )
    finally:
        await conn.close()

    assert sent == {date(2026, 4, 1): 1}  # 30 days after it was filed, and only then
    (message,) = inbox.messages
    assert message["To"] == "Mo <mo@example.org>"
    assert message["Subject"] == "Your claim for congress is still unanswered"
    body = message.get_payload(decode=True).decode()
    assert "overdue since 2026-04-01" in body
    # m holds CMM only: CMOM's association is not told of this manager.
    assert [tuple(r) for r in told] == [("CMM", date(2026, 4, 1))]
