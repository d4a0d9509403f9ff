"""Every page, for the person it is for: the API's numbers, axe-core, a 390 px phone, no
request to another host, and a screenshot of each at 1280 px and 390 px."""

from __future__ import annotations

from decimal import Decimal

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.web.conftest import ARTIFACTS, Site, Visitor

pytestmark = pytest.mark.timeout(240)

_axe = Axe()
WIDTHS = (1280, 390)


async def check_page(visitor: Visitor, name: str, *, axe: bool = True) -> None:
    """At each width: no serious or critical axe violation, no horizontal scrolling, a
    screenshot; and no request ever left 127.0.0.1."""
    page = visitor.page
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        await page.reload()
        await page.wait_for_load_state("networkidle")
        if axe:
            results = await _axe.run(page)
            bad = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert bad == [], f"{name} at {width}px: {bad}"
        scroll = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name} scrolls sideways at {width}px ({scroll}px wide)"
        await page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    assert visitor.outside_requests() == [], f"{name} reached outside: {visitor.outside_requests()}"


async def test_the_login_page(visitor: Visitor, site: Site) -> None:
    await visitor.page.goto(site.base_url + "/")
    assert visitor.page.url == site.base_url + "/login"
    assert await visitor.page.locator("input[name=token]").count() == 1
    await check_page(visitor, "login")


async def test_a_wrong_token_is_named_beside_the_field(visitor: Visitor, site: Site) -> None:
    await visitor.page.goto(site.base_url + "/login")
    await visitor.page.fill("#token", "ceu_not-a-token")
    await visitor.page.click("button[type=submit]")
    assert await visitor.page.locator(".error-summary a[href='#token']").inner_text() == (
        "That token is not valid"
    )
    assert await visitor.page.locator("#token-error").is_visible()


@pytest.mark.parametrize(
    "manager_id", ["pat-ready", "sam-short", "lee-core", "kim-grace", "ben-approved"]
)
async def test_a_manager_sees_the_numbers_the_api_gives(
    visitor: Visitor, site: Site, manager_id: str
) -> None:
    await visitor.login(manager_id)
    assert visitor.page.url == f"{site.base_url}/managers/{manager_id}"
    api = await site.api_get(manager_id, f"/v1/managers/{manager_id}/status")
    assert api["certifications"]
    for cert in api["certifications"]:
        card = visitor.page.locator(f"section[data-program={cert['program']}]")
        for name in ("ceus_earned", "ceus_required", "ceus_remaining"):
            shown = await card.locator(f"[data-field={name}]").inner_text()
            assert Decimal(shown) == Decimal(str(cert[name])), (manager_id, name)
        days = await card.locator("[data-field=days_to_deadline]").get_attribute("data-value")
        assert int(days or "") == cert["days_to_deadline"]
        assert cert["status"].capitalize() in await card.locator("h2").inner_text()
    await check_page(visitor, f"manager-{manager_id}")


async def test_the_transcript_shows_voided_and_amended_postings(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("sam-short")
    table = visitor.page.locator("table").first
    assert await table.locator(".badge-voided").count() == 1
    assert await table.locator(".badge-amended").count() >= 1
    async with visitor.page.expect_download() as download:
        await visitor.page.click("text=Download the transcript (CSV)")
    assert (await download.value).suggested_filename == "transcript-sam-short.csv"


async def test_the_provider_page(visitor: Visitor, site: Site) -> None:
    await visitor.login("tma")
    assert visitor.page.url == f"{site.base_url}/providers/tma"
    assert await visitor.page.locator("#activities tbody tr").count() == 5  # a workshop too
    assert await visitor.page.locator("#postings tbody tr").count() > 10
    await check_page(visitor, "provider-tma")


@pytest.mark.parametrize(("who", "code"), [("PAHCOM", "CMM"), ("PMI", "CMOM")])
async def test_an_association_sees_the_register_the_api_gives(
    visitor: Visitor, site: Site, who: str, code: str
) -> None:
    await visitor.login(who)
    assert visitor.page.url == f"{site.base_url}/programs/{code}"
    register = await site.api_get(who, f"/v1/programs/{code}/renewals")
    due = await site.api_get(who, f"/v1/programs/{code}/due")
    counts = visitor.page.locator("#register-counts")
    assert int(await counts.get_attribute("data-total") or "") == len(register)
    for state in ("filed", "approved", "denied"):
        shown = int(await counts.get_attribute(f"data-{state}") or "")
        assert shown == sum(r["state"] == state for r in register), state
    count = await visitor.page.locator("#due-count").get_attribute("data-count")
    assert int(count or "") == len(due)
    verify = await site.api_get(who, "/v1/ledger/verify")
    head = int(await visitor.page.locator("[data-field=head_position]").inner_text())
    assert head <= verify["head_position"]
    await check_page(visitor, f"program-{code}")


async def test_a_renewal_and_an_audit_page(visitor: Visitor, site: Site) -> None:
    await visitor.login("PAHCOM")
    await visitor.page.locator("#register tbody a").first.click()
    assert "/renewals/" in visitor.page.url
    assert await visitor.page.locator("h2", has_text="Frozen evidence").count() == 1
    await check_page(visitor, "renewal-CMM")
    await visitor.page.goto(site.base_url + "/programs/CMM")
    # The demo's audit, with its two findings (other tests draw audits of their own).
    await visitor.page.locator("#audits li", has_text="2 findings").locator("a").first.click()
    assert "/audits/" in visitor.page.url
    assert await visitor.page.locator(".badge-failed").count() == 1
    assert await visitor.page.locator(".badge-passed").count() == 1
    await check_page(visitor, "audit-CMM")


async def test_the_admin_page(visitor: Visitor, site: Site) -> None:
    await visitor.login("demo")
    assert visitor.page.url == f"{site.base_url}/admin"
    programs = await site.api_get("demo", "/v1/programs")
    for program in programs:
        heading = visitor.page.locator("#programs h3", has_text=program["code"])
        assert await heading.count() == 1
    await check_page(visitor, "admin")


async def test_a_manager_cannot_open_another_managers_page(visitor: Visitor, site: Site) -> None:
    await visitor.login("sam-short")
    response = await visitor.page.goto(site.base_url + "/managers/pat-ready")
    assert response is not None
    assert response.status == 403
    assert await visitor.page.locator("h1").inner_text() == "You cannot see this page"
    assert "Pat" not in await visitor.page.content()
    await check_page(visitor, "forbidden")


async def test_the_openapi_ui_loads_everything_from_the_app(visitor: Visitor, site: Site) -> None:
    for path in ("/schema", "/schema/swagger"):
        await visitor.page.goto(site.base_url + path)
        await visitor.page.wait_for_selector(".opblock-summary", timeout=20_000)
    assert await visitor.page.locator(".opblock-summary").count() > 20
    await check_page(visitor, "swagger", axe=False)
