"""GET /v1/managers/{manager_id}/notices: what the ledger has told a manager, or will.

Today is 2026-06-15; m-1's deadlines (CMOM 2026-09-30, CMM 2027-03-15) are more than 90 days
away, so only news is listed for m-1.  No SMTP server is configured for these apps, so notices
are queued (`pending`) and never sent here: tests/integration/test_notices.py sends them."""

from __future__ import annotations

from tests.api.test_associations_api import decide, renewal_filed
from tests.api.world import assert_problem


async def test_a_decision_is_listed_for_the_manager_its_programs_auditors_and_the_admins(world):
    api = world.api
    renewal_id = await renewal_filed(world, "m-1")
    await decide(world, renewal_id, "deny", "no certificate of attendance")

    # The CMM auditor is not told of a CMOM decision (tests/api/test_privacy.py).
    for token in (world.m1, world.cmom_auditor, world.admin):
        body = await api.ok(await api.get("/v1/managers/m-1/notices", token), 200)
        assert body["manager_id"] == "m-1"
        [notice] = body["notices"]
        assert {k: notice[k] for k in ("program", "cycle", "kind", "due_on", "reason")} == {
            "program": "CMOM",
            "cycle": 1,
            "kind": "renewal_denied",
            "due_on": "2026-06-15",
            "reason": "no certificate of attendance",
        }
        assert (notice["renewal_id"], notice["status"], notice["sent_at"]) == (
            renewal_id,
            "pending",
            None,
        )


async def test_filing_again_and_an_approval_add_one_notice_each_and_never_repeat_one(world):
    api = world.api
    first = await renewal_filed(world, "m-1")
    await decide(world, first, "deny", "no certificate")
    second = (await api.ok(await api.file_renewal(world.m1, "m-1", "CMOM")))["renewal_id"]
    await decide(world, second, "approve")

    body = await api.ok(await api.get("/v1/managers/m-1/notices", world.m1), 200)
    assert [(n["kind"], n["renewal_id"]) for n in body["notices"]] == [
        ("renewal_approved", second),
        ("renewal_denied", first),
    ]


async def test_an_unknown_manager_is_a_404_and_a_stranger_a_403(world):
    api = world.api
    assert_problem(await api.get("/v1/managers/nobody/notices", world.admin), 404)
    assert_problem(await api.get("/v1/managers/m-1/notices", world.m2), 403)
    assert_problem(await api.get("/v1/managers/m-1/notices", None), 401)
