"""The auditor's and the manager's forms, typed into as a person would (a dot, a comma, empty,
too many places, a line break), each checked against what the API then says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.web.conftest import Site, Visitor
from tests.web.test_pages import check_page

pytestmark = pytest.mark.timeout(300)


async def submit(visitor: Visitor, form: str, **fields: str) -> None:
    for name, typed in fields.items():
        await visitor.page.fill(f"#{form}-{name}", typed)
    await visitor.page.locator(
        f"form:has(#{form}-{next(iter(fields))}) button[type=submit]"
    ).click()
    await visitor.page.wait_for_load_state()


async def test_an_auditor_enrols_certifies_and_records_a_fee_typed_in_dollars(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("PAHCOM")
    await submit(visitor, "enrol", name="Dana Dot", email="dana@example.org", manager_id="web-dana")
    assert "Dana Dot is enrolled" in await visitor.page.locator(".notice").inner_text()
    certified = (datetime.now(UTC) - timedelta(days=400)).date()
    await submit(
        visitor, "certify", manager_id="web-dana", certified_on=certified.strftime("%d/%m/%Y")
    )
    assert await visitor.page.locator("#certify-certified_on-error").count() == 1
    assert await visitor.page.input_value("#certify-manager_id") == "web-dana"
    await submit(visitor, "certify", manager_id="web-dana", certified_on=str(certified))
    assert visitor.page.url.endswith("/managers/web-dana")
    await visitor.page.goto(site.base_url + "/programs/CMM#fee")
    for typed in ("75,00", "", "75.001", "-5", "seventy"):
        await submit(visitor, "fee", manager_id="web-dana", amount=typed, reference="chq 12")
        assert await visitor.page.locator("#fee-amount-error").count() == 1, typed
        assert await visitor.page.input_value("#fee-amount") == typed  # what was typed is kept
        assert await visitor.page.input_value("#fee-reference") == "chq 12"
    status = await site.api_get("PAHCOM", "/v1/managers/web-dana/status")
    assert status["certifications"][0]["fee_paid_cents"] == 0  # nothing stored by the refusals
    await submit(visitor, "fee", manager_id="web-dana", amount="$75.00", reference="chq 12")
    assert (
        "$75.00 CMM fee of web-dana recorded" in await visitor.page.locator(".notice").inner_text()
    )
    status = await site.api_get("PAHCOM", "/v1/managers/web-dana/status")
    assert status["certifications"][0]["fee_paid_cents"] == 7500

    await visitor.page.goto(site.base_url + "/managers/web-dana")
    assert "Dana Dot" in await visitor.page.locator("h1").inner_text()
    fee = visitor.page.locator("[data-fee]").first
    await fee.locator("summary").click()
    await fee.locator("input[name=amount]").fill("10,50")
    await fee.locator("input[name=reason]").fill("Paid twice")
    await fee.locator("button", has_text="Refund").click()
    fee = visitor.page.locator("[data-fee]").first
    assert "dot for cents" in await fee.locator(".error-message").inner_text()
    assert await fee.locator("input[name=reason]").input_value() == "Paid twice"
    await fee.locator("input[name=amount]").fill("10.5")
    await fee.locator("button", has_text="Refund").click()
    assert "$10.50 of the CMM fee refunded" in await visitor.page.locator(".notice").inner_text()
    status = await site.api_get("PAHCOM", "/v1/managers/web-dana/status")
    assert status["certifications"][0]["fee_paid_cents"] == 7500 - 1050
    await check_page(visitor, "manager-as-auditor")


async def test_a_revocation_asks_for_confirmation_and_the_holder_sees_when_who_and_why(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("PAHCOM")
    await visitor.page.select_option("#standing-action", "revoke")
    await submit(visitor, "standing", manager_id="lou-lapsed", reason="Forged attendance")
    assert await visitor.page.locator("#standing-confirm-error").count() == 1
    assert await visitor.page.input_value("#standing-reason") == "Forged attendance"
    status = await site.api_get("PAHCOM", "/v1/managers/lou-lapsed/status")
    assert status["certifications"][0]["status"] != "revoked"  # nothing stored

    # A reason with a line break, posted as a browser would: the page shows the API's answer.
    token = await visitor.page.locator("input[name=_csrf_token]").first.get_attribute("value")
    response = await visitor.page.request.post(
        site.base_url + "/programs/CMM/standing",
        form={"_csrf_token": token or "", "action": "revoke", "manager_id": "lou-lapsed",
              "reason": "Forged\nattendance", "confirm": "yes"},
    )  # fmt: skip
    status = await site.api_get("PAHCOM", "/v1/managers/lou-lapsed/status")
    revoked = status["certifications"][0]["status"] == "revoked"
    assert (response.status == 422) == (not revoked), await response.text()

    if not revoked:
        await visitor.page.goto(site.base_url + "/programs/CMM#standing")
        await visitor.page.select_option("#standing-action", "revoke")
        await visitor.page.check("#standing-confirm")
        await submit(visitor, "standing", manager_id="lou-lapsed", reason="Forged attendance")
        assert "revoked" in await visitor.page.locator(".notice").inner_text()
    status = await site.api_get("PAHCOM", "/v1/managers/lou-lapsed/status")
    assert status["certifications"][0]["status"] == "revoked"
    await visitor.page.goto(site.base_url + "/managers/lou-lapsed")
    card = visitor.page.locator("section[data-program=CMM]")
    shown = await card.locator("[data-field=revoked]").inner_text()
    today = datetime.now(UTC).date()
    assert shown.startswith(f"Revoked on {today.day} {today:%B %Y} by PAHCOM:"), shown
    assert await card.locator("[data-field=missing]").count() == 0


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [("0,1", False), ("", True), ("12.34567", False), ("150", False), ("abc", False), ("10", True)],
)
async def test_the_audit_rate_is_typed_as_a_percentage(
    visitor: Visitor, site: Site, typed: str, accepted: bool
) -> None:
    await visitor.login("PMI")
    day = datetime.now(UTC).date()
    await submit(visitor, "audit", filed_from=str(day - timedelta(days=400)), filed_to=str(day),
                 rate=typed)  # fmt: skip
    if not accepted:
        assert await visitor.page.locator("#audit-rate-error").count() == 1
        assert await visitor.page.input_value("#audit-rate") == typed
        return
    assert "/audits/" in visitor.page.url
    audit_id = visitor.page.url.rsplit("/", 1)[1]
    drawn = await site.api_get("PMI", f"/v1/audits/{audit_id}")
    shown = await visitor.page.locator("[data-field=rate]").inner_text()
    assert shown == "10%"
    assert float(drawn["rate"]) == 0.1
    await check_page(visitor, f"audit-rate-{typed or 'default'}")
