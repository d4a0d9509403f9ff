"""The manager's page lists the notices the API lists (the same read), in words."""

from __future__ import annotations

import pytest

from tests.web.conftest import Site, Visitor

pytestmark = pytest.mark.timeout(240)


async def test_a_manager_sees_their_notices_as_the_api_lists_them(
    visitor: Visitor, site: Site
) -> None:
    await visitor.login("ben-approved")
    api = await site.api_get("ben-approved", "/v1/managers/ben-approved/notices")
    assert "renewal_approved" in [n["kind"] for n in api["notices"]]
    await visitor.page.reload()  # the list as of now, after the API answered
    rows = visitor.page.locator("section[aria-labelledby=notices-title] tbody tr")
    api = await site.api_get("ben-approved", "/v1/managers/ben-approved/notices")
    assert [await r.get_attribute("data-notice") for r in await rows.all()] == [
        n["kind"] for n in api["notices"]
    ]
    texts = [await r.inner_text() for r in await rows.all()]
    assert any("Renewal approved" in text for text in texts), texts
