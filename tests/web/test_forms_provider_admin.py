"""Every provider and admin form, typed into as a person would: decimals with a dot, a comma,
nothing, too many places; a name with a line break.  Each test reads the page's answer and
asks the API whether it agrees; each page is looked at on a 390 px phone (axe-core, nothing
cut off, a full-page screenshot in tests/artifacts/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.web.conftest import ARTIFACTS, Site, Visitor

pytestmark = pytest.mark.timeout(240)

_axe = Axe()
PHONE = 390
TODAY = datetime.now(UTC).date()


async def on_a_phone(visitor: Visitor, name: str) -> None:
    """The page as it is now (a form's errors included: it is not reloaded) at 390 px: no
    serious or critical axe violation, nothing wider than the screen, a full-page screenshot."""
    page = visitor.page
    await page.set_viewport_size({"width": PHONE, "height": 900})
    results = await _axe.run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: {bad}"
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= PHONE, f"{name} is cut off at {PHONE}px ({scroll}px wide)"
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"forms-{name}-{PHONE}.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})


async def error_beside(visitor: Visitor, field_id: str) -> str:
    """The message beside a field, once the summary at the top links to that field."""
    summary = visitor.page.locator(".error-summary")
    assert await summary.locator(f"a[href='#{field_id}']").count() == 1, field_id
    return await visitor.page.locator(f"#{field_id}-error").inner_text()


async def api_post(site: Site, who: str, path: str, body: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {site.tokens[who]}"}
    response = await site.api.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


# --- the provider's forms --------------------------------------------------------------------


async def add_activity(visitor: Visitor, activity_id: str, ceus: str, title: str = "") -> None:
    page = visitor.page
    await page.fill("#activity-activity_id", activity_id)
    await page.fill("#activity-title", title or f"Coding update {activity_id}")
    await page.fill("#activity-format", "webinar")
    await page.fill("#activity-ceus", ceus)
    await page.fill("#activity-category", "general")
    await page.fill("#activity-programs", "CMOM")
    await page.fill("#activity-starts_on", "2026-01-05")
    await page.fill("#activity-ends_on", "2026-01-05")
    await page.click("text=Add the activity")


async def listed_activity(site: Site, activity_id: str) -> dict[str, Any] | None:
    activities = await site.api_get("pmi-online", "/v1/activities")
    return next((a for a in activities if a["activity_id"] == activity_id), None)


async def test_an_activity_whose_ceus_are_typed_with_a_dot_is_added_and_the_api_lists_it(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("pmi-online")  # tma's activities are counted by test_pages
    await add_activity(visitor, "web-dot", "2.5", title="Coding update\nfor 2027")
    assert urlsplit(visitor.page.url).path == "/providers/pmi-online"
    assert "is added to your activities" in await visitor.page.locator(".notice").inner_text()
    row = visitor.page.locator("#activities tbody tr", has_text="web-dot")
    assert "2.50" in await row.inner_text()
    added = await listed_activity(site, "web-dot")
    assert added is not None
    assert Decimal(added["ceus"]) == Decimal("2.5")
    assert "\n" not in added["title"]  # a text box keeps no line break a person types


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2,5", "use a dot for decimals"),
        ("", "Enter the CEUs"),
        ("1.255", "at most 2 decimal places"),
    ],
    ids=["comma", "empty", "three-places"],
)
async def test_an_activity_whose_ceus_are_mistyped_is_named_beside_the_field_and_kept(
    visitor: Visitor, site: Site, typed: str, message: str
) -> None:
    await visitor.login("pmi-online")
    activity_id = f"web-bad-{len(typed)}"
    await add_activity(visitor, activity_id, typed)
    assert message in await error_beside(visitor, "activity-ceus")
    assert await visitor.page.input_value("#activity-ceus") == typed
    assert await visitor.page.input_value("#activity-activity_id") == activity_id
    assert await listed_activity(site, activity_id) is None
    await on_a_phone(visitor, f"provider-activity-{activity_id}")


async def post_one(visitor: Visitor, external_id: str, ceus: str, days_ago: int) -> None:
    page = visitor.page
    await page.fill("#completion-external_id", external_id)
    await page.fill("#completion-manager_id", "kim-grace")
    await page.select_option("#completion-activity_id", "tma-hipaa")
    await page.fill("#completion-completed_on", str(TODAY - timedelta(days=days_ago)))
    await page.fill("#completion-ceus", ceus)
    await page.click("text=Post the completion")


async def test_one_completion_typed_with_a_dot_is_posted_once_however_often_it_is_sent(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("tma")
    for typed, message in [("1,5", "use a dot for decimals"), ("", "Enter the CEUs"),
                           ("1.255", "at most 2 decimal places")]:  # fmt: skip
        await post_one(visitor, "web-one-1", typed, 15)
        assert message in await error_beside(visitor, "completion-ceus")
        assert await visitor.page.input_value("#completion-ceus") == typed
        assert await visitor.page.input_value("#completion-external_id") == "web-one-1"
    await on_a_phone(visitor, "provider-completion-error")
    transcript = await site.api_get("demo", "/v1/managers/kim-grace/transcript")
    assert "web-one-1" not in {line["external_id"] for line in transcript}

    await post_one(visitor, "web-one-1", "1.5", 15)
    assert "Posted web-one-1 for kim-grace" in await visitor.page.locator(".notice").inner_text()
    await post_one(visitor, "web-one-1", "1.5", 15)  # sent again, as from a stale tab
    again = await visitor.page.locator(".notice").inner_text()
    assert "web-one-1 was already posted on" in again
    assert "nothing new was recorded" in again
    transcript = await site.api_get("demo", "/v1/managers/kim-grace/transcript")
    lines = [line for line in transcript if line["external_id"] == "web-one-1"]
    assert [Decimal(line["ceus"]) for line in lines] == [Decimal("1.5")]


async def posted(site: Site, external_id: str, days_ago: int) -> str:
    """A posting of tma's for kim-grace (one a day: a second on the same day is a repeat)."""
    receipt = await api_post(
        site, "tma", "/v1/completions",
        {"external_id": external_id, "manager_id": "kim-grace", "activity_id": "tma-hipaa",
         "completed_on": str(TODAY - timedelta(days=days_ago)), "ceus": "1.5"},
    )  # fmt: skip
    return str(receipt["id"])


async def open_posting(visitor: Visitor, site: Site, completion_id: str) -> None:
    await visitor.page.goto(site.base_url + "/providers/tma?manager_id=kim-grace")
    form = visitor.page.locator(f"form[action*='/postings/{completion_id}/amend']")
    await visitor.page.locator("#postings tbody tr", has=form).locator("summary").click()


async def test_an_amendment_typed_with_a_dot_is_recorded_and_mistyped_ones_are_named(
    visitor: Visitor, site: Site
) -> None:
    completion_id = await posted(site, "web-amend-1", 2)
    await visitor.login("tma")
    prefix = f"#amend-{completion_id}-"
    for typed, message in [("1,25", "use a dot for decimals"),
                           ("1.255", "at most 2 decimal places")]:  # fmt: skip
        await open_posting(visitor, site, completion_id)
        await visitor.page.fill(prefix + "ceus", typed)
        await visitor.page.fill(prefix + "reason", "Left early")
        await visitor.page.locator("button", has_text="Amend").first.click()
        assert message in await error_beside(visitor, f"amend-{completion_id}-ceus")
        assert await visitor.page.input_value(prefix + "ceus") == typed
        assert await visitor.page.input_value(prefix + "reason") == "Left early"
    await on_a_phone(visitor, "provider-amend-error")
    unchanged = await site.api_get("tma", f"/v1/completions/{completion_id}")
    assert Decimal(unchanged["ceus"]) == Decimal("1.5")

    await open_posting(visitor, site, completion_id)
    await visitor.page.fill(prefix + "ceus", "1.25")
    await visitor.page.fill(prefix + "reason", "Left early")
    await visitor.page.locator("button", has_text="Amend").first.click()
    assert "web-amend-1" in await visitor.page.locator(".notice").inner_text()
    amended = await site.api_get("tma", f"/v1/completions/{completion_id}")
    assert Decimal(amended["ceus"]) == Decimal("1.25")
    assert amended["amended"] is True


async def test_an_amendment_that_leaves_the_ceus_empty_keeps_them(
    visitor: Visitor, site: Site
) -> None:
    completion_id = await posted(site, "web-amend-2", 8)
    await visitor.login("tma")
    prefix = f"#amend-{completion_id}-"
    await open_posting(visitor, site, completion_id)
    await visitor.page.fill(prefix + "completed_on", str(TODAY - timedelta(days=9)))
    await visitor.page.fill(prefix + "reason", "Wrong day")
    await visitor.page.locator("button", has_text="Amend").first.click()
    assert "amended" in await visitor.page.locator(".notice").inner_text()
    amended = await site.api_get("tma", f"/v1/completions/{completion_id}")
    assert (Decimal(amended["ceus"]), amended["completed_on"]) == (
        Decimal("1.5"),
        str(TODAY - timedelta(days=9)),
    )


async def test_a_void_asks_for_its_box_to_be_ticked_before_it_is_recorded(
    visitor: Visitor, site: Site
) -> None:
    completion_id = await posted(site, "web-void-1", 12)
    await visitor.login("tma")
    prefix = f"#void-{completion_id}-"
    await open_posting(visitor, site, completion_id)
    await visitor.page.fill(prefix + "reason", "Did not attend")
    await visitor.page.locator("button", has_text="Void").first.click()
    assert "cannot be undone" in await error_beside(visitor, f"void-{completion_id}-confirm")
    assert await visitor.page.input_value(prefix + "reason") == "Did not attend"
    assert (await site.api_get("tma", f"/v1/completions/{completion_id}"))["voided"] is False
    await on_a_phone(visitor, "provider-void-unconfirmed")

    await visitor.page.check(prefix + "confirm")
    await visitor.page.locator("button", has_text="Void").first.click()
    assert "web-void-1" in await visitor.page.locator(".notice").inner_text()
    assert (await site.api_get("tma", f"/v1/completions/{completion_id}"))["voided"] is True


async def test_a_void_sent_from_a_stale_tab_says_the_posting_was_already_voided(
    visitor: Visitor, site: Site
) -> None:
    completion_id = await posted(site, "web-void-2", 13)
    await visitor.login("tma")
    prefix = f"#void-{completion_id}-"
    await open_posting(visitor, site, completion_id)  # the tab is open ...
    await api_post(site, "tma", f"/v1/completions/{completion_id}/void", {"reason": "Twice"})
    await visitor.page.fill(prefix + "reason", "Did not attend")  # ... and sent later
    await visitor.page.check(prefix + "confirm")
    await visitor.page.locator("button", has_text="Void").first.click()
    summary = await visitor.page.locator(f"#posting-{completion_id}-stale").inner_text()
    assert "already voided" in summary
    await on_a_phone(visitor, "provider-void-stale")
    history = (await site.api_get("tma", f"/v1/completions/{completion_id}"))["history"]
    assert len(history) == 2  # posted, voided once


async def test_a_roster_with_a_spreadsheets_header_is_read(
    visitor: Visitor, site: Site, tmp_path: Path
) -> None:
    day = TODAY - timedelta(days=5)
    roster = tmp_path / "roster.csv"
    roster.write_bytes(
        "\ufeffExternal ID, Manager ID,ACTIVITY_ID,Completed On,CEUs\r\n"
        f"web-excel-1,kim-grace,tma-hipaa,{day},1.5\r\n".encode()
    )
    await visitor.login("tma")
    await visitor.page.set_input_files("#roster-roster", str(roster))
    await visitor.page.click("text=Upload the roster")
    heading = await visitor.page.locator("#roster-result").inner_text()
    assert heading == "Result: 1 created, 0 duplicate, 0 rejected"
    transcript = await site.api_get("demo", "/v1/managers/kim-grace/transcript")
    assert "web-excel-1" in {line["external_id"] for line in transcript}
    await on_a_phone(visitor, "provider-roster-result")


async def test_a_roster_over_1000_lines_is_refused_beside_the_form_and_nothing_is_stored(
    visitor: Visitor, site: Site, tmp_path: Path
) -> None:
    day = TODAY - timedelta(days=5)
    roster = tmp_path / "big.csv"
    lines = [f"web-big-{n},kim-grace,tma-hipaa,{day},1.5" for n in range(1001)]
    roster.write_text("external_id,manager_id,activity_id,completed_on,ceus\n" + "\n".join(lines))
    await visitor.login("tma")
    await visitor.page.set_input_files("#roster-roster", str(roster))
    await visitor.page.click("text=Upload the roster")
    message = await error_beside(visitor, "roster-roster")
    assert "1,001 lines" in message
    assert "at most 1,000" in message
    assert await visitor.page.locator("#roster-roster").count() == 1  # the form is still there
    transcript = await site.api_get("demo", "/v1/managers/kim-grace/transcript")
    assert not any(line["external_id"].startswith("web-big-") for line in transcript)
    await on_a_phone(visitor, "provider-roster-too-long")


async def test_the_provider_page_on_a_phone(visitor: Visitor, site: Site) -> None:
    await visitor.login("tma")
    first = visitor.page.locator("#postings tbody tr").first
    await first.locator("summary").click()
    await on_a_phone(visitor, "provider-tma")


# --- the admin's forms -----------------------------------------------------------------------


async def tokens_for(site: Site, manager_id: str) -> list[dict[str, Any]]:
    return [t for t in await site.api_get("demo", "/v1/tokens") if t["manager_id"] == manager_id]


async def test_a_token_for_a_manager_that_does_not_exist_is_refused_beside_the_field(
    visitor: Visitor, site: Site
) -> None:
    before = len(await site.api_get("demo", "/v1/tokens"))
    await visitor.login("demo")
    await visitor.page.select_option("#token-role", "manager")
    await visitor.page.fill("#token-manager_id", "no-such-manager")
    await visitor.page.click("text=Create the token")
    assert "There is no manager no-such-manager" in await error_beside(visitor, "token-manager_id")
    assert await visitor.page.input_value("#token-manager_id") == "no-such-manager"
    await visitor.page.select_option("#token-role", "auditor")
    await visitor.page.fill("#token-manager_id", "")
    await visitor.page.fill("#token-programs", "CMM NOPE")
    await visitor.page.click("text=Create the token")
    assert "There is no program NOPE" in await error_beside(visitor, "token-programs")
    await on_a_phone(visitor, "admin-token-error")
    assert len(await site.api_get("demo", "/v1/tokens")) == before


async def test_a_new_token_is_shown_once_after_a_redirect_and_a_reload_creates_no_other(
    visitor: Visitor, site: Site
) -> None:
    before = len(await tokens_for(site, "lee-core"))
    await visitor.login("demo")
    await visitor.page.select_option("#token-role", "manager")
    await visitor.page.fill("#token-manager_id", "lee-core")
    await visitor.page.click("text=Create the token")
    assert urlsplit(visitor.page.url).path == "/admin/tokens/new"
    secret = await visitor.page.locator("#new-token").inner_text()
    assert secret.startswith("ceu_")
    assert "manager token for lee-core" in await visitor.page.locator("h1").inner_text()
    await on_a_phone(visitor, "admin-new-token")
    await visitor.page.reload()
    assert await visitor.page.locator("#new-token").count() == 0
    assert await visitor.page.locator("#already-shown").count() == 1
    assert len(await tokens_for(site, "lee-core")) == before + 1
    site.tokens["lee-core-new"] = secret
    await site.api_get("lee-core-new", "/v1/managers/lee-core/status")


async def test_revoking_a_token_asks_for_confirmation_first(visitor: Visitor, site: Site) -> None:
    scope = {"role": "manager", "manager_id": "ben-approved"}
    created = await api_post(site, "demo", "/v1/tokens", scope)
    await visitor.login("demo")
    await visitor.page.goto(site.base_url + "/admin#tokens")
    await visitor.page.locator(f"li[data-token-id='{created['token_id']}'] a").click()
    assert (
        "Revoke the manager token for ben-approved?"
        in await visitor.page.locator("h1").inner_text()
    )
    await on_a_phone(visitor, "admin-revoke-confirm")
    listed = {t["token_id"]: t for t in await site.api_get("demo", "/v1/tokens")}
    assert listed[created["token_id"]]["revoked_at"] is None  # asking revoked nothing
    await visitor.page.click("text=Yes, revoke this token")
    notice = await visitor.page.locator(".notice").inner_text()
    assert "manager token for ben-approved is revoked" in notice
    listed = {t["token_id"]: t for t in await site.api_get("demo", "/v1/tokens")}
    assert listed[created["token_id"]]["revoked_at"] is not None


async def fill_rules(visitor: Visitor, code: str, **typed: str) -> None:
    page = visitor.page
    details = page.locator("details", has=page.locator(f"form#rules-{code}-form"))
    if await details.get_attribute("open") is None:
        await details.locator("summary").click()
    for name, value in typed.items():
        await page.fill(f"#rules-{code}-{name}", value)
    await page.locator(f"form#rules-{code}-form button").click()


async def test_a_rule_version_typed_with_dots_is_added_and_the_api_lists_it(
    visitor: Visitor, site: Site
) -> None:
    starts = TODAY + timedelta(days=800)
    await visitor.login("demo")
    await fill_rules(visitor, "CMOM", effective_from=str(starts), required_ceus="24.5",
                     fee="80.50", audit_percent="12.5")  # fmt: skip
    assert "rules from" in await visitor.page.locator(".notice").inner_text()
    rules = (await site.api_get("demo", "/v1/programs/CMOM"))["rules"][-1]
    assert rules["effective_from"] == str(starts)
    assert Decimal(rules["required_ceus"]) == Decimal("24.5")
    assert rules["fee_cents"] == 8050
    assert Decimal(rules["audit_rate"]) == Decimal("0.125")
    shown = visitor.page.locator("#programs li", has_text=f"From {starts.day} ")
    text = await shown.inner_text()
    assert "$80.50" in text
    assert "12.5%" in text


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"required_ceus": "24,5"}, "required_ceus", "use a dot for decimals"),
        ({"required_ceus": ""}, "required_ceus", "Enter the CEUs required"),
        ({"required_ceus": "24.555"}, "required_ceus", "at most 2 decimal places"),
        ({"fee": "80,50"}, "fee", "use a dot for decimals"),
        ({"fee": "80.505"}, "fee", "at most 2 decimal places"),
        ({"audit_percent": ""}, "audit_percent", "Enter the audit rate"),
    ],
    ids=["comma", "empty", "three-places", "fee-comma", "fee-places", "rate-empty"],
)
async def test_a_mistyped_rule_version_is_named_beside_its_field_and_nothing_is_added(
    visitor: Visitor, site: Site, typed: dict[str, str], field: str, message: str
) -> None:
    before = len((await site.api_get("demo", "/v1/programs/CMM"))["rules"])
    await visitor.login("demo")
    starts = str(TODAY + timedelta(days=900))
    await fill_rules(visitor, "CMM", effective_from=starts, **typed)
    assert message in await error_beside(visitor, f"rules-CMM-{field}")
    assert await visitor.page.input_value(f"#rules-CMM-{field}") == typed[field]
    assert await visitor.page.input_value("#rules-CMM-effective_from") == starts
    assert len((await site.api_get("demo", "/v1/programs/CMM"))["rules"]) == before
    if field == "required_ceus" and typed[field] == "24,5":
        await on_a_phone(visitor, "admin-rules-error")


async def test_a_program_is_defined_with_its_rules_typed_as_people_type_them(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("demo")
    page = visitor.page
    await page.fill("#new-program-code", "CPC")
    await page.fill("#new-program-name", "Certified Practice Coordinator")
    await page.fill("#new-program-association", "AAPC")
    await page.fill("#new-program-required_ceus", "20,5")
    await page.fill("#new-program-fee", "")
    await page.click("text=Define the program")
    assert "use a dot for decimals" in await error_beside(visitor, "new-program-required_ceus")
    assert "Enter the fee in dollars" in await error_beside(visitor, "new-program-fee")
    assert await page.input_value("#new-program-name") == "Certified Practice Coordinator"
    await on_a_phone(visitor, "admin-program-error")
    codes = {p["code"] for p in await site.api_get("demo", "/v1/programs")}
    assert "CPC" not in codes

    await page.fill("#new-program-required_ceus", "20.5")
    await page.fill("#new-program-fee", "60")
    await page.fill("#new-program-min_core", "4.25")
    await page.click("text=Define the program")
    assert "CPC" in await page.locator(".notice").inner_text()
    program = await site.api_get("demo", "/v1/programs/CPC")
    rules = program["rules"][0]
    assert (program["name"], program["association"]) == ("Certified Practice Coordinator", "AAPC")
    assert Decimal(rules["required_ceus"]) == Decimal("20.5")
    assert rules["fee_cents"] == 6000
    assert Decimal(rules["audit_rate"]) == Decimal("0.1")
    assert {k: Decimal(v) for k, v in rules["category_minimums"].items()} == {
        "core": Decimal("4.25")
    }


async def test_a_provider_is_registered_and_a_mistyped_one_is_named_beside_its_field(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("demo")
    await visitor.page.fill("#provider-provider_id", "web clinic")
    await visitor.page.fill("#provider-name", "Web\nClinic")
    await visitor.page.fill("#provider-programs", "")
    await visitor.page.click("text=Register the provider")
    assert "letters, digits" in await error_beside(visitor, "provider-provider_id")
    assert "Enter programs" in await error_beside(visitor, "provider-programs")
    assert await visitor.page.input_value("#provider-provider_id") == "web clinic"
    await on_a_phone(visitor, "admin-provider-error")
    await visitor.page.fill("#provider-provider_id", "web-clinic")
    await visitor.page.fill("#provider-programs", "CMM, CMOM")
    await visitor.page.click("text=Register the provider")
    assert (
        "is registered as provider web-clinic" in await visitor.page.locator(".notice").inner_text()
    )
    providers = {p["provider_id"]: p for p in await site.api_get("demo", "/v1/providers")}
    assert providers["web-clinic"]["programs"] == ["CMM", "CMOM"]
    assert "\n" not in providers["web-clinic"]["name"]  # a text box keeps no line break


async def test_the_admin_page_on_a_phone_shows_names_dates_money_and_rates(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("demo")
    text = await visitor.page.locator("main").inner_text()
    assert "None" not in text
    assert "0.10" not in text
    for program in await site.api_get("demo", "/v1/programs"):
        for rules in program["rules"]:
            assert f"${rules['fee_cents'] / 100:,.2f}" in text
            assert f"{(Decimal(rules['audit_rate']) * 100).normalize():f}%" in text
    tokens = await site.api_get("demo", "/v1/tokens")
    for token in tokens:
        assert str(token["token_id"]) not in text
    assert "by the demo data" in text
    await on_a_phone(visitor, "admin")


# --- an unknown address ----------------------------------------------------------------------


async def test_an_unknown_address_is_a_page_for_a_browser_and_problem_json_for_the_api(
    visitor: Visitor, site: Site
) -> None:
    response = await visitor.page.goto(site.base_url + "/no/such/page")
    assert response is not None
    assert response.status == 404
    assert await visitor.page.locator("h1").inner_text() == "Page not found"
    assert await visitor.page.locator("main a").last.get_attribute("href") == "/"
    await on_a_phone(visitor, "not-found")
    for path, accept in [("/no/such/page", "application/json"), ("/v1/no/such", "text/html")]:
        answer = await site.api.get(path, headers={"Accept": accept})
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/problem+json")
