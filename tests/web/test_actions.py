"""What people do on the pages, and the API seeing it afterwards; the guards (CSRF, scope,
revoked tokens) refusing what they must."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.web.conftest import Site, Visitor

pytestmark = pytest.mark.timeout(240)


async def test_a_ready_manager_files_the_renewal_and_the_api_sees_it(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("pat-ready")
    await visitor.page.click("text=File my CMM renewal")
    assert "renewal is filed" in await visitor.page.locator(".notice").inner_text()
    status = await site.api_get("pat-ready", "/v1/managers/pat-ready/status")
    assert status["certifications"][0]["renewal"]["state"] == "filed"
    assert await visitor.page.locator("text=File my CMM renewal").count() == 0


async def test_a_short_manager_sees_no_button_and_a_refusal_lists_the_shortfalls(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("sam-short")
    assert await visitor.page.locator("text=File my CMM renewal").count() == 0
    token = await visitor.page.locator("input[name=_csrf_token]").first.get_attribute("value")
    response = await visitor.page.request.post(
        site.base_url + "/managers/sam-short/renewals",
        form={"_csrf_token": token or "", "program": "CMM"},
    )
    assert response.status == 422
    text = await response.text()
    assert "11.00 CEUs still missing" in text
    assert "the $75.00 fee still missing" in text


async def test_a_roster_with_one_bad_line_gets_a_result_per_line(
    visitor: Visitor, site: Site, tmp_path: Path
) -> None:
    day = (datetime.now(UTC) - timedelta(days=30)).date()
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "external_id,manager_id,activity_id,completed_on,ceus\n"
        f"web-1,kim-grace,tma-hipaa,{day},1.5\n"
        f"web-2,lou-lapsed,tma-hipaa,{day},1.5\n"
        f"web-3,kim-grace,tma-hipaa,{day},9.5\n"
    )
    await visitor.login("tma")
    await visitor.page.set_input_files("#roster-roster", str(roster))
    await visitor.page.click("text=Upload the roster")
    heading = await visitor.page.locator("#roster-result").inner_text()
    assert heading == "Result: 2 created, 0 duplicate, 1 rejected"
    rows = visitor.page.locator(".table-wrap[aria-label='Roster result'] tbody tr")
    assert await rows.count() == 3
    assert "more than the activity's 1.5" in await rows.nth(2).inner_text()
    async with visitor.page.expect_download() as download:
        await visitor.page.click("text=Download this result (CSV)")
    saved = tmp_path / "result.csv"
    await (await download.value).save_as(saved)
    assert saved.read_text().splitlines()[3].startswith("4,web-3,rejected,")
    transcript = await site.api_get("demo", "/v1/managers/kim-grace/transcript")
    assert "web-1" in {line["external_id"] for line in transcript}
    assert "web-3" not in {line["external_id"] for line in transcript}


async def test_a_provider_voids_a_posting_and_the_api_sees_it(visitor: Visitor, site: Site) -> None:
    await visitor.login("tma")
    await visitor.page.goto(site.base_url + "/providers/tma?manager_id=lee-core")
    row = visitor.page.locator("#postings tbody tr").first
    await row.locator("summary").click()
    await row.locator("input[name=reason]").first.fill("Did not attend")
    await row.locator("input[name=confirm]").check()
    await row.locator("button", has_text="Void").click()
    assert "voided" in await visitor.page.locator(".notice").inner_text()
    transcript = await site.api_get("lee-core", "/v1/managers/lee-core/transcript")
    assert [line["state"] for line in transcript if line["provider_id"] == "tma"] == ["voided"]


async def test_an_activity_with_mistakes_names_each_beside_its_field(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("tma")
    await visitor.page.fill("#activity-title", "Billing basics")
    await visitor.page.fill("#activity-ceus", "1,5")
    await visitor.page.fill("#activity-starts_on", "31/01/2026")
    await visitor.page.click("text=Add the activity")
    summary = visitor.page.locator(".error-summary")
    assert await summary.locator("a[href='#activity-ceus']").count() == 1
    assert await summary.locator("a[href='#activity-starts_on']").count() == 1
    assert await summary.locator("a[href='#activity-activity_id']").count() == 1
    assert "dot for decimals" in await visitor.page.locator("#activity-ceus-error").inner_text()
    assert await visitor.page.input_value("#activity-title") == "Billing basics"
    assert await visitor.page.input_value("#activity-ceus") == "1,5"


async def test_an_association_approves_a_renewal_and_the_api_sees_it(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("PMI")
    await visitor.page.goto(site.base_url + "/programs/CMOM?state=filed")
    await visitor.page.locator("#register tbody a", has_text="ana-filed").click()
    await visitor.page.check("#decision")
    await visitor.page.fill("#reason", "Evidence checked")
    await visitor.page.click("text=Record the decision")
    assert "approved" in await visitor.page.locator(".notice").inner_text()
    register = await site.api_get("PMI", "/v1/programs/CMOM/renewals")
    assert {r["manager_id"]: r["state"] for r in register}["ana-filed"] == "approved"


async def test_a_denial_needs_a_reason(visitor: Visitor, site: Site) -> None:
    await visitor.login("PAHCOM")
    await visitor.page.goto(site.base_url + "/programs/CMM?state=filed")
    await visitor.page.locator("#register tbody a").first.click()  # pat-ready's, filed above
    await visitor.page.check("#decision-deny")
    await visitor.page.click("text=Record the decision")
    assert await visitor.page.locator(".error-summary a[href='#reason']").count() == 1


async def test_an_admin_revokes_a_token_and_it_stops_working_everywhere(
    browser_visitors: tuple[Visitor, Visitor], site: Site
) -> None:
    admin, manager = browser_visitors
    await admin.login("demo")
    await admin.page.select_option("#token-role", "manager")
    await admin.page.fill("#token-manager_id", "kim-grace")
    await admin.page.click("text=Create the token")
    secret = await admin.page.locator("#new-token").inner_text()
    assert secret.startswith("ceu_")
    site.tokens["kim-grace-new"] = secret
    await site.api_get("kim-grace-new", "/v1/managers/kim-grace/status")
    await manager.login("kim-grace-new")
    assert manager.page.url.endswith("/managers/kim-grace")

    await admin.page.goto(site.base_url + "/admin")
    row = admin.page.locator("#tokens li", has_text="Manager token for kim-grace").first
    await row.locator("a", has_text="Revoke").click()
    await admin.page.click("text=Yes, revoke this token")
    assert "revoked" in await admin.page.locator(".notice").inner_text()

    refused = await site.api.get(
        "/v1/managers/kim-grace/status", headers={"Authorization": f"Bearer {secret}"}
    )
    assert refused.status_code == 401
    await manager.page.reload()
    assert manager.page.url.endswith("/login")


async def test_a_form_posted_without_its_csrf_token_is_refused(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("lee-core")
    response = await visitor.page.request.post(site.base_url + "/logout", form={}, max_redirects=0)
    assert response.status == 403
    response = await visitor.page.request.post(
        site.base_url + "/providers/tma/activities", form={"title": "x"}, max_redirects=0
    )
    assert response.status == 403
    await visitor.page.goto(site.base_url + "/managers/lee-core")
    assert visitor.page.url.endswith("/managers/lee-core")  # still signed in


async def test_the_json_api_stays_bearer_only_without_csrf(site: Site) -> None:
    response = await site.api.post(
        "/v1/completions",
        json={
            "external_id": "api-1",
            "manager_id": "kim-grace",
            "activity_id": "tma-hipaa",
            "completed_on": str((datetime.now(UTC) - timedelta(days=3)).date()),
            "ceus": "1.5",
        },
        headers={"Authorization": f"Bearer {site.tokens['tma']}"},
    )
    assert response.status_code == 201, response.text
    cookie_only = await site.api.get("/v1/managers/kim-grace/status")
    assert cookie_only.status_code == 401
