"""Approvals on the pages (SPEC 12), in Chromium on the demo ledger: a provider applies and
reads its approvals on its page; an association's auditor approves and denies on
/programs/{code}/approvals; the renewal's frozen evidence and the audit show each counted
completion's source.  Each page is checked as every page is (axe-core, 1280 px and a 390 px
phone, nothing from another host) with screenshots in tests/artifacts/approvals-*.png; and
the API agrees with what the pages did."""

from __future__ import annotations

import pytest

from tests.web.conftest import ARTIFACTS, Site, Visitor
from tests.web.test_pages import check_page

pytestmark = pytest.mark.timeout(240)


async def test_a_provider_reads_its_approvals_and_applies_to_another_program(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("tma")
    section = visitor.page.locator("#approvals")
    cmm = section.locator("tr[data-program=CMM]")
    assert await cmm.get_attribute("data-state") == "approved"
    assert "(valid today)" in await cmm.inner_text()
    compliance = section.locator("tr[data-activity=tma-compliance]")
    assert "CMM-IDX-0412" in await compliance.inner_text()
    leadership = section.locator("tr[data-activity=tma-leadership]")
    assert await leadership.get_attribute("data-state") in ("pending", "denied")
    await check_page(visitor, "approvals-provider-tma")

    await visitor.page.set_viewport_size({"width": 390, "height": 900})  # the forms on a phone
    await visitor.page.select_option("#apply-program", "CMOM")
    apply = visitor.page.get_by_role("button", name="Apply", exact=True)
    await apply.click()  # no address: the form comes back, the choice kept
    assert await visitor.page.locator("#apply-error-summary-title").count() == 1
    assert await visitor.page.locator("#apply-program").input_value() == "CMOM"
    await visitor.page.screenshot(
        path=str(ARTIFACTS / "approvals-provider-apply-error-390.png"), full_page=True
    )
    await visitor.page.fill("#apply-contact_email", "ce@texmed.example")
    await apply.click()

    assert "application to CMOM is sent" in await visitor.page.locator(".notice").inner_text()
    own = await site.api_get("tma", "/v1/providers/tma/approvals")
    assert ("CMOM", "pending") in {(p["program"], p["state"]) for p in own["providers"]}


async def test_an_auditor_approves_a_provider_and_the_api_agrees(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("PMI")
    await visitor.page.goto(site.base_url + "/programs/CMOM")
    await visitor.page.click("text=Approvals of providers and activities")
    assert visitor.page.url == f"{site.base_url}/programs/CMOM/approvals"
    card = visitor.page.locator("li[data-provider=pmi-online]")
    assert "learning@pmi-online.example" in await card.inner_text()
    await check_page(visitor, "approvals-program-CMOM")

    await visitor.page.set_viewport_size({"width": 1280, "height": 900})
    await card.locator("input[name=approval_number]").fill("PMI-2026-3")
    await card.locator("input[name=valid_until]").fill("12/31/2030")  # not a date: said so
    await card.locator("button", has_text="Approve").click()
    summary = visitor.page.locator(".error-summary")
    assert "YYYY-MM-DD" in await summary.inner_text()
    card = visitor.page.locator("li[data-provider=pmi-online]")
    assert await card.locator("input[name=approval_number]").input_value() == "PMI-2026-3"
    await card.locator("input[name=valid_until]").fill("2030-12-31")
    await card.locator("button", has_text="Approve").click()

    assert "is approved (PMI-2026-3)" in await visitor.page.locator(".notice").inner_text()
    decided = visitor.page.locator("#decided tr[data-provider=pmi-online]")
    assert await decided.get_attribute("data-state") == "approved"
    listed = await site.api_get("PMI", "/v1/programs/CMOM/provider-approvals", state="approved")
    [approved] = [p for p in listed if p["provider_id"] == "pmi-online"]
    assert (approved["approval_number"], approved["valid_until"]) == ("PMI-2026-3", "2030-12-31")
    await visitor.page.screenshot(
        path=str(ARTIFACTS / "approvals-program-CMOM-decided-1280.png"), full_page=True
    )


async def test_an_auditor_denies_an_activity_only_once_confirmed(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("PAHCOM")
    await visitor.page.goto(site.base_url + "/programs/CMM/approvals")
    card = visitor.page.locator("li[data-activity=tma-leadership]")
    await check_page(visitor, "approvals-program-CMM")

    await visitor.page.set_viewport_size({"width": 1280, "height": 900})
    await card.locator("summary", has_text="Deny").click()
    await card.locator("input[name=reason]").fill("Not practice management")
    await card.locator("button", has_text="Deny").click()  # the box not ticked
    assert "Tick the box" in await visitor.page.locator(".error-summary").inner_text()
    await visitor.page.screenshot(
        path=str(ARTIFACTS / "approvals-program-CMM-confirm-1280.png"), full_page=True
    )
    card = visitor.page.locator("li[data-activity=tma-leadership]")
    assert await card.locator("input[name=reason]").input_value() == "Not practice management"
    await card.locator("input[name=confirm]").check()
    await card.locator("button", has_text="Deny").click()

    assert "tma-leadership is denied" in await visitor.page.locator(".notice").inner_text()
    denied = await site.api_get("PAHCOM", "/v1/programs/CMM/activity-approvals", state="denied")
    assert [(a["activity_id"], a["reason"]) for a in denied] == [
        ("tma-leadership", "Not practice management")
    ]


async def test_the_frozen_evidence_and_the_audit_show_each_completion_s_source(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("PAHCOM")
    register = await site.api_get("PAHCOM", "/v1/programs/CMM/renewals")
    ben = next(r for r in register if r["manager_id"] == "ben-approved")
    assert (ben["approved_ceus"], ben["provider_ceus"]) == ("12.00", "12.00")
    row = visitor.page.locator("#register td[data-manager=ben-approved]").locator("xpath=..")
    assert "12.00 from approved activities, 12.00 from providers, not approved" in (
        await row.inner_text()
    )

    await visitor.page.goto(f"{site.base_url}/programs/CMM/renewals/{ben['renewal_id']}")
    sources = visitor.page.locator("td[data-source]")
    assert sorted([await s.get_attribute("data-source") for s in await sources.all()]) == [
        "approved",
        "provider",
    ]
    assert await visitor.page.locator("td[data-source=approved]").inner_text() == (
        "Approved activity"
    )
    await check_page(visitor, "approvals-renewal-sources")

    await visitor.page.goto(site.base_url + "/programs/CMM")
    await visitor.page.locator("#audits li", has_text="2 findings").locator("a").first.click()
    counted = visitor.page.locator("li[data-renewal] [data-sources]")
    assert await counted.count() == 2
    assert "12.00 from approved activities" in await counted.first.inner_text()
    await check_page(visitor, "approvals-audit-sources")
