"""Attack 6 and 9 of issue 16 on the pages: a session that logout ends on the server, a cookie
Secure by default, the security headers on every page, CSRF tokens bound to their session,
and failed logins throttled per address.  Litestar's test client plays the browser (cookies,
each form's CSRF token); the app and the database are real."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from ledger.http.throttle import FailureWindow
from tests.api.world import World
from tests.web.pages_client import FakeMonotonic, csrf_of, pages, sign_in, submit


@pytest.fixture
async def world(world_template: World, dsn: str) -> AsyncIterator[World]:
    """The API tests' world (this test's copy of its template), driven through the pages' app."""
    async with pages(dsn) as client:
        yield world_template.on(client)


def session_cookie(client: AsyncTestClient[Any]) -> str:
    value = client.cookies.get("ceu_session")
    assert value, "no session cookie"
    return value


# -- 6: logout ends the session on the server ------------------------------------------------


async def test_after_logout_the_saved_session_cookie_opens_no_page_in_any_process(world, dsn):
    async with pages(dsn) as browser, pages(dsn) as other_process:
        await sign_in(browser, world.m1)
        saved = dict(browser.cookies)
        other_process.cookies.update(saved)
        opened = await other_process.get("/managers/m-1", follow_redirects=False)
        assert opened.status_code == 200, "the same cookie opens the page in another process"

        page = await browser.get("/managers/m-1")
        out = await browser.post(
            "/logout", data={"_csrf_token": csrf_of(page)}, follow_redirects=False
        )
        assert out.status_code == 303

        for client in (browser, other_process):
            client.cookies.clear()
            client.cookies.update(saved)  # the cookie kept from before the logout
            replay = await client.get("/managers/m-1", follow_redirects=False)
            assert replay.status_code in (302, 303), replay.text[:300]
            assert replay.headers["location"] == "/login"


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [("https://ceu.example.org", True), ("http://127.0.0.1:8000", False)],
    ids=["https", "plain http (the demo)"],
)
async def test_the_session_cookie_is_secure_unless_the_public_url_is_plain_http(
    dsn, public_url, secure
):
    async with pages(dsn, public_url=public_url) as client:
        response = await client.get("/login")

    (cookie,) = [c for c in response.headers.get_list("set-cookie") if "ceu_session=" in c]
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert ("secure" in attributes) is secure, cookie
    assert {"httponly", "samesite=strict"} <= attributes


# -- 9a: the security headers on every page --------------------------------------------------

PAGES = {
    "login": (None, "/login"),
    "manager": ("m1", "/managers/m-1"),
    "provider": ("tma", "/providers/tma"),
    "program": ("cmm_auditor", "/programs/CMM"),
    "admin": ("admin", "/admin"),
    "not found": ("admin", "/no-such-page"),  # (a page or a problem: another part decides)
}


def assert_secured(response: Any) -> None:
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize("name", list(PAGES))
async def test_every_page_sends_csp_nosniff_referrer_policy_frame_denial_and_no_store(
    world, dsn, name
):
    who, path = PAGES[name]
    async with pages(dsn) as client:
        if who is not None:
            await sign_in(client, getattr(world, who))
        response = await client.get(path)

    assert_secured(response)


async def test_the_new_token_page_is_never_stored_and_sends_the_security_headers(world, dsn):
    async with pages(dsn) as client:
        await sign_in(client, world.admin)
        fields = {"role": "manager", "manager_id": "m-1"}
        response = await submit(client, "/admin", "/admin/tokens", fields)
        if response.status_code in (302, 303):  # shown once, on the page it redirects to
            assert_secured(response)
            response = await client.get(response.headers["location"])

    assert response.status_code in (200, 201), response.text[:500]
    assert "ceu_" in response.text, "the page shows the new token"
    assert_secured(response)


def test_the_templates_have_no_inline_script_style_or_handler():
    templates = Path(__file__).resolve().parents[2] / "ledger" / "web" / "templates"
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)
    found = {
        f"{path.name}:{n}": line.strip()
        for path in sorted(templates.glob("*.html"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if inline.search(line)
    }
    assert found == {}


# -- 9c: a CSRF token is bound to its session ------------------------------------------------


async def test_a_csrf_token_from_another_session_is_refused(world, dsn):
    async with pages(dsn) as attacker, pages(dsn) as victim:
        await sign_in(attacker, world.m2)
        attackers_page = await attacker.get("/managers/m-2")
        await sign_in(victim, world.m1)

        # The victim's session cookie with the attacker's own token (and any CSRF cookie the
        # attacker's session had: a double-submit pair is valid on its own).
        forged = {**dict(attacker.cookies), "ceu_session": session_cookie(victim)}
        victim.cookies.clear()
        victim.cookies.update(forged)
        response = await victim.post(
            "/logout", data={"_csrf_token": csrf_of(attackers_page)}, follow_redirects=False
        )

        assert response.status_code == 403, response.text[:300]
        assert "expired or was not sent from this site" in response.text
        victim.cookies.update({"ceu_session": forged["ceu_session"]})
        still = await victim.get("/managers/m-1", follow_redirects=False)
        assert still.status_code == 200, "the victim is still signed in"


async def test_the_login_forms_csrf_token_does_not_outlive_signing_in(world, dsn):
    async with pages(dsn) as client:
        before = csrf_of(await client.get("/login"))
        await sign_in(client, world.m1)
        response = await client.post(
            "/logout", data={"_csrf_token": before}, follow_redirects=False
        )

    assert response.status_code == 403


# -- 9b: failed logins are throttled per address ---------------------------------------------


async def test_ten_failed_logins_from_one_address_make_the_next_a_429_page_with_retry_after(
    world, dsn
):
    clock = FakeMonotonic()
    async with pages(dsn, failures=FailureWindow(clock=clock)) as client:
        token = csrf_of(await client.get("/login"))

        async def log_in(value: str) -> Any:
            return await client.post(
                "/login", data={"token": value, "_csrf_token": token}, follow_redirects=False
            )

        for n in range(10):
            clock.now += 1
            assert (await log_in(f"ceu_guess{n}")).status_code == 401
        refused = await log_in(world.m1)  # even the right token, while throttled

        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/html")
        assert int(refused.headers["retry-after"]) == 51  # the first failure leaves at 1061
        assert "Too many attempts" in refused.text
        assert_secured(refused)
        clock.now += 51
        assert (await log_in(world.m1)).status_code == 303
