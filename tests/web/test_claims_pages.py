"""Claims on the pages (SPEC 11), each block beside what the API says: the manager's claims
and the form to file one; the provider's open claims with a dispute form; the association's
overdue claims and its providers' timeliness.  The API tests' world, on the pages' app
(today 2026-06-15)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.api.world import Api, World
from tests.conftest import fresh_database
from tests.web.pages_client import pages, sign_in, submit


@pytest.fixture
async def site(admin_dsn, template_dsn) -> AsyncIterator[tuple[Any, World]]:
    async with fresh_database(admin_dsn) as dsn, pages(dsn) as client:
        yield client, await World.build(Api(client))


def rows_of(html: str, section: str) -> list[str]:
    """The `data-claim` ids of a section's rows."""
    block = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'data-claim="([^"]+)"', block)


async def api_claims(world: World, path: str, token: str) -> list[Any]:
    return await world.api.ok(await world.api.get(path, token), 200)


async def test_a_manager_files_a_claim_from_their_page_and_the_api_lists_it(site):
    client, world = site
    await sign_in(client, world.m1)
    page = await client.get("/managers/m-1")
    assert "No claims." in page.text
    assert 'action="/managers/m-1/claims#file-claim"' in page.text

    typed = {"activity_id": "tma-billing", "completed_on": "20/05/2026", "note": "I was there"}
    refused = await submit(client, "/managers/m-1", "/managers/m-1/claims", typed)
    assert refused.status_code == 422
    assert 'id="claim-completed_on-error"' in refused.text
    assert 'value="20/05/2026"' in refused.text  # what was typed is kept
    unknown = typed | {"activity_id": "nope", "completed_on": "2026-05-20"}
    refused = await submit(client, "/managers/m-1", "/managers/m-1/claims", unknown)
    assert "There is no activity with that id" in refused.text
    assert await api_claims(world, "/v1/managers/m-1/claims", world.m1) == []

    filed = await submit(
        client, "/managers/m-1", "/managers/m-1/claims", typed | {"completed_on": "2026-05-20"}
    )
    assert (filed.status_code, filed.headers["location"]) == (303, "/managers/m-1#claims")
    page = await client.get("/managers/m-1")
    [claim] = await api_claims(world, "/v1/managers/m-1/claims", world.m1)
    assert rows_of(page.text, "claims") == [claim["claim_id"]]
    assert "Your claim for tma-billing is filed" in page.text
    assert "Open</span> (overdue from 15 July 2026)" in page.text
    assert "Billing and coding update" in page.text  # the activity's title

    again = await submit(
        client, "/managers/m-1", "/managers/m-1/claims", typed | {"completed_on": "2026-05-20"}
    )
    assert "You have an open claim for that activity already" in again.text


async def test_a_provider_disputes_an_open_claim_from_its_page_after_confirming(site):
    client, world = site
    filed = await world.api.post(
        "/v1/managers/m-1/claims", world.m1,
        {"activity_id": "tma-billing", "completed_on": "2026-05-20", "note": ""},
    )  # fmt: skip
    claim_id = (await world.api.ok(filed))["claim_id"]
    await sign_in(client, world.tma)
    page = await client.get("/providers/tma")
    assert rows_of(page.text, "claims") == [claim_id]
    action = f"/providers/tma/claims/{claim_id}/dispute"

    unconfirmed = await submit(client, "/providers/tma", action, {"reason": "not on the sheet"})
    assert unconfirmed.status_code == 422
    assert f'id="dispute-{claim_id}-confirm-error"' in unconfirmed.text
    fields = {"reason": "not on the sheet", "confirm": "yes"}
    done = await submit(client, "/providers/tma", action, fields)
    assert (done.status_code, done.headers["location"]) == (303, "/providers/tma#claims")
    [claim] = await api_claims(world, "/v1/managers/m-1/claims", world.admin)
    assert (claim["state"], claim["reason"]) == ("disputed", "not on the sheet")
    page = await client.get("/providers/tma")
    assert "No open claims." in page.text
    assert "You disputed the claim of m-1 for tma-billing." in page.text

    stale = await submit(client, "/providers/tma", action, fields)  # a second tab
    assert stale.status_code == 303
    assert "Nothing new was recorded" in (await client.get("/providers/tma")).text

    client.cookies.clear()
    await sign_in(client, world.mgma)
    assert (await client.post(action, data=fields)).status_code == 403


async def test_the_program_page_lists_overdue_claims_and_timeliness_as_the_api(site):
    client, world = site
    await world.api.ok(
        await world.api.post(
            "/v1/managers/m-1/claims", world.m1,
            {"activity_id": "tma-billing", "completed_on": "2026-05-20", "note": ""},
        )
    )  # fmt: skip
    await world.api.ok(await world.api.post_completion(world.mgma, "g-1", activity_id="mgma-hr"))
    client.app.state.ledger.clock.advance(days=30)  # 2026-07-15: the claim is overdue
    await sign_in(client, world.cmm_auditor)

    page = await client.get("/programs/CMM")

    [overdue] = await api_claims(world, "/v1/programs/CMM/claims", world.cmm_auditor)
    assert rows_of(page.text, "claims") == [overdue["claim_id"]]
    overdue_row = page.text.split(f'data-claim="{overdue["claim_id"]}"', 1)[1].split("</tr>")[0]
    assert "15 July 2026" in overdue_row
    timeliness = await api_claims(world, "/v1/programs/CMM/providers", world.cmm_auditor)
    assert [(p["provider_id"], p["median_days"], p["claims_overdue"]) for p in timeliness] == [
        ("mgma", 26.0, 0),
        ("tma", None, 1),
    ]
    mgma = page.text.split('data-provider="mgma"', 1)[1].split("</tr>", 1)[0]
    tma = page.text.split('data-provider="tma"', 1)[1].split("</tr>", 1)[0]
    assert 'data-field="median_days">26<' in mgma
    assert 'data-field="median_days">No postings<' in tma
    assert 'data-field="claims_overdue">1<' in tma
