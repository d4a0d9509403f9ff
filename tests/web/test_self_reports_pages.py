"""Self-reports in the browser (SPEC 9, 12): a manager reports credit with a photo of the
certificate from a 390 px phone, and is told beside the field when the file is not one; the
association's review queue shows each file beside its report (an image for a PNG, a link for
a PDF) and accepts or rejects it, the API then saying the same.  Screenshots in tests/artifacts/.

Each test enrols managers of its own (CMM since 400 days ago), so that the demo's managers keep
their numbers for the other browser tests."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.web.conftest import ARTIFACTS, Site, Visitor
from tests.web.test_pages import _axe, check_page

pytestmark = pytest.mark.timeout(300)

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def certificate_png(name: str) -> bytes:
    """A photo of a certificate, as a phone would send it (a real PNG a browser shows)."""
    image = Image.new("RGB", (600, 400), "#fdfaf0")
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 12, 588, 388), outline="#0b3d91", width=6)
    draw.text((60, 90), "CERTIFICATE OF COMPLETION", fill="#0b3d91")
    draw.text((60, 160), f"awarded to {name}", fill="#222222")
    draw.text((60, 210), "Coding update webinar - 2 CEUs", fill="#222222")
    draw.text((60, 300), "Regional HIM Society", fill="#555555")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _days_ago(n: int) -> str:
    return str((datetime.now(UTC) - timedelta(days=n)).date())


async def enrol(site: Site, manager_id: str, name: str) -> str:
    """A new CMM manager (certified 400 days ago) and their token."""
    admin = {"Authorization": f"Bearer {site.tokens['demo']}"}
    certification = {"program": "CMM", "certified_on": _days_ago(400)}
    for path, body in (
        ("/v1/managers", {"manager_id": manager_id, "name": name, "email": f"{manager_id}@ex.org"}),
        (f"/v1/managers/{manager_id}/certifications", certification),
        ("/v1/tokens", {"role": "manager", "manager_id": manager_id}),
    ):
        response = await site.api.post(path, json=body, headers=admin)
        assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    site.tokens[manager_id] = token
    return token


async def report(site: Site, manager_id: str, file: tuple[str, bytes], **changes: str) -> Any:
    fields = {
        "title": "Coding update webinar", "provider_name": "Regional HIM Society",
        "completed_on": _days_ago(10), "ceus": "2", "category": "general", "programs": "CMM",
    } | changes  # fmt: skip
    response = await site.api.post(
        f"/v1/managers/{manager_id}/self-reports", data=fields,
        files={"file": (file[0], file[1], "application/octet-stream")},
        headers={"Authorization": f"Bearer {site.tokens[manager_id]}"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


async def _no_serious_violations(visitor: Visitor, name: str) -> None:
    results = await _axe.run(visitor.page)
    bad = [
        (v["id"], v["impact"]) for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]  # fmt: skip
    assert bad == [], f"{name}: {bad}"


async def test_a_manager_reports_credit_with_a_photo_from_a_390_px_phone(
    visitor: Visitor, site: Site
) -> None:
    await enrol(site, "web-riley", "Riley Phone")
    page = visitor.page
    await page.set_viewport_size({"width": 390, "height": 844})
    await visitor.login("web-riley")
    await page.locator("#self-reports summary").click()
    await page.fill("#report-title", "Coding update webinar")
    await page.fill("#report-provider_name", "Regional HIM Society")
    await page.fill("#report-completed_on", _days_ago(10))
    await page.fill("#report-ceus", "2")
    await page.select_option("#report-category", "general")
    assert await page.is_checked("#report-program-CMM")  # the one credential held
    await page.set_input_files(
        "#report-file", files=[{"name": "certificate.png", "mimeType": "image/png", "buffer": EXE}]
    )
    await page.locator("form.self-report button[type=submit]").click()
    await page.wait_for_load_state()

    error = await page.locator("#report-file-error").inner_text()
    assert "a Windows program (EXE)" in error
    assert await page.input_value("#report-title") == "Coding update webinar"  # kept
    assert await page.locator(".error-summary a[href='#report-file']").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "self-report-refused-390.png"), full_page=True)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await _no_serious_violations(visitor, "the refused report at 390 px")
    assert await site.api_get("web-riley", "/v1/managers/web-riley/self-reports") == []

    await page.set_input_files(
        "#report-file",
        files=[{"name": "certificate.png", "mimeType": "image/png",
                "buffer": certificate_png("Riley Phone")}],
    )  # fmt: skip
    await page.locator("form.self-report button[type=submit]").click()
    await page.wait_for_load_state()

    assert "Coding update webinar is sent" in await page.locator(".notice").inner_text()
    [sent] = await site.api_get("web-riley", "/v1/managers/web-riley/self-reports")
    assert (sent["state"], sent["evidence"]["media_type"]) == ("pending", "image/png")
    card = page.locator(f"[data-report='{sent['report_id']}']")
    assert "Pending" in await card.inner_text()
    await page.locator("#self-reports-title").scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "self-report-sent-390.png"), full_page=True)
    await check_page(visitor, "manager-self-reports")


async def test_an_auditor_reviews_the_queue_with_each_file_beside_its_report(
    visitor: Visitor, site: Site
) -> None:
    await enrol(site, "web-quinn", "Quinn Queue")
    await enrol(site, "web-pdf", "Pat Document")
    photo = await report(
        site, "web-quinn", ("IMG_2041.png", certificate_png("Quinn Queue")), ceus="2"
    )
    document = await report(
        site, "web-pdf", ("certificate.pdf", PDF), title="Leadership seminar", ceus="3"
    )
    earned = (await site.api_get("PAHCOM", "/v1/managers/web-quinn/status"))["certifications"][0]
    page = visitor.page
    await visitor.login("PAHCOM")  # the association's page links to its queue
    await page.locator(".self-reports-link a").click()
    await page.wait_for_load_state()
    assert page.url == site.base_url + "/programs/CMM/self-reports"

    shown = page.locator(f"[data-report='{photo['report_id']}'] img")
    assert await shown.evaluate("img => img.complete && img.naturalWidth") == 600  # loaded
    pdf = page.locator(f"[data-report='{document['report_id']}'] .pdf a")
    assert await pdf.get_attribute("href") == f"/self-reports/{document['report_id']}/evidence"
    await check_page(visitor, "self-reports-queue")

    quinn = page.locator(f"[data-report='{photo['report_id']}']")
    await quinn.locator("input[name=ceus]").fill("2.5")
    await quinn.locator("button", has_text="Accept").click()
    await page.wait_for_load_state()
    rid = photo["report_id"]
    assert "at most the 2 CEUs reported" in await page.locator(f"#ceus-{rid}-error").inner_text()
    assert await page.input_value(f"#ceus-{rid}") == "2.5"
    await page.screenshot(path=str(ARTIFACTS / "self-reports-queue-refused-390.png"))
    await page.locator(f"#ceus-{rid}").fill("1.5")
    await page.locator(f"[data-report='{rid}'] button", has_text="Accept").click()
    await page.wait_for_load_state()
    assert "Accepted: 1.5 CEUs now count" in await page.locator(".notice").inner_text()

    other = page.locator(f"[data-report='{document['report_id']}']")
    await other.locator("summary").click()
    await other.locator("input[name=reason]").fill("The certificate names another person")
    await other.locator("button", has_text="Reject").click()
    await page.wait_for_load_state()
    did = document["report_id"]
    assert await page.locator(f"#confirm-{did}-error").count() == 1  # asks to confirm first
    await page.locator(f"#confirm-{did}").check()
    await page.locator(f"[data-report='{did}'] button", has_text="Reject").click()
    await page.wait_for_load_state()
    assert "Rejected" in await page.locator(".notice").inner_text()
    for decided in (rid, did):  # in the list of decided reports, with no form any more
        assert await page.locator(f".decided [data-report='{decided}']").count() == 1
        assert await page.locator(f"[data-report='{decided}'] form").count() == 0

    after = (await site.api_get("PAHCOM", "/v1/managers/web-quinn/status"))["certifications"][0]
    assert float(after["ceus_earned"]) == float(earned["ceus_earned"]) + 1.5
    [rejected] = await site.api_get("web-pdf", "/v1/managers/web-pdf/self-reports")
    assert (rejected["state"], rejected["reason"]) == (
        "rejected", "The certificate names another person",
    )  # fmt: skip
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.screenshot(
        path=str(ARTIFACTS / "self-reports-queue-decided-1280.png"), full_page=True
    )


async def _post(site: Site, who: str, path: str, body: dict[str, Any]) -> Any:
    response = await site.api.post(
        path, json=body, headers={"Authorization": f"Bearer {site.tokens[who]}"}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_the_audit_page_shows_a_self_reports_file_and_a_failed_finding_revokes(
    visitor: Visitor, site: Site
) -> None:
    await enrol(site, "web-audrey", "Audrey Audit")
    sent = await report(
        site, "web-audrey", ("certificate.png", certificate_png("Audrey Audit")), ceus="24",
        title="Annual practice management conference",
    )  # fmt: skip
    rid = sent["report_id"]
    await _post(
        site, "PAHCOM", f"/v1/self-reports/{rid}/accept", {"ceus": "24", "category": "general"}
    )
    fee = {"program": "CMM", "amount_cents": 7500, "reference": "chq 77"}
    await _post(site, "demo", "/v1/managers/web-audrey/fees", fee)
    filed = await _post(site, "web-audrey", "/v1/managers/web-audrey/renewals", {"program": "CMM"})
    today = str(datetime.now(UTC).date())
    window = {"filed_from": today, "filed_to": today, "rate": "1", "seed": 7}
    drawn = await _post(site, "PAHCOM", "/v1/programs/CMM/audits", window)
    page = visitor.page
    await visitor.login("PAHCOM")

    await page.goto(f"{site.base_url}/programs/CMM/audits/{drawn['audit_id']}")
    mine = page.locator(f"[data-renewal='{filed['renewal_id']}']")
    await mine.locator("details.counted summary").click()
    counted = await mine.locator(f"[data-completion='{rid}']").inner_text()
    assert "Reported by the manager, given by Regional HIM Society" in counted
    link = mine.locator(f"[data-completion='{rid}'] a")
    assert await link.get_attribute("href") == f"/self-reports/{rid}/evidence"
    file = await page.request.get(site.base_url + f"/self-reports/{rid}/evidence")
    assert (file.status, file.headers["content-type"]) == (200, "image/png")
    assert file.headers["content-disposition"] == 'attachment; filename="certificate.png"'
    await mine.scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "audit-self-report-1280.png"), full_page=True)
    await _no_serious_violations(visitor, "the audit page")

    await mine.locator("input[value=failed]").check()
    await mine.locator("input[name=note]").fill("The conference has no record of Audrey")
    await mine.locator("input[name=confirm]").check()
    await mine.locator("button", has_text="Record the finding").click()
    await page.wait_for_load_state()

    assert "Finding recorded: failed" in await page.locator(".notice").inner_text()
    status = await site.api_get("web-audrey", "/v1/managers/web-audrey/status")
    assert status["certifications"][0]["status"] == "revoked"
    await page.goto(f"{site.base_url}/programs/CMM/renewals/{filed['renewal_id']}")
    cell = page.locator(f"[data-self-report='{rid}']")
    assert "certificate.png" in await cell.inner_text()
    await page.screenshot(path=str(ARTIFACTS / "renewal-self-report-1280.png"), full_page=True)


async def test_a_manager_reads_why_a_report_was_rejected_and_reports_again(
    visitor: Visitor, site: Site
) -> None:
    await enrol(site, "web-rory", "Rory Retry")
    sent = await report(site, "web-rory", ("scan.png", certificate_png("Rory Retry")))
    reason = "The scan is cut off: the date cannot be read"
    await _post(site, "PAHCOM", f"/v1/self-reports/{sent['report_id']}/reject", {"reason": reason})
    page = visitor.page
    await page.set_viewport_size({"width": 390, "height": 844})
    await visitor.login("web-rory")

    card = page.locator(f"[data-report='{sent['report_id']}']")
    assert "Rejected" in await card.inner_text()
    assert reason in await card.locator("[data-field=reason]").inner_text()
    await card.scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "self-report-rejected-390.png"), full_page=True)

    await page.locator("#self-reports summary").click()
    await page.fill("#report-title", "Coding update webinar")
    await page.fill("#report-provider_name", "Regional HIM Society")
    await page.fill("#report-completed_on", _days_ago(10))
    await page.fill("#report-ceus", "2")
    await page.select_option("#report-category", "general")
    await page.set_input_files(
        "#report-file",
        files=[{"name": "scan-whole.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    await page.locator("form.self-report button[type=submit]").click()
    await page.wait_for_load_state()

    reports = await site.api_get("web-rory", "/v1/managers/web-rory/self-reports")
    assert [(r["state"], r["evidence"]["media_type"]) for r in reports] == [
        ("pending", "application/pdf"), ("rejected", "image/png"),
    ]  # fmt: skip
