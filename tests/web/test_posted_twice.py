"""A form posted twice, as people do it: a stale second tab, the same button pressed again.
The page says what had already happened (when, by whom) and nothing new is stored.  Also the
documents of an approved renewal followed from the pages (the certificate PDF, the signed
credential, the link to share) and the public verification page at 390 px.

Each test works on managers of its own (enrolled here through the API), so that the shared demo
ledger the other web tests read stays as they expect it."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Page

from ledger.domain.cycles import add_months
from tests.conftest import system_command
from tests.web.conftest import ARTIFACTS, Site, Visitor
from tests.web.test_pages import check_page

pytestmark = pytest.mark.timeout(300)


async def _post(site: Site, who: str, path: str, body: dict[str, Any]) -> Any:
    response = await site.api.post(
        path, json=body, headers={"Authorization": f"Bearer {site.tokens[who]}"}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


async def a_ready_manager(site: Site, manager_id: str, name: str) -> None:
    """A CMM manager with the CEUs and the fee (as the demo's pat-ready), and their token."""
    today = datetime.now(UTC).date()
    enrol = {"manager_id": manager_id, "name": name, "email": f"{manager_id}@example.org"}
    await _post(site, "demo", "/v1/managers", enrol)
    certified = add_months(today, -23)
    await _post(site, "PAHCOM", f"/v1/managers/{manager_id}/certifications",
                {"program": "CMM", "certified_on": str(certified)})  # fmt: skip
    for n, (activity, days) in enumerate((("tma-revenue-cycle", 200), ("tma-compliance", 30))):
        await _post(site, "tma", "/v1/completions", {
            "external_id": f"{manager_id}-{n}", "manager_id": manager_id,
            "activity_id": activity, "completed_on": str(today - timedelta(days=days)),
            "ceus": "12",
        })  # fmt: skip
    await _post(site, "PAHCOM", f"/v1/managers/{manager_id}/fees",
                {"program": "CMM", "amount_cents": 7500, "reference": "chq"})  # fmt: skip
    created = await _post(site, "demo", "/v1/tokens", {"role": "manager", "manager_id": manager_id})
    site.tokens[manager_id] = created["token"]


async def a_filed_renewal(site: Site, manager_id: str, name: str) -> str:
    await a_ready_manager(site, manager_id, name)
    filed = await _post(site, manager_id, f"/v1/managers/{manager_id}/renewals", {"program": "CMM"})
    return str(filed["renewal_id"])


async def renewals_of(site: Site, manager_id: str) -> list[dict[str, Any]]:
    register = await site.api_get("PAHCOM", "/v1/programs/CMM/renewals")
    return [r for r in register if r["manager_id"] == manager_id]


async def second_tab(visitor: Visitor, url: str) -> Page:
    """Another tab of the same browser (the same session), opened on `url`."""
    tab = await visitor.page.context.new_page()
    tab.set_default_timeout(15_000)
    await tab.goto(url)
    return tab


def said_on(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


async def test_a_stale_second_tab_denying_an_approved_renewal_is_told_who_approved_it_and_when(
    visitor: Visitor, site: Site
) -> None:
    renewal_id = await a_filed_renewal(site, "tw-tess", "Tess Twotabs")
    url = f"{site.base_url}/programs/CMM/renewals/{renewal_id}"
    await visitor.login("PAHCOM")
    await visitor.page.goto(url)
    stale, unticked = await second_tab(visitor, url), await second_tab(visitor, url)
    assert "Tess Twotabs" in await visitor.page.locator("h1").inner_text()  # a name, not an id

    await visitor.page.check("#decision")
    await visitor.page.fill("#reason", "Evidence checked")
    await visitor.page.click("text=Record the decision")
    assert "Renewal approved." in await visitor.page.locator(".notice").inner_text()

    await stale.check("#decision-deny")
    await stale.fill("#reason", "No certificate")
    await stale.check("#confirm")
    await stale.click("text=Record the decision")
    today = datetime.now(UTC).date()
    assert await stale.locator(".notice").inner_text() == (
        f"Nothing was recorded: this renewal was already approved on {said_on(today)} by PAHCOM."
    )
    [row] = await renewals_of(site, "tw-tess")
    assert (row["state"], row["reason"]) == ("approved", "Evidence checked")

    # A third stale tab, without ticking "I confirm": the same answer, not a complaint about
    # a box on a form that is no longer there.
    await unticked.check("#decision-deny")
    await unticked.fill("#reason", "No certificate")
    await unticked.click("text=Record the decision")
    assert "already approved" in await unticked.locator(".notice").inner_text()
    [row] = await renewals_of(site, "tw-tess")
    assert row["state"] == "approved"


async def test_a_denial_is_recorded_only_once_i_confirm_is_ticked(
    visitor: Visitor, site: Site
) -> None:
    renewal_id = await a_filed_renewal(site, "tw-dora", "Dora Denied")
    await visitor.login("PAHCOM")
    await visitor.page.goto(f"{site.base_url}/programs/CMM/renewals/{renewal_id}")
    await visitor.page.check("#decision-deny")
    await visitor.page.fill("#reason", "No certificate of attendance")
    await visitor.page.click("text=Record the decision")
    link = visitor.page.locator(".error-summary a[href='#confirm']")
    assert "Tick the box" in await link.inner_text()
    await link.click()  # the summary takes you to the box
    assert await visitor.page.evaluate("document.activeElement.id") == "confirm"
    assert await visitor.page.input_value("#reason") == "No certificate of attendance"
    assert await visitor.page.is_checked("#decision-deny")
    [row] = await renewals_of(site, "tw-dora")
    assert row["state"] == "filed"  # nothing stored

    await visitor.page.check("#confirm")
    await visitor.page.click("text=Record the decision")
    assert "Renewal denied." in await visitor.page.locator(".notice").inner_text()
    [row] = await renewals_of(site, "tw-dora")
    assert (row["state"], row["reason"]) == ("denied", "No certificate of attendance")


async def test_filing_a_renewal_again_from_a_stale_tab_says_it_was_already_filed(
    visitor: Visitor, site: Site
) -> None:
    await a_ready_manager(site, "tw-finn", "Finn Filer")
    await visitor.login("tw-finn")
    stale = await second_tab(visitor, f"{site.base_url}/managers/tw-finn")
    await visitor.page.click("text=File my CMM renewal")
    assert "renewal is filed" in await visitor.page.locator(".notice").inner_text()

    await stale.click("text=File my CMM renewal")
    today = datetime.now(UTC).date()
    assert await stale.locator(".notice").inner_text() == (
        f"Nothing new was filed: your CMM renewal was already filed on {said_on(today)}."
    )
    assert len(await renewals_of(site, "tw-finn")) == 1


async def test_a_revocation_posted_twice_says_when_and_by_whom_it_was_revoked(
    visitor: Visitor, site: Site
) -> None:
    await a_ready_manager(site, "tw-rex", "Rex Revoked")
    url = f"{site.base_url}/programs/CMM#standing"
    await visitor.login("PAHCOM")
    await visitor.page.goto(url)
    stale = await second_tab(visitor, url)
    for tab, reason in ((visitor.page, "Forged attendance"), (stale, "Typed again")):
        await tab.select_option("#standing-action", "revoke")
        await tab.fill("#standing-manager_id", "tw-rex")
        await tab.fill("#standing-reason", reason)
        await tab.check("#standing-confirm")
        await tab.click("text=Record it")
    assert "revoked" in await visitor.page.locator(".notice").inner_text()
    today = datetime.now(UTC).date()
    assert await stale.locator(".notice").inner_text() == (
        f"Nothing was recorded: the CMM certification of Rex Revoked was already revoked on "
        f"{said_on(today)} by PAHCOM."
    )
    await visitor.page.goto(f"{site.base_url}/managers/tw-rex")
    shown = await visitor.page.locator("[data-field=revoked]").inner_text()
    assert shown.endswith("Forged attendance")  # the first, not the second


async def test_the_register_and_the_audit_show_names_and_its_errors_lead_to_the_field(
    visitor: Visitor, site: Site
) -> None:
    renewal_id = await a_filed_renewal(site, "tw-nora", "Nora Named")
    await visitor.login("PAHCOM")
    cell = visitor.page.locator("#register td[data-manager=tw-nora]")
    assert (await cell.locator("a").inner_text()).startswith("Nora Named")

    day = datetime.now(UTC).date()
    await visitor.page.fill("#audit-filed_from", str(day))
    await visitor.page.fill("#audit-filed_to", str(day))
    await visitor.page.fill("#audit-rate", "100")
    await visitor.page.click("text=Draw the audit")
    audit_url = visitor.page.url
    card = visitor.page.locator(f"li[data-renewal='{renewal_id}']")
    assert "Nora Named" in await card.locator("h3").inner_text()
    await card.locator(f"#failed-{renewal_id}").check()
    await card.locator("button", has_text="Record the finding").click()  # "I confirm" unticked
    link = visitor.page.locator(".error-summary a", has_text="Tick the box")
    assert await link.get_attribute("href") == f"#confirm-{renewal_id}"
    await link.click()
    assert await visitor.page.evaluate("document.activeElement.id") == f"confirm-{renewal_id}"
    assert await visitor.page.locator(f"#confirm-{renewal_id}-error").count() == 1
    await visitor.page.goto(audit_url)
    await card.locator("button", has_text="Record the finding").click()  # no outcome chosen
    link = visitor.page.locator(".error-summary a").first
    assert await link.get_attribute("href") == f"#passed-{renewal_id}"
    [row] = await renewals_of(site, "tw-nora")
    assert row["audit_outcome"] is None  # nothing stored
    await check_page(visitor, "audit-errors")


async def test_the_documents_of_an_approved_renewal_open_from_the_managers_page(
    visitor: Visitor, site: Site
) -> None:
    renewal_id = await a_filed_renewal(site, "tw-vera", "Vera Verified")
    await _post(site, "PAHCOM", f"/v1/renewals/{renewal_id}/decision",
                {"decision": "approve", "reason": "ok"})  # fmt: skip
    await visitor.login("tw-vera")
    documents = visitor.page.locator("#documents")

    href = await documents.locator("a", has_text="Certificate (PDF)").get_attribute("href")
    pdf = await visitor.page.request.get(site.base_url + (href or ""))
    assert pdf.status == 200
    assert pdf.headers["content-type"].startswith("application/pdf")
    body = await pdf.body()
    assert body.startswith(b"%PDF-")
    pdftotext = system_command("pdftotext", "poppler-utils")
    text = (await asyncio.to_thread(
        subprocess.run, [pdftotext, "-", "-"], input=body, capture_output=True, check=True,
        timeout=60,
    )).stdout.decode()  # fmt: skip
    assert "Vera Verified" in text

    href = await documents.locator("a", has_text="Signed credential").get_attribute("href")
    jwt = await visitor.page.request.get(site.base_url + (href or ""))
    assert jwt.status == 200
    assert len((await jwt.text()).split(".")) == 3  # header.payload.signature
    as_json = await visitor.page.request.get(site.base_url + (href or "") + "?format=json")
    credential = await as_json.json()
    identity = credential["credentialSubject"]["identifier"][0]
    assert identity["hashed"] is True  # the holder is named by a salted hash (OB 3.0), never
    assert identity["identityHash"].startswith("sha256$")  # in the clear: not "Vera Verified"
    assert "Vera Verified" not in await as_json.text()

    await documents.locator("a.share").click()
    await visitor.page.wait_for_load_state()
    assert "/verify/" in visitor.page.url
    verdict = visitor.page.locator("[data-verdict]")
    assert await verdict.get_attribute("data-verdict") == "valid"
    assert await visitor.page.locator("[data-field=holder_name]").inner_text() == "Vera Verified"
    await check_page(visitor, "verify-valid")

    # Revoked, then reinstated: one verdict each time (the credential stays revoked).
    share = visitor.page.url
    for action, shown in (("revoke", "revoked"), ("reinstate", "reinstated")):
        why = {"reason": "Forged attendance" if action == "revoke" else "Appeal upheld"}
        await _post(site, "PAHCOM", f"/v1/managers/tw-vera/certifications/CMM/{action}", why)
        await visitor.page.goto(share)
        assert await verdict.get_attribute("data-verdict") == "revoked"
        lead = await visitor.page.locator("[data-field=verdict]").inner_text()
        assert ("reinstated later" in lead) == (shown == "reinstated"), lead
        await check_page(visitor, f"verify-{shown}")
    assert (ARTIFACTS / "verify-reinstated-390.png").exists()
