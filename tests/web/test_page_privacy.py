"""The manager's page, its transcript CSV and PDF show an auditor what the API shows it
(ledger/access/policy.py): the certifications of its own programs and the completions that count
for one of them, never another association's (SPEC 6 "Privacy", SPEC 9 "numbers equal the
API's")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import world_with
from tests.api.world import World
from tests.conftest import system_command
from tests.web.pages_client import pages, sign_in

CMM_ONLY = "HR for practice managers"
"""The title of mgma-hr, an activity that counts for CMM only."""


async def m1_hr_billing_and_a_fee(world: World) -> None:
    """m-1's completions of mgma-hr (CMM only) and tma-billing (both), and a CMM fee."""
    api = world.api
    await api.ok(await api.post_completion(world.mgma, "m1-hr", activity_id="mgma-hr"))
    await api.ok(await api.post_completion(world.tma, "m1-billing"))
    await api.pay_fee("m-1", "CMM", cents=7300)


m1_worked = world_with("m1_worked", m1_hr_billing_and_a_fee)


@pytest.fixture
async def world(m1_worked: None, world_template: World, dsn: str) -> AsyncIterator[World]:
    """The API tests' world with `m1_hr_billing_and_a_fee` (this test's copy of their template),
    driven through the pages' app."""
    async with pages(dsn) as client:
        yield world_template.on(client)


async def test_an_auditor_of_cmom_sees_only_the_cmom_part_of_the_page_of_a_manager_holding_both(
    world, dsn
):
    async with pages(dsn) as browser:
        await sign_in(browser, world.cmom_auditor)
        page = await browser.get("/managers/m-1")
        csv = await browser.get("/managers/m-1/transcript.csv")
        pdf = await browser.get("/managers/m-1/transcript.pdf")
    api_status = await world.api.ok(
        await world.api.get("/v1/managers/m-1/status", world.cmom_auditor), 200
    )

    assert page.status_code == csv.status_code == pdf.status_code == 200
    assert [c["program"] for c in api_status["certifications"]] == ["CMOM"]
    assert "Billing and coding update" in page.text
    assert CMM_ONLY not in page.text, "a completion that counts only for CMM"
    assert "73.00" not in page.text, "the CMM fee"
    assert "Billing and coding update" in csv.text
    assert CMM_ONLY not in csv.text
    pdftotext = await asyncio.create_subprocess_exec(
        system_command("pdftotext", "poppler-utils"), "-", "-",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    text = (await pdftotext.communicate(pdf.content))[0].decode()
    assert "Billing and coding update" in text
    assert CMM_ONLY not in text


async def test_the_manager_sees_the_whole_of_its_own_page(world, dsn):
    async with pages(dsn) as browser:
        await sign_in(browser, world.m1)
        page = await browser.get("/managers/m-1")

    assert page.status_code == 200
    assert CMM_ONLY in page.text
    assert "Billing and coding update" in page.text
