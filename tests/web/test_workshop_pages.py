"""The workshop pages' refusals and answers (SPEC 9, 11), without a browser: who may close a
workshop, open its kiosk or check in; a close too early, unconfirmed or repeated; a kiosk whose
door is closed; a check-in page that records nothing until its button is pressed; and where
signing in returns to.  Litestar's test client plays the browser (cookies, CSRF tokens); the
app and the database are real, on the pages' clock (15 June 2026, 14:30 UTC), moved by hand."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from ledger.cli import SYSTEM
from ledger.commands import workshops
from ledger.commands.messages import AgendaSession
from ledger.domain.workshops.door import door_key, make_code
from tests.api.world import World
from tests.builders import SteppingClock
from tests.web.pages_client import SECRET, csrf_of, pages, sign_in

KEY = door_key(hashlib.sha256(SECRET.encode()).digest())
PAGE = "/providers/tma/activities/tma-today"
KIOSK = PAGE + "/sessions/s-1/kiosk"
CHANGED = (
    "session_id,title,starts_at,ends_at,ceus,category\n"
    "s-1,Billing clinic,2026-06-15T14:00:00+00:00,2026-06-15T16:00:00+00:00,2,core\n"
    "s-2,Coding lab,2026-06-15T16:30:00+00:00,2026-06-15T17:00:00+00:00,1,general\n"
)


@pytest.fixture
async def world(world_template: World, dsn: str) -> AsyncIterator[World]:
    """The world, and `tma-today`: a workshop of tma on the clock's day with one session,
    14:00 to 16:00 UTC (its door open from 13:00 to 17:00)."""
    async with pages(dsn) as client:
        world = world_template.on(client)
        await world.api.activity(
            world.tma, "tma", "tma-today", ceus="3", starts_on="2026-06-15", ends_on="2026-06-15"
        )
        session = AgendaSession(
            session_id="s-1",
            title="Billing clinic",
            starts_at=datetime(2026, 6, 15, 14, tzinfo=UTC),
            ends_at=datetime(2026, 6, 15, 16, tzinfo=UTC),
            ceus=Decimal("2"),
            category="core",
        )
        ledger = client.app.state.ledger
        schedule = functools.partial(
            workshops.schedule_sessions, ledger, SYSTEM, "tma", "tma-today", [session]
        )
        client.blocking_portal.call(schedule)
        yield world


def clock_of(world: World) -> SteppingClock:
    clock: SteppingClock = world.api.client.app.state.ledger.clock
    return clock


def code_now(world: World) -> str:
    return make_code(KEY, "tma-today", "s-1", clock_of(world).now)


async def post_form(
    client: AsyncTestClient[Any], form_page: str, action: str, **fields: str
) -> Any:
    """Post `fields` to `action` with the CSRF token of `form_page` (as the signed-in person)."""
    page = await client.get(form_page)
    return await client.post(
        action, data={**fields, "_csrf_token": csrf_of(page)}, follow_redirects=False
    )


async def test_the_provider_sees_each_check_in_with_its_minutes_and_the_kiosk_its_link(world):
    client = world.api.client
    await sign_in(client, world.m1)
    checked_in = await post_form(client, "/managers/m-1", f"/check-in/{code_now(world)}")
    assert checked_in.status_code == 303
    assert checked_in.headers["location"] == "/managers/m-1#workshops"
    clock_of(world).advance(minutes=85)  # 15:55
    out = await post_form(client, "/managers/m-1", f"/check-in/{code_now(world)}")
    assert out.status_code == 303

    client.cookies.clear()
    await sign_in(client, world.tma)
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert 'data-manager="m-1"' in page.text
    assert "85 of 120 min" in page.text
    assert "present for 85 of 120 minutes" in page.text  # came late (14:30), left early
    kiosk = await client.get(KIOSK)
    assert kiosk.status_code == 200
    assert f"http://testserver.local/check-in/{code_now(world)}" in kiosk.text
    assert "data:image/svg+xml" in kiosk.text


async def test_only_the_provider_itself_closes_its_workshop_or_opens_its_kiosk(world):
    api, client = world.api, world.api.client
    head = await api.head()
    for token, home in (
        (world.mgma, "/providers/mgma"),
        (world.admin, "/admin"),
        (world.m1, "/managers/m-1"),
        (world.cmm_auditor, "/programs/CMM"),
    ):
        client.cookies.clear()
        await sign_in(client, token)
        refused = await post_form(client, home, PAGE + "/close", confirm="yes")
        assert refused.status_code == 403, refused.text[:300]
        assert (await client.get(KIOSK)).status_code == 403
        agenda = await post_form(client, home, PAGE + "/agenda", agenda=CHANGED)
        assert agenda.status_code == 403
    # mgma, under its own path, naming tma's workshop
    client.cookies.clear()
    await sign_in(client, world.mgma)
    mgmas_path = "/providers/mgma/activities/tma-today"
    refused = await post_form(client, "/providers/mgma", mgmas_path + "/close", confirm="yes")
    assert refused.status_code == 403
    assert "not this provider" in refused.text
    assert (await client.get(mgmas_path + "/sessions/s-1/kiosk")).status_code == 403
    assert await api.head() == head


async def test_only_a_manager_checks_in(world):
    api, client = world.api, world.api.client
    head = await api.head()
    for token, home in ((world.tma, "/providers/tma"), (world.admin, "/admin")):
        client.cookies.clear()
        await sign_in(client, token)
        assert (await client.get(f"/check-in/{code_now(world)}")).status_code == 403
        refused = await post_form(client, home, f"/check-in/{code_now(world)}")
        assert refused.status_code == 403
    assert await api.head() == head


async def test_opening_the_check_in_page_records_nothing_and_its_button_records_once(world):
    api, client = world.api, world.api.client
    await sign_in(client, world.m2)
    head = await api.head()
    code = code_now(world)

    page = await client.get(f"/check-in/{code}")

    assert page.status_code == 200
    assert "Check me in" in page.text
    assert "Billing clinic" in page.text
    assert await api.head() == head
    posted = await client.post(
        f"/check-in/{code}", data={"_csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert posted.status_code == 303
    moved = await api.head()
    assert moved > head
    again = await client.post(
        f"/check-in/{code}", data={"_csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert again.status_code == 409
    assert 'data-reason="used"' in again.text
    assert await api.head() == moved


async def test_a_close_unconfirmed_or_before_the_last_session_ends_is_refused_on_the_page(world):
    api, client = world.api, world.api.client
    await sign_in(client, world.tma)
    head = await api.head()

    unticked = await post_form(client, PAGE, PAGE + "/close")
    early = await post_form(client, PAGE, PAGE + "/close", confirm="yes")

    assert unticked.status_code == 422
    assert "Tick the box to confirm" in unticked.text
    assert early.status_code == 422
    assert "the last session ends at 2026-06-15T16:00:00+00:00: close after it" in early.text
    assert await api.head() == head


async def test_closing_twice_records_nothing_new_and_says_so(world):
    api, client = world.api, world.api.client
    await sign_in(client, world.tma)
    clock_of(world).advance(minutes=95)  # 16:05

    first = await post_form(client, PAGE, PAGE + "/close", confirm="yes")
    assert first.status_code == 303
    closed = await client.get(PAGE)
    assert "is closed: credit derived for 0 of 0 attendees" in closed.text
    head = await api.head()
    second = await post_form(client, PAGE, PAGE + "/close", confirm="yes")
    assert second.status_code == 303
    said = await client.get(PAGE)
    assert "was already closed: nothing new was recorded" in said.text
    assert await api.head() == head


async def test_a_kiosk_whose_door_is_closed_shows_no_code_and_a_scan_is_refused(world):
    client = world.api.client
    clock_of(world).advance(hours=2, minutes=31)  # 17:01, an hour and a minute after the end
    await sign_in(client, world.tma)

    kiosk = await client.get(KIOSK)

    assert kiosk.status_code == 200
    assert 'id="door-closed"' in kiosk.text
    assert "/check-in/" not in kiosk.text
    client.cookies.clear()
    await sign_in(client, world.m1)
    scanned = await client.get(f"/check-in/{code_now(world)}")
    assert scanned.status_code == 409
    assert "open on 15 June 2026 from 13:00 UTC to 17:00 UTC" in scanned.text


async def test_signing_in_returns_a_manager_to_the_check_in_page_and_nobody_else(world):
    client = world.api.client
    path = f"/check-in/{code_now(world)}"

    first = await client.get(path, follow_redirects=False)
    assert first.status_code in (302, 303)
    assert first.headers["location"] == "/login"
    signed_in = await sign_in(client, world.m1)
    assert signed_in.headers["location"] == path

    client.cookies.clear()
    await client.get(path, follow_redirects=False)
    provider = await sign_in(client, world.tma)
    assert provider.headers["location"] == "/providers/tma"

    client.cookies.clear()
    await client.get("/managers/m-1", follow_redirects=False)
    manager = await sign_in(client, world.m1)
    assert manager.headers["location"] == "/managers/m-1"


async def test_an_unknown_workshop_or_session_is_a_page_not_found(world):
    client = world.api.client
    await sign_in(client, world.tma)

    assert (await client.get("/providers/tma/activities/no-such")).status_code == 404
    assert (await client.get(PAGE + "/sessions/no-such/kiosk")).status_code == 404


async def test_the_provider_gives_the_agenda_on_the_page_and_the_same_again_records_nothing(
    world,
):
    api, client = world.api, world.api.client
    await sign_in(client, world.tma)
    page = await client.get(PAGE)
    assert "s-1,Billing clinic,2026-06-15T14:00:00+00:00,2026-06-15T16:00:00+00:00,2,core" in (
        page.text
    )

    given = await post_form(client, PAGE, PAGE + "/agenda", agenda=CHANGED)

    assert given.status_code == 303
    shown = await client.get(PAGE)
    assert "The agenda is given: 2 sessions." in shown.text
    assert 'data-session="s-2"' in shown.text
    head = await api.head()
    again = await post_form(client, PAGE, PAGE + "/agenda", agenda=CHANGED)
    assert again.status_code == 303
    assert "The agenda already says so" in (await client.get(PAGE)).text
    assert await api.head() == head


async def test_a_bad_agenda_is_refused_line_by_line_and_the_text_is_kept(world):
    api, client = world.api, world.api.client
    await sign_in(client, world.tma)
    head = await api.head()
    text = (
        "s-1,Billing clinic,2026-06-15T14:00:00+00:00,2026-06-15T16:00:00+00:00,2,core\n"
        "s-2,Coding lab,2026-06-15 16:30,2026-06-15T17:00:00+00:00,1\n"  # no offset
        "s-3,Late lab,2026-06-15T18:00:00+00:00,2026-06-15T17:00:00+00:00,1,general\n"
    )

    shape = await post_form(client, PAGE, PAGE + "/agenda", agenda=text)
    typed = await post_form(
        client, PAGE, PAGE + "/agenda", agenda=text.replace(",1\n", ",1,general\n", 1)
    )
    rules = await post_form(
        client,
        PAGE,
        PAGE + "/agenda",
        agenda=text.replace("2026-06-15 16:30", "2026-06-15 16:30Z").replace(
            ",1\n", ",1,general\n", 1
        ),
    )

    assert shape.status_code == 422
    assert "Session 2: give 6 values separated by commas" in shape.text
    assert "Coding lab,2026-06-15 16:30" in shape.text  # what was typed, kept
    assert typed.status_code == 422
    assert (
        "Session 2: Enter the start as a date and time with its offset, such as"
        " 2026-06-17T09:00-05:00"
    ) in typed.text
    assert rules.status_code == 422
    assert "Session 3: ends_at must be after starts_at" in rules.text
    assert await api.head() == head


async def test_a_session_with_attendance_cannot_change_on_the_page(world):
    api, client = world.api, world.api.client
    await sign_in(client, world.m1)
    await post_form(client, "/managers/m-1", f"/check-in/{code_now(world)}")
    client.cookies.clear()
    await sign_in(client, world.tma)
    head = await api.head()

    moved = await post_form(
        client, PAGE, PAGE + "/agenda", agenda=CHANGED.replace("T14:00", "T14:15")
    )

    assert moved.status_code == 422
    assert "attendance is recorded for session(s) s-1: they cannot change" in moved.text
    assert await api.head() == head


async def test_an_auditor_sees_on_a_managers_page_only_the_workshops_of_its_programs(world):
    api, client = world.api, world.api.client
    await api.activity(
        world.tma, "tma", "tma-cmm-only", ceus="2", programs=["CMM"],
        starts_on="2026-06-15", ends_on="2026-06-15",
    )  # fmt: skip
    session = AgendaSession(
        session_id="s-1",
        title="CMM only",
        starts_at=datetime(2026, 6, 15, 14, tzinfo=UTC),
        ends_at=datetime(2026, 6, 15, 15, tzinfo=UTC),
        ceus=Decimal("1"),
        category="core",
    )
    ledger = client.app.state.ledger
    client.blocking_portal.call(
        functools.partial(
            workshops.schedule_sessions, ledger, SYSTEM, "tma", "tma-cmm-only", [session]
        )
    )
    await sign_in(client, world.m1)  # m-1 holds CMM and CMOM
    for activity_id in ("tma-today", "tma-cmm-only"):
        code = make_code(KEY, activity_id, "s-1", clock_of(world).now)
        assert (await post_form(client, "/managers/m-1", f"/check-in/{code}")).status_code == 303
    own = await client.get("/managers/m-1")
    assert 'data-workshop="tma-cmm-only"' in own.text

    for token, sees_cmm_only in ((world.cmm_auditor, True), (world.cmom_auditor, False)):
        client.cookies.clear()
        await sign_in(client, token)
        page = await client.get("/managers/m-1")
        assert page.status_code == 200
        assert 'data-workshop="tma-today"' in page.text
        assert ('data-workshop="tma-cmm-only"' in page.text) is sees_cmm_only


async def test_the_specs_kiosk_path_finds_the_session_s_workshop_or_names_the_workshops(world):
    """SPEC 11's `/providers/{id}/sessions/{session_id}/kiosk`: a session id is unique only
    within its workshop, so the path leads to the one workshop with it, names them when
    several have it, and is another provider's to open no more than the kiosk itself."""
    client = world.api.client
    await sign_in(client, world.tma)
    short = "/providers/tma/sessions/s-1/kiosk"

    found = await client.get(short, follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (303, KIOSK)
    assert (await client.get("/providers/tma/sessions/no-such/kiosk")).status_code == 404

    await world.api.activity(
        world.tma, "tma", "tma-again", ceus="3", starts_on="2026-06-15", ends_on="2026-06-15"
    )
    session = AgendaSession(
        session_id="s-1", title="Billing clinic, again",
        starts_at=datetime(2026, 6, 15, 16, tzinfo=UTC),
        ends_at=datetime(2026, 6, 15, 17, tzinfo=UTC), ceus=Decimal("1"), category="core",
    )  # fmt: skip
    client.blocking_portal.call(
        functools.partial(
            workshops.schedule_sessions, client.app.state.ledger, SYSTEM, "tma", "tma-again",
            [session],
        )
    )  # fmt: skip
    both = await client.get(short, follow_redirects=False)
    assert both.status_code == 409
    assert "/providers/tma/activities/tma-again" in both.text
    assert "/providers/tma/activities/tma-today" in both.text

    client.cookies.clear()
    await sign_in(client, world.mgma)
    assert (await client.get(short, follow_redirects=False)).status_code == 403
