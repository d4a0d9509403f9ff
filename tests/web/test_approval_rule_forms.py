"""The admin's rule version form keeps a program's sources of credit (SPEC 12): filled in
with the latest version's minimums and maximums, shown with each version, typed as a person
would; and what it records is what the API then lists."""

from __future__ import annotations

from tests.api.world import ADMIN_TOKEN, Api
from tests.web.pages_client import pages, sign_in, submit

PAHCOM = {
    "effective_from": "2026-06-15", "cycle_months": 24, "required_ceus": "24",
    "grace_days": 30, "fee_cents": 7500,
    "source_minimums": {"approved": "12"}, "source_maximums": {"self": "12"},
}  # fmt: skip
FORM = {
    "effective_from": "2026-07-01", "cycle_months": "24", "required_ceus": "24",
    "min_core": "0", "min_general": "0", "grace_days": "30", "fee": "75.00",
    "carryover_max_ceus": "0", "audit_percent": "10", "correction_window_days": "60",
}  # fmt: skip


async def test_a_rule_version_added_on_the_admin_page_keeps_the_sources_of_credit(dsn):
    async with pages(dsn) as client:
        api = Api(client)
        await api.ok(await api.post("/v1/programs/CMM/rules", ADMIN_TOKEN, PAHCOM))
        await sign_in(client, ADMIN_TOKEN)

        page = await client.get("/admin")
        assert 'id="rules-CMM-src_min_approved" name="src_min_approved" type="text" value="12"' in (
            page.text
        )
        assert "at least 12.00 approved activity; at most 12.00 self-reported;" in page.text

        typed = FORM | {"src_min_approved": "12,5", "src_max_self": "12"}
        refused = await submit(client, "/admin", "/admin/programs/CMM/rules", typed)
        assert refused.status_code == 422
        assert 'id="rules-CMM-src_min_approved-error"' in refused.text
        assert 'value="12,5"' in refused.text

        typed = FORM | {"src_min_approved": "12", "src_max_self": "12"}
        added = await submit(client, "/admin", "/admin/programs/CMM/rules", typed)
        assert added.status_code == 303, added.text[:500]
        program = await api.ok(await api.get("/v1/programs/CMM", ADMIN_TOKEN), 200)

    latest = program["rules"][-1]
    assert latest["effective_from"] == "2026-07-01"
    assert (latest["source_minimums"], latest["source_maximums"]) == (
        {"approved": "12"},
        {"self": "12"},
    )
