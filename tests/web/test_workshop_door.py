"""Check-in at a workshop's door (SPEC 11), in Debian's Chromium: the provider opens the kiosk of
the demo workshop's session on now; a manager on a 390 px phone reads the link of its QR code,
signs in, checks in, and later checks out with a fresh code; a replayed code, an expired one,
one changed to name another session, a code of a session whose door is closed, and another
person's form are refused, each with a page saying why; the provider closes the workshop and the
manager's page shows the partial credit and the certificate's link.

The app runs on a clock the tests move (the demo is seeded on it), so a code expires and a
session ends without any sleep.  Screenshots go to tests/artifacts/door-*.png.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import msgspec
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from events.postgres.connection import create_pool
from ledger.access.tokens import TokenStore
from ledger.cli import SYSTEM
from ledger.demo import WORKSHOP, demo_ledger, seed_demo
from ledger.domain.workshops.door import door_key, make_code
from ledger.settings import Secret, Settings
from tests.builders import SteppingClock
from tests.conftest import fresh_database
from tests.pdf_text import pdf_text
from tests.web.conftest import ARTIFACTS, Site, Visitor, served

pytestmark = pytest.mark.timeout(300)

SECRET = "the door tests' session secret, 32 characters or more"
START = datetime(2026, 6, 17, 15, 0, tzinfo=UTC)
"""10:00 in Texas on the workshop's third day: the demo's closing panel runs 09:55 to 11:25."""
PHONE = 390
_axe = Axe()


@dataclass
class DoorSite(Site):
    clock: SteppingClock | None = None

    def at(self, later: timedelta) -> None:
        """Move the app's clock to START + `later` (never back)."""
        assert self.clock is not None
        self.clock.now = max(self.clock.now, START + later)


@pytest.fixture
async def door_site(admin_dsn: str, template_dsn: str) -> AsyncIterator[DoorSite]:
    """The demo ledger, seeded on the clock at START, served by uvicorn on that clock."""
    clock = SteppingClock(START)
    async with fresh_database(admin_dsn) as dsn:
        async with create_pool(dsn, min_size=1, max_size=2) as pool:
            identities = await seed_demo(
                demo_ledger(pool, clock), TokenStore(pool, clock=clock), SYSTEM
            )
        settings = Settings(poll_interval=0.05, pool_size=8, session_secret=Secret(SECRET))
        async with served(dsn, settings, clock) as (base_url, api):
            tokens = {subject: token for _, subject, token in identities}
            yield DoorSite(base_url, tokens, api, clock=clock)


async def person(browser: Browser, site: DoorSite, width: int) -> Visitor:
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return Visitor(page, site)


async def looked_at(page: Page, name: str) -> None:
    """No serious or critical axe violation, nothing wider than the screen, a screenshot."""
    results = await _axe.run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: {bad}"
    width = page.viewport_size["width"] if page.viewport_size else PHONE
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name} is cut off at {width}px ({scroll}px wide)"
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"door-{name}-{width}.png"), full_page=True)


KIOSK = f"/providers/tma/activities/{WORKSHOP}/sessions/d3-panel/kiosk"


async def kiosk_link(provider: Visitor) -> str:
    """The provider's kiosk, (re)loaded: the link its QR code holds, read from the page."""
    await provider.page.goto(provider.site.base_url + KIOSK)
    link = provider.page.locator("#check-in-link")
    href = await link.get_attribute("href")
    assert href is not None
    assert await link.inner_text() == href
    assert await provider.page.locator("img#check-in-qr").get_attribute("src") is not None
    return href


async def csrf_on(page: Page) -> str:
    token = await page.locator("input[name=_csrf_token]").first.get_attribute("value")
    assert token
    return token


async def test_replayed_expired_changed_closed_door_and_another_persons_codes_are_refused(
    door_site: DoorSite, browser: Browser
):
    door_site.at(timedelta(seconds=0))
    provider = await person(browser, door_site, 1280)
    kim = await person(browser, door_site, PHONE)
    lee = await person(browser, door_site, PHONE)
    await provider.login("tma")
    await kim.login("kim-grace")
    await lee.login("lee-core")
    link = await kiosk_link(provider)

    # Kim opens the link, and checks in.
    await kim.page.goto(link)
    kims_form = await csrf_on(kim.page)
    # Lee sends Kim's form (her CSRF token) with Lee's own cookie: refused before any code.
    sent = await lee.page.request.post(link, form={"_csrf_token": kims_form}, max_redirects=0)
    assert sent.status == 403
    await kim.page.click("#door-button")
    assert "You checked in at Closing panel" in await kim.page.inner_text("main")

    # The same code again: the page says it checked Kim in, and nothing more is recorded.
    replayed = await kim.page.goto(link)
    assert replayed is not None
    assert replayed.status == 409
    assert await kim.page.get_attribute("[data-reason]", "data-reason") == "used"
    assert "this code checked you in at 15:00 utc" in (await kim.page.inner_text("main")).lower()
    await looked_at(kim.page, "refused-used")
    # ... and Kim's own form, replayed as it was sent (her cookie, her token): refused too.
    again = await kim.page.request.post(link, form={"_csrf_token": kims_form}, max_redirects=0)
    assert again.status == 409

    # The code changed to name another session (its signature kept): not a code of this ledger.
    payload, signature = urlsplit(link).path.rsplit("/", 1)[1].split(".")
    padded = payload + "=" * (-len(payload) % 4)
    _, _, issued = msgspec.json.decode(base64.urlsafe_b64decode(padded))
    other = base64.urlsafe_b64encode(msgspec.json.encode([WORKSHOP, "d2-pm", issued]))
    changed = f"{door_site.base_url}/check-in/{other.rstrip(b'=').decode()}.{signature}"
    answer = await kim.page.goto(changed)
    assert answer is not None
    assert answer.status == 400
    assert await kim.page.get_attribute("[data-reason]", "data-reason") == "unreadable"
    await looked_at(kim.page, "refused-unreadable")

    # A genuine code of another session, yesterday's, whose door is closed now.
    key = door_key(hashlib.sha256(SECRET.encode()).digest())
    yesterday = make_code(key, WORKSHOP, "d2-pm", door_site.clock.now)  # type: ignore[union-attr]
    answer = await lee.page.goto(f"{door_site.base_url}/check-in/{yesterday}")
    assert answer is not None
    assert answer.status == 409
    assert (
        "the door of compliance walk-through is open on 16 june 2026 from 17:00 utc"
        in (await lee.page.inner_text("main")).lower()
    )
    await looked_at(lee.page, "refused-door-closed")

    # A minute later the code is useless, to anybody.
    door_site.at(timedelta(seconds=61))
    expired = await lee.page.goto(link)
    assert expired is not None
    assert expired.status == 410
    assert await lee.page.get_attribute("[data-reason]", "data-reason") == "expired"
    assert "good for one minute" in await lee.page.inner_text("main")
    await looked_at(lee.page, "refused-expired")

    # Only Kim's check-in was recorded; Lee's attendance at the panel is the demo's own.
    await provider.page.goto(f"{door_site.base_url}/providers/tma/activities/{WORKSHOP}")
    panel = provider.page.locator("[data-session=d3-panel]")
    assert await panel.locator("tr[data-manager]").evaluate_all(
        "rows => rows.map(r => r.dataset.manager)"
    ) == ["kim-grace", "lee-core"]
    for visitor in (provider, kim, lee):
        await visitor.page.context.close()


async def test_a_manager_checks_in_and_out_on_a_phone_and_the_close_posts_partial_credit(
    door_site: DoorSite, browser: Browser
):
    door_site.at(timedelta(minutes=2))  # 10:02 in Texas
    provider = await person(browser, door_site, 1280)
    sam = await person(browser, door_site, PHONE)
    await provider.login("tma")
    await provider.page.click(f"a[data-workshop={WORKSHOP}]")  # from the provider's page
    await provider.page.clock.install()
    await provider.page.click("a[data-kiosk=d3-panel]")
    assert urlsplit(provider.page.url).path == KIOSK
    await looked_at(provider.page, "kiosk")
    first = await provider.page.get_attribute("#check-in-link", "href")
    assert first is not None
    # 30 s later the kiosk's script has put a new code in place (the page is not reloaded).
    door_site.at(timedelta(minutes=2, seconds=30))
    await provider.page.clock.run_for(31_000)
    await expect(provider.page.locator("#check-in-link")).not_to_have_attribute("href", first)
    link = await provider.page.get_attribute("#check-in-link", "href")
    assert link is not None
    assert link != first
    assert "15:02 UTC" in await provider.page.inner_text("#made-at")
    assert link.startswith(f"{door_site.base_url}/check-in/")

    # Sam scans the code on a phone, not signed in: the sign-in page, then back to the door.
    await sam.page.goto(link)
    assert urlsplit(sam.page.url).path == "/login"
    await sam.page.fill("#token", door_site.tokens["sam-short"])
    await sam.page.click("button[type=submit]")
    await sam.page.wait_for_load_state()
    assert sam.page.url == link
    assert await sam.page.inner_text("#door-button") == "Check me in"
    await looked_at(sam.page, "check-in")
    await sam.page.click("#door-button")
    assert urlsplit(sam.page.url).path == "/managers/sam-short"
    assert "You checked in at Closing panel on 17 June 2026 at 15:02 UTC." in (
        await sam.page.inner_text("[role=status]")
    )
    await sam.page.locator("#workshops").scroll_into_view_if_needed()
    await looked_at(sam.page, "checked-in")

    # 82 minutes later the kiosk shows a fresh code; Sam scans it and checks out.
    door_site.at(timedelta(minutes=85))  # 11:25 in Texas, the panel's end
    later = await kiosk_link(provider)
    assert later != link
    await sam.page.goto(later)
    assert await sam.page.inner_text("#door-button") == "Check me out"
    assert await sam.page.inner_text("[data-field=checked_in_at]") == "10:02"
    await looked_at(sam.page, "check-out")
    await sam.page.click("#door-button")
    assert "You checked out of Closing panel on 17 June 2026 at 16:25 UTC." in (
        await sam.page.inner_text("[role=status]")
    )

    # The provider sees it: 82 minutes and a half of 90 (10:02:30 to 11:25), counted.
    await provider.page.goto(f"{door_site.base_url}/providers/tma/activities/{WORKSHOP}")
    row = provider.page.locator("[data-session=d3-panel] tr[data-manager=sam-short]")
    assert await row.locator("[data-field=present_minutes]").inner_text() == "82 of 90 min"
    assert "Counted" in await row.inner_text()

    # Before the close Sam's page says the credit is still to come.
    await sam.page.goto(f"{door_site.base_url}/managers/sam-short")
    week = sam.page.locator(f"[data-workshop={WORKSHOP}]")
    assert "In progress" in await week.inner_text()
    assert await week.locator("[data-certificate]").count() == 0

    # After the last session the provider closes the workshop.
    door_site.at(timedelta(minutes=90))
    await provider.page.goto(f"{door_site.base_url}/providers/tma/activities/{WORKSHOP}#close")
    await provider.page.check("#close-confirm")
    await provider.page.click("#close button[type=submit]")
    flash = await provider.page.inner_text("[role=status]")
    assert "Practice management week is closed: credit derived for 2 of 2 attendees." in flash
    await looked_at(provider.page, "closed")
    await provider.page.set_viewport_size({"width": PHONE, "height": 900})
    await looked_at(provider.page, "closed")  # the same page on a phone

    # Sam's page: partial credit (the second morning was missed), and the certificate's link.
    await sam.page.goto(f"{door_site.base_url}/managers/sam-short")
    week = sam.page.locator(f"[data-workshop={WORKSHOP}]")
    credit = await week.locator("[data-field=workshop_credit]").inner_text()
    assert credit.startswith("Partial credit: 6.00 of 7.50 CEUs (4.50 core, 1.50 general)")
    assert "No attendance recorded" in await week.locator("tr[data-session=d2-am]").inner_text()
    certificate = week.locator(f"a[data-certificate={WORKSHOP}]")
    assert await certificate.get_attribute("href") == (
        f"/managers/sam-short/activities/{WORKSHOP}/certificate.pdf"
    )
    await week.scroll_into_view_if_needed()
    await looked_at(sam.page, "manager-credit")

    # The link, followed with Sam's session: the certificate of attendance, its figures read
    # back from the PDF.
    pdf = await sam.page.request.get(door_site.base_url + await certificate.get_attribute("href"))
    assert pdf.ok
    assert pdf.headers["content-type"].startswith("application/pdf")
    printed = " ".join((await pdf_text(await pdf.body())).split())
    assert "Certificate of attendance" in printed
    assert "earning 6.00 CEUs" in printed
    assert "d2-am: Front-office flow" in printed

    # The numbers are the API's: the derived completions in Sam's transcript.
    transcript = await door_site.api_get("sam-short", "/v1/managers/sam-short/transcript")
    derived = sorted(
        (line["category"], Decimal(line["ceus"]))
        for line in transcript
        if line["activity_id"] == WORKSHOP
    )
    assert derived == [("core", Decimal("4.5")), ("general", Decimal("1.5"))]
    for visitor in (provider, sam):
        await visitor.page.context.close()
