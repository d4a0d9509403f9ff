"""The demo's claims (SPEC 11, ledger/demo.py): an open one (Sam's) and an overdue one (Kim's,
filed 35 days before the demo was first started, in the chapter of history the demo records on
its own clock).  The overdue claim is on the association's list (API and page), on Kim's page,
and gets its notices from the reminder scheduler; the log stays in time order with its chain
intact; a second start records nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.access.tokens import TokenStore
from ledger.cli import SYSTEM
from ledger.commands import Ledger
from ledger.commands.catalogue import ensure_default_programs
from ledger.demo import KIM, OVERDUE_ACTIVITY, demo_ledger, seed_demo
from ledger.infra.reminders import _LOCK as REMINDERS_LOCK
from ledger.infra.reminders import remind
from tests.api.world import Api, settled
from tests.builders import SteppingClock, run_cli
from tests.web.pages_client import pages, sign_in

NOW = datetime(2026, 6, 15, 14, 30, tzinfo=UTC)
"""The pages' app's clock (tests/web/pages_client.py): the demo is seeded on it."""


async def test_the_demo_has_an_open_claim_and_an_overdue_one_seeded_once(dsn):
    clock = SteppingClock(NOW)
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        ledger = demo_ledger(pool, clock)
        identities = await seed_demo(ledger, TokenStore(pool, clock=clock), SYSTEM)
        head = await ledger.store.head()
        clock.advance(hours=1)
        await seed_demo(ledger, TokenStore(pool, clock=clock), SYSTEM)  # the next start
        again = await ledger.store.head()
        log = [e async for e in ledger.store.iter_all()]
        kim, _ = await ledger.managers.current(KIM)
        sam, _ = await ledger.managers.current("sam-short")
    tokens = {subject: token for _, subject, token in identities}

    assert again == head  # nothing new on the second start
    times = [e.recorded_at for e in log]
    assert times == sorted(times)
    assert times[0] == NOW - timedelta(days=40)  # the programs, first of all
    assert max(times) <= NOW
    assert kim is not None
    assert sam is not None
    [(kim_claim_id, kim_claim)] = kim.claims.items()
    [sams] = sam.claims.values()
    assert (kim_claim.activity_id, kim_claim.state) == (OVERDUE_ACTIVITY, "open")
    assert kim_claim.filed_at == NOW - timedelta(days=35)
    assert NOW - kim_claim.filed_at >= timedelta(days=30)
    assert (sams.activity_id, sams.state) == ("tma-compliance", "open")
    assert NOW - sams.filed_at < timedelta(days=1)
    # Everything recorded before the claim is what it stands on: programs, catalogue, Kim.
    before = [e for e in log if e.recorded_at < kim_claim.filed_at]
    assert {e.stream_id.split("-", 1)[0] for e in before} <= {
        "program", "provider", "activity", "manager",
    }, {e.stream_id for e in before}  # fmt: skip
    assert {e.stream_id for e in before if e.stream_id.startswith("manager-")} == {f"manager-{KIM}"}

    async with pages(dsn) as client:  # the app on NOW, its projectors and reminders running
        await settled(Api(client))
        api = {"Authorization": f"Bearer {tokens['PAHCOM']}"}
        listed = (await client.get("/v1/programs/CMM/claims", headers=api)).json()
        assert [(c["claim_id"], c["manager_id"]) for c in listed] == [(str(kim_claim_id), KIM)]
        conn = await asyncpg.connect(dsn)
        try:  # today's reminder run (after the app's own, if it is running: same lock)
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", REMINDERS_LOCK)
                await remind(conn, NOW.date(), NOW)
            outbox = await conn.fetch(
                "SELECT manager_id, kind, due_on FROM notice_outbox WHERE claim_id = $1",
                kim_claim_id,
            )
            told = await conn.fetch(
                "SELECT program FROM association_notices WHERE claim_id = $1", kim_claim_id
            )
            sams_notices = await conn.fetchval(
                "SELECT count(*) FROM notice_outbox WHERE claim_id = $1", sams.claim_id
            )
        finally:
            await conn.close()
        overdue_on = (NOW - timedelta(days=5)).date()
        assert [tuple(r) for r in outbox] == [(KIM, "claim_overdue", overdue_on)]
        assert [r[0] for r in told] == ["CMM"]  # Kim holds CMM only
        assert sams_notices == 0
        [listed] = (await client.get("/v1/programs/CMM/claims", headers=api)).json()
        assert listed["association_told_on"] == overdue_on.isoformat()  # its notice's day

        await sign_in(client, tokens["PAHCOM"])
        program = (await client.get("/programs/CMM")).text
        section = program.split('id="overdue-claims-title"', 1)[1].split("</section>", 1)[0]
        assert re.findall(r'data-claim="([^"]+)"', section) == [str(kim_claim_id)]
        client.cookies.clear()
        await sign_in(client, tokens[KIM])
        page = (await client.get(f"/managers/{KIM}")).text
        row = re.search(rf'<tr data-claim="{kim_claim_id}"[^>]*>.*?</tr>', page, re.S)
        assert row is not None
        assert 'data-overdue="true"' in row[0]
        assert "Overdue</span> since" in row[0]

    status, out, err = await run_cli(dsn, "verify")
    assert (status, msgspec.json.decode(out)["ok"]) == (0, True), err


async def test_on_a_log_begun_later_the_first_chapter_does_not_go_back_before_it(dsn):
    """A data directory used before (`migrate` recorded the programs now): the chapter of
    history is recorded no earlier than the last event, so the log stays in time order and
    Kim's claim is honestly only open."""
    clock = SteppingClock(NOW)
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        await ensure_default_programs(Ledger(PostgresEventStore(pool, clock=clock)), SYSTEM)
        clock.advance(minutes=5)
        ledger = demo_ledger(pool, clock)
        await seed_demo(ledger, TokenStore(pool, clock=clock), SYSTEM)
        log = [e async for e in ledger.store.iter_all()]
        kim, _ = await ledger.managers.current(KIM)

    times = [e.recorded_at for e in log]
    assert times == sorted(times)
    assert kim is not None
    [claim] = kim.claims.values()
    assert claim.filed_at == NOW  # the programs' time, not 35 days before
    assert claim.state == "open"
