"""The certificate of attendance at the web door (`/managers/{id}/activities/{id}/certificate.pdf`,
SPEC 11): the same PDF as the API's, for a signed-in manager or their association; nobody
else's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import world_with
from tests.api.world import World
from tests.conftest import system_command
from tests.web.pages_client import pages, sign_in

SESSION = {
    "session_id": "s-1", "title": "Coding basics", "ceus": "1.5", "category": "core",
    "starts_at": "2026-05-18T09:00:00-05:00", "ends_at": "2026-05-18T10:30:00-05:00",
}  # fmt: skip


async def m1_attended(world: World) -> None:
    """tma-billing's one session, m-1 there all of it, the workshop closed."""
    api, path = world.api, "/v1/activities/tma-billing"
    headers = {"Authorization": f"Bearer {world.tma}"}
    agenda = await api.client.put(f"{path}/sessions", json=[SESSION], headers=headers)
    assert agenda.status_code == 201, agenda.text
    item = {"manager_id": "m-1", "session_id": "s-1", "checked_in_at": SESSION["starts_at"],
            "checked_out_at": SESSION["ends_at"]}  # fmt: skip
    await api.ok(await api.post(f"{path}/attendance", world.tma, {"items": [item]}), 200)
    await api.ok(await api.post(f"{path}/close", world.tma))


m1_at_workshop = world_with("m1_at_workshop", m1_attended)


@pytest.fixture
async def world(m1_at_workshop: None, world_template: World, dsn: str) -> AsyncIterator[World]:
    async with pages(dsn) as client:
        yield world_template.on(client)


async def _text(pdf: bytes) -> str:
    pdftotext = await asyncio.create_subprocess_exec(
        system_command("pdftotext", "poppler-utils"), "-", "-",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return " ".join((await pdftotext.communicate(pdf))[0].decode().split())


PATH = "/managers/m-1/activities/tma-billing/certificate.pdf"


async def test_the_manager_opens_the_certificate_the_api_makes(world, dsn):
    async with pages(dsn) as browser:
        await sign_in(browser, world.m1)
        page = await browser.get(PATH)
    api = await world.api.get("/v1/activities/tma-billing/attendance/m-1/certificate.pdf", world.m1)
    view = await world.api.ok(
        await world.api.get("/v1/activities/tma-billing/attendance/m-1", world.m1), 200
    )

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("application/pdf")
    text = await _text(page.content)
    assert text.split(" Made ")[0] == (await _text(api.content)).split(" Made ")[0]
    assert "earning 1.50 CEUs" in text
    assert f"position {view['position']}, hash {view['hash']}" in text


@pytest.mark.parametrize("who", ["m2", "cmom_auditor", "tma"])
async def test_another_manager_an_auditor_of_a_program_it_does_not_hold_or_the_provider_get_403(
    world, dsn, who
):
    """m-1 holds CMOM, so the CMOM auditor may: it is m-2 who holds CMM only.  The provider
    reads the certificate through the API, not on the manager's pages."""
    path = PATH if who != "cmom_auditor" else PATH.replace("m-1", "m-2")
    async with pages(dsn) as browser:
        await sign_in(browser, getattr(world, who))
        page = await browser.get(path)

    assert page.status_code == 403
