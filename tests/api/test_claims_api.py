"""Claims (SPEC 11) through the API: a manager files one for an activity attended but not
posted; its provider sees it open, and either posts (the claim is fulfilled in the same append
as the completion) or disputes it with a reason; still open after `claim_window_days` (30 by
default) it is overdue, and the manager and the associations of the activity's programs get a
notice.  Each provider's timeliness per program: GET /v1/programs/{code}/providers.

Today is 2026-06-15 (the API tests' clock).  tma-billing (tma: CMM and CMOM, 2026-05-18..22);
mgma-hr (mgma: CMM, all of 2026); m-1 holds CMM and CMOM, m-2 CMM only."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg

from ledger.infra.reminders import _LOCK as REMINDERS_LOCK
from ledger.infra.reminders import remind
from tests.api.world import assert_problem, bad_fields

CLAIM = {"activity_id": "tma-billing", "completed_on": "2026-05-20", "note": "I signed in"}


async def file(world, manager_id: str = "m-1", token: str | None = None, **changes: Any) -> Any:
    api = world.api
    path = f"/v1/managers/{manager_id}/claims"
    return await api.post(path, token or world.m1, CLAIM | changes)


async def filed(world, manager_id: str = "m-1", token: str | None = None, **changes: Any) -> str:
    return (await world.api.ok(await file(world, manager_id, token, **changes)))["claim_id"]


async def claims_of(world, manager_id: str = "m-1", token: str | None = None) -> list[Any]:
    path = f"/v1/managers/{manager_id}/claims"
    return await world.api.ok(await world.api.get(path, token or world.admin), 200)


async def provider_claims(world, provider: str, token: str, **params: Any) -> list[Any]:
    path = f"/v1/providers/{provider}/claims"
    return await world.api.ok(await world.api.get(path, token, **params), 200)


async def dispute(world, claim_id: str, token: str, reason: str = "not on our sign-in sheet"):
    return await world.api.post(f"/v1/claims/{claim_id}/dispute", token, {"reason": reason})


async def events_after(world, position: int) -> list[Any]:
    page = await world.api.ok(await world.api.get("/v1/events", world.admin, after=position), 200)
    return page["events"]


# -- filing -----------------------------------------------------------------------------------


async def test_a_manager_files_a_claim_and_its_provider_sees_it_open(world):
    response = await world.api.ok(await file(world))

    assert {k: response[k] for k in ("manager_id", "activity_id", "provider_id", "state")} == {
        "manager_id": "m-1", "activity_id": "tma-billing", "provider_id": "tma", "state": "open",
    }  # fmt: skip
    [claim] = await claims_of(world, token=world.m1)
    assert claim["claim_id"] == response["claim_id"]
    assert (claim["completed_on"], claim["note"]) == ("2026-05-20", "I signed in")
    assert (claim["state"], claim["overdue_on"], claim["overdue"]) == ("open", "2026-07-15", False)
    assert claim["programs"] == ["CMM", "CMOM"]
    assert claim["activity_title"] == "Billing and coding update"
    [seen] = await provider_claims(world, "tma", world.tma)
    assert seen["claim_id"] == response["claim_id"]
    assert await provider_claims(world, "mgma", world.mgma) == []


async def test_an_admin_files_a_claim_for_a_manager(world):
    body = await world.api.ok(await file(world, "m-2", world.admin))

    assert body["manager_id"] == "m-2"
    assert [c["claim_id"] for c in await claims_of(world, "m-2", world.m2)] == [body["claim_id"]]


async def test_refused_claims_say_why_and_store_nothing(world):
    api = world.api
    head = await api.head()

    assert "no activity" in assert_problem(await file(world, activity_id="nope"), 404)["detail"]
    assert bad_fields(await file(world, completed_on="2026-06-16")) == {"completed_on"}
    assert bad_fields(await file(world, completed_on="2026-05-17")) == {"completed_on"}
    assert bad_fields(await file(world, completed_on="20/05/2026")) == {"completed_on"}
    assert bad_fields(await file(world, completed_on="2026-02-30")) == {"completed_on"}
    assert bad_fields(await file(world, activity_id="")) == {"activity_id"}
    assert bad_fields(await file(world, note="line\nbreak")) == {"note"}
    assert bad_fields(await file(world, ceus="6")) == {"ceus"}  # an unknown field
    assert_problem(await file(world, "nobody", world.admin), 404)
    assert await api.head() == head


async def test_no_claim_for_an_activity_already_posted_nor_a_second_open_one(world):
    api = world.api
    await api.ok(await api.post_completion(world.tma, "row-1"))
    refused = assert_problem(await file(world), 409)
    assert "already recorded" in refused["detail"]

    await filed(world, "m-2", world.m2)
    again = assert_problem(await file(world, "m-2", world.m2), 409)
    assert "open claim" in again["detail"]


async def test_only_the_manager_or_an_admin_files_the_managers_claim(world):
    for token in (world.m2, world.tma, world.cmm_auditor):
        assert_problem(await file(world, "m-1", token), 403)
    assert_problem(await file(world, "m-1", "not-a-token"), 401)
    assert await claims_of(world) == []


# -- fulfilled ----------------------------------------------------------------------------


async def test_a_posting_fulfils_the_claim_in_the_same_append_and_a_retry_does_not_again(world):
    api = world.api
    claim_id = await filed(world)
    head = await api.head()

    receipt = await api.ok(await api.post_completion(world.tma, "row-1"))
    recorded = await events_after(world, head)
    assert [(e["type"], e["stream_id"]) for e in recorded] == [
        ("completion_recorded", "manager-m-1"),
        ("claim_fulfilled", "manager-m-1"),
    ]
    completion, fulfilled = recorded
    assert fulfilled["position"] == completion["position"] + 1 == receipt["position"] + 1
    assert fulfilled["recorded_at"] == completion["recorded_at"]  # one append, one commit
    assert fulfilled["data"]["claim_id"] == claim_id
    assert fulfilled["data"]["completion_id"] == receipt["id"]

    again = await api.ok(await api.post_completion(world.tma, "row-1"), 200)
    assert again == receipt
    assert await events_after(world, head) == recorded  # nothing new: not fulfilled twice
    [claim] = await claims_of(world)
    assert (claim["state"], claim["completion_id"]) == ("fulfilled", receipt["id"])
    assert await provider_claims(world, "tma", world.tma) == []
    [done] = await provider_claims(world, "tma", world.tma, state="fulfilled")
    assert done["claim_id"] == claim_id


async def test_a_roster_line_fulfils_the_claim_and_the_roster_again_does_not_again(world):
    api = world.api
    claim_id = await filed(world, "m-2", world.m2)
    roster = {
        "items": [
            {"external_id": "r-1", "manager_id": "m-1", "activity_id": "tma-billing",
             "completed_on": "2026-05-19", "ceus": "6"},
            {"external_id": "r-2", "manager_id": "m-2", "activity_id": "tma-billing",
             "completed_on": "2026-05-20", "ceus": "6"},
        ]
    }  # fmt: skip
    head = await api.head()

    result = await api.ok(await api.post("/v1/completions/batch", world.tma, roster), 200)
    assert result["created"] == 2
    types = [e["type"] for e in await events_after(world, head)]
    assert types.count("claim_fulfilled") == 1
    again = await api.ok(await api.post("/v1/completions/batch", world.tma, roster), 200)
    assert (again["created"], again["duplicate"]) == (0, 2)
    assert [e["type"] for e in await events_after(world, head)] == types
    [claim] = await claims_of(world, "m-2")
    assert (claim["claim_id"], claim["state"]) == (claim_id, "fulfilled")
    receipts = {r["external_id"]: r["id"] for r in result["results"]}
    assert claim["completion_id"] == receipts["r-2"]


# -- disputed ------------------------------------------------------------------------------


async def test_the_provider_disputes_a_claim_with_a_reason_once(world):
    api = world.api
    claim_id = await filed(world)

    body = await api.ok(await dispute(world, claim_id, world.tma))
    assert (body["state"], body["reason"], body["manager_id"]) == (
        "disputed", "not on our sign-in sheet", "m-1",
    )  # fmt: skip
    [claim] = await claims_of(world)
    assert (claim["state"], claim["reason"]) == ("disputed", "not on our sign-in sheet")
    assert claim["decided_at"] is not None
    assert await provider_claims(world, "tma", world.tma) == []
    assert len(await provider_claims(world, "tma", world.tma, state="disputed")) == 1
    head = await api.head()
    assert "is disputed" in assert_problem(await dispute(world, claim_id, world.tma), 409)["detail"]
    assert await api.head() == head


async def test_a_dispute_by_another_provider_or_anyone_else_is_refused(world):
    api = world.api
    claim_id = await filed(world)
    head = await api.head()

    assert_problem(await dispute(world, claim_id, world.mgma), 403)
    for token in (world.m1, world.cmm_auditor, world.admin):
        assert_problem(await dispute(world, claim_id, token), 403)
    assert_problem(await dispute(world, claim_id, None), 401)
    assert bad_fields(await dispute(world, claim_id, world.tma, reason="")) == {"reason"}
    assert bad_fields(await dispute(world, claim_id, world.tma, reason="a\x00b")) == {"reason"}
    unknown = "00000000-0000-4000-8000-000000000000"
    assert "no claim" in assert_problem(await dispute(world, unknown, world.tma), 404)["detail"]
    assert_problem(await api.post("/v1/claims/not-a-uuid/dispute", world.tma, {"reason": "x"}), 404)
    assert await api.head() == head
    [claim] = await claims_of(world)
    assert claim["state"] == "open"


async def test_a_fulfilled_claim_cannot_be_disputed(world):
    claim_id = await filed(world)
    await world.api.ok(await world.api.post_completion(world.tma, "row-1"))

    refused = assert_problem(await dispute(world, claim_id, world.tma), 409)
    assert "is fulfilled" in refused["detail"]


# -- overdue ------------------------------------------------------------------------------


async def remind_on(dsn: str, day: date, clock) -> None:
    """The reminder scheduler's run of `day` (ledger/infra/reminders.py), waiting for the app's
    own scheduler if it is running at that moment (it takes the same lock, so this run is not
    skipped)."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", REMINDERS_LOCK)
            await remind(conn, day, clock())
    finally:
        await conn.close()


async def told(dsn: str, claim_id: str) -> tuple[int, list[str]]:
    """How many notices of the claim the manager has in the outbox, and which programs'
    associations were told."""
    conn = await asyncpg.connect(dsn)
    try:
        mine = await conn.fetchval(
            "SELECT count(*) FROM notice_outbox WHERE claim_id = $1", uuid.UUID(claim_id)
        )
        theirs = await conn.fetch(
            "SELECT program FROM association_notices WHERE claim_id = $1 ORDER BY program",
            uuid.UUID(claim_id),
        )
        return mine, [row[0] for row in theirs]
    finally:
        await conn.close()


async def test_a_claim_open_thirty_days_is_overdue_and_told_once_to_manager_and_associations(
    world, clock, dsn
):
    api = world.api
    claim_id = await filed(world)
    clock.advance(days=29)  # 2026-07-14: one day before its window closes
    [claim] = await claims_of(world)
    assert claim["overdue"] is False
    await remind_on(dsn, date(2026, 7, 14), clock)
    assert await told(dsn, claim_id) == (0, [])
    assert await provider_claims(world, "tma", world.tma, state="overdue") == []

    clock.advance(days=1)  # 2026-07-15
    [claim] = await claims_of(world)
    assert (claim["overdue"], claim["overdue_on"]) == (True, "2026-07-15")
    [late] = await provider_claims(world, "tma", world.tma, state="overdue")
    assert late["claim_id"] == claim_id
    await remind_on(dsn, date(2026, 7, 15), clock)
    assert await told(dsn, claim_id) == (1, ["CMM", "CMOM"])
    await remind_on(dsn, date(2026, 7, 16), clock)
    assert await told(dsn, claim_id) == (1, ["CMM", "CMOM"])  # never twice

    notices = await api.ok(await api.get("/v1/managers/m-1/notices", world.m1), 200)
    [notice] = [n for n in notices["notices"] if n["kind"] == "claim_overdue"]
    assert (notice["claim_id"], notice["due_on"], notice["reason"]) == (
        claim_id, "2026-07-15", "tma-billing",
    )  # fmt: skip
    for code, token in (("CMM", world.cmm_auditor), ("CMOM", world.cmom_auditor)):
        [listed] = await api.ok(await api.get(f"/v1/programs/{code}/claims", token), 200)
        assert (listed["claim_id"], listed["association_told_on"]) == (claim_id, "2026-07-15")


async def test_an_overdue_claim_is_no_longer_listed_once_posted(world, clock):
    api = world.api
    await filed(world)
    clock.advance(days=31)
    assert len(await api.ok(await api.get("/v1/programs/CMM/claims", world.admin), 200)) == 1

    # Posted late (completed_on within the activity, 57 days before the posting).
    await api.ok(await api.post_completion(world.tma, "row-late"))

    assert await api.ok(await api.get("/v1/programs/CMM/claims", world.admin), 200) == []
    [claim] = await claims_of(world)
    assert (claim["state"], claim["overdue"]) == ("fulfilled", False)


# -- who sees which claims ------------------------------------------------------------------


async def test_an_auditor_sees_the_claims_on_activities_of_its_programs_only(world):
    await filed(world)  # tma-billing: CMM and CMOM
    await filed(world, activity_id="mgma-hr", completed_on="2026-06-01")  # CMM only

    cmm = await claims_of(world, token=world.cmm_auditor)
    cmom = await claims_of(world, token=world.cmom_auditor)
    assert sorted(c["activity_id"] for c in cmm) == ["mgma-hr", "tma-billing"]
    assert [c["activity_id"] for c in cmom] == ["tma-billing"]
    assert_problem(await world.api.get("/v1/managers/m-2/claims", world.cmom_auditor), 403)
    assert_problem(await world.api.get("/v1/managers/m-1/claims", world.tma), 403)
    assert_problem(await world.api.get("/v1/managers/nobody/claims", world.admin), 404)


async def test_a_providers_claims_are_its_own_and_its_state_filter_is_checked(world):
    api = world.api
    assert_problem(await api.get("/v1/providers/tma/claims", world.mgma), 403)
    assert_problem(await api.get("/v1/providers/tma/claims", world.m1), 403)
    assert bad_fields(await api.get("/v1/providers/tma/claims", world.tma, state="late")) == {
        "state"
    }
    assert_problem(await api.get("/v1/providers/nobody/claims", world.admin), 404)
    assert await provider_claims(world, "tma", world.admin, state="all") == []


# -- timeliness ---------------------------------------------------------------------------


async def test_each_providers_timeliness_in_a_program(world, clock):
    """tma posts m-1's tma-billing of 2026-05-20 (26 days later, fulfilling m-1's claim),
    m-1's tma-coding of 2026-06-10 (5 days) and m-2's of 2026-06-12 (3 days); mgma posts
    m-1's mgma-hr of 2026-06-14 (1 day) and disputes m-2's claim on it; m-2's claim on
    tma-billing stays open, and is overdue 30 days on."""
    api = world.api
    await api.activity(
        world.tma, "tma", "tma-coding", programs=["CMM"], starts_on="2026-06-01",
        ends_on="2026-06-30", ceus="3",
    )  # fmt: skip
    await filed(world)
    open_claim = await filed(world, "m-2", world.m2, completed_on="2026-05-21")
    disputed = await filed(world, "m-2", world.m2, activity_id="mgma-hr", completed_on="2026-06-01")
    await api.ok(await api.post_completion(world.tma, "t-1"))
    for external_id, manager_id, on in (("t-2", "m-1", "2026-06-10"), ("t-3", "m-2", "2026-06-12")):
        await api.ok(
            await api.post_completion(
                world.tma, external_id, manager_id=manager_id, activity_id="tma-coding",
                completed_on=on, ceus="3",
            )
        )  # fmt: skip
    await api.ok(
        await api.post_completion(
            world.mgma, "g-1", activity_id="mgma-hr", completed_on="2026-06-14", ceus="6"
        )
    )
    await api.ok(await dispute(world, disputed, world.mgma))

    cmm = await api.ok(await api.get("/v1/programs/CMM/providers", world.cmm_auditor), 200)
    assert cmm == [
        {"provider_id": "mgma", "name": "MGMA", "postings": 1, "median_days": 1.0,
         "claims_open": 0, "claims_overdue": 0, "claims_fulfilled": 0, "claims_disputed": 1},
        {"provider_id": "tma", "name": "TMA", "postings": 3, "median_days": 5.0,
         "claims_open": 1, "claims_overdue": 0, "claims_fulfilled": 1, "claims_disputed": 0},
    ]  # fmt: skip
    cmom = await api.ok(await api.get("/v1/programs/CMOM/providers", world.admin), 200)
    assert cmom == [
        {"provider_id": "tma", "name": "TMA", "postings": 1, "median_days": 26.0,
         "claims_open": 1, "claims_overdue": 0, "claims_fulfilled": 1, "claims_disputed": 0},
    ]  # fmt: skip

    clock.advance(days=30)
    later = await api.ok(await api.get("/v1/programs/CMM/providers", world.cmm_auditor), 200)
    assert [(p["provider_id"], p["claims_open"], p["claims_overdue"]) for p in later] == [
        ("mgma", 0, 0),
        ("tma", 1, 1),
    ]
    [overdue] = await api.ok(await api.get("/v1/programs/CMM/claims", world.cmm_auditor), 200)
    assert overdue["claim_id"] == open_claim
    # m-2 holds CMM only: CMOM's association is not told of its claim on tma-billing.
    assert await api.ok(await api.get("/v1/programs/CMOM/claims", world.cmom_auditor), 200) == []


async def test_timeliness_is_for_the_programs_auditors_and_the_admins(world):
    api = world.api
    assert_problem(await api.get("/v1/programs/CMOM/providers", world.cmm_auditor), 403)
    assert_problem(await api.get("/v1/programs/CMM/providers", world.tma), 403)
    assert_problem(await api.get("/v1/programs/CMM/providers", None), 401)
    assert_problem(await api.get("/v1/programs/NOPE/providers", world.admin), 404)
    listed = await api.ok(await api.get("/v1/programs/CMM/providers", world.admin), 200)
    assert [(p["provider_id"], p["postings"], p["median_days"]) for p in listed] == [
        ("mgma", 0, None),
        ("tma", 0, None),
    ]
