"""SPEC 12 through the API: providers apply to a program and submit activities, the program's
auditors approve or deny; an activity of an approved provider is approved on registration;
each completion's source shows in status, explain, transcript and the renewal's evidence, and
the program's source rules judge cycles that start once they are in force.

The world: tma (CMM, CMOM) and mgma (CMM); tma-billing (12 core CEUs, CMM and CMOM,
2026-05-18..22), mgma-hr (6 general CEUs, CMM, 2026); m-1 holds CMM and CMOM, m-2 CMM.  Today
is 2026-06-15 (the clock does not move).
"""

from __future__ import annotations

from typing import Any

import pytest

from events.postgres.connection import connect
from ledger.infra.reminders import remind
from tests.api.conftest import world_with
from tests.api.world import ADMIN_TOKEN, World, assert_problem, bad_fields

EMAIL = "ce@tma.example"
PROVIDERS = "/v1/programs/CMM/provider-approvals"
ACTIVITIES = "/v1/programs/CMM/activity-approvals"


async def apply(world: World, token: str | None = None, program: str = "CMM") -> Any:
    path = f"/v1/programs/{program}/provider-approvals"
    return await world.api.post(path, token or world.tma, {"contact_email": EMAIL})


async def approve(world: World, provider_id: str = "tma", **changes: Any) -> Any:
    body = {"approval_number": "PAHCOM-17", "valid_until": "2028-06-15"} | changes
    return await world.api.post(f"{PROVIDERS}/{provider_id}/approve", world.cmm_auditor, body)


async def tma_approved(world: World) -> None:
    """tma applied to CMM and was approved (PAHCOM-17, until 2028-06-15)."""
    await world.api.ok(await apply(world))
    await world.api.ok(await approve(world))


approved_tma = world_with("approved_tma", tma_approved)


@pytest.fixture
def approved(approved_tma, world) -> World:
    return world


async def listed(world: World, path: str, **params: Any) -> list[dict[str, Any]]:
    return await world.api.ok(await world.api.get(path, world.cmm_auditor, **params), 200)


# -- provider approvals -----------------------------------------------------------------------


async def test_a_provider_applies_and_an_auditor_of_the_program_approves_it(world):
    api = world.api

    applied = await api.ok(await apply(world))
    pending = await listed(world, PROVIDERS, state="pending")
    decided = await api.ok(await approve(world))

    assert (applied["provider_id"], applied["state"], applied["contact_email"]) == (
        "tma",
        "pending",
        EMAIL,
    )
    assert [(p["provider_id"], p["provider_name"]) for p in pending] == [("tma", "TMA")]
    assert decided["state"] == "approved"
    assert (decided["approval_number"], decided["valid_from"], decided["valid_until"]) == (
        "PAHCOM-17",
        "2026-06-15",
        "2028-06-15",
    )
    assert decided["valid_today"] is True
    assert await listed(world, PROVIDERS, state="pending") == []
    assert [p["state"] for p in await listed(world, PROVIDERS, state="approved")] == ["approved"]
    own = await api.ok(await api.get("/v1/providers/tma/approvals", world.tma), 200)
    assert [(p["program"], p["state"]) for p in own["providers"]] == [("CMM", "approved")]


async def test_a_denied_provider_reads_the_reason_and_may_apply_again(world):
    api = world.api
    await api.ok(await apply(world, world.mgma))

    denied = await api.ok(
        await api.post(f"{PROVIDERS}/mgma/deny", world.cmm_auditor, {"reason": "no syllabus"})
    )
    again = await apply(world, world.mgma)

    assert (denied["state"], denied["reason"]) == ("denied", "no syllabus")
    assert (await api.ok(again))["state"] == "pending"
    own = await api.ok(await api.get("/v1/providers/mgma/approvals", world.mgma), 200)
    assert [p["state"] for p in own["providers"]] == ["pending", "denied"]


async def test_renewing_an_approval_is_applying_again_and_being_approved_again(approved):
    api = approved.api

    await api.ok(await apply(approved))
    renewed = await api.ok(await approve(approved, approval_number="PAHCOM-17R",
                                         valid_until="2030-06-15"))  # fmt: skip

    assert renewed["valid_until"] == "2030-06-15"
    states = [(p["approval_number"], p["state"]) for p in await listed(approved, PROVIDERS)]
    assert sorted(states) == [("PAHCOM-17", "approved"), ("PAHCOM-17R", "approved")]


async def test_applying_while_an_application_is_pending_is_a_409_storing_nothing(world):
    await world.api.ok(await apply(world))
    head = await world.api.head()

    assert_problem(await apply(world), 409)
    assert await world.api.head() == head


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "contact_email"),
        ({"contact_email": "ce@tma.example\r\nBcc: x@y"}, "contact_email"),
        ({"contact_email": EMAIL, "program": "CMM"}, "program"),
        ({"contact_email": 7}, "contact_email"),
    ],
    ids=["missing", "a line break", "an unknown field", "not text"],
)
async def test_a_bad_application_is_a_422_naming_the_field(shared_world, body, field):
    api = shared_world.api
    head = await api.head()

    response = await api.post(PROVIDERS, shared_world.tma, body)

    assert bad_fields(response) == {field}
    assert await api.head() == head


async def test_applying_to_an_unknown_program_is_a_404(shared_world):
    response = await apply(shared_world, program="NOPE")

    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"valid_until": "2026-06-15"}, "valid_until"),  # today: it would lapse at once
        ({"valid_until": "2026-02-30"}, "valid_until"),
        ({"approval_number": ""}, "approval_number"),
        ({"approval_number": "  "}, "approval_number"),
        ({"valid_until": None}, "valid_until"),
    ],
    ids=["lapsing today", "not a date", "empty number", "blank number", "no date"],
)
async def test_a_bad_approval_is_a_422_naming_the_field(world, changes, field):
    await world.api.ok(await apply(world))
    head = await world.api.head()

    response = await approve(world, **changes)

    assert bad_fields(response) == {field}
    assert await world.api.head() == head


async def test_approving_or_denying_without_a_pending_application_is_a_409(shared_world):
    api = shared_world.api
    head = await api.head()

    assert_problem(await approve(shared_world, provider_id="mgma"), 409)
    deny = await api.post(f"{PROVIDERS}/mgma/deny", shared_world.cmm_auditor, {"reason": "no"})
    assert_problem(deny, 409)
    assert await api.head() == head


async def test_approving_an_unknown_provider_is_a_404(shared_world):
    assert_problem(await approve(shared_world, provider_id="nobody"), 404)


async def test_a_denial_without_a_reason_is_a_422(world):
    await world.api.ok(await apply(world))

    response = await world.api.post(f"{PROVIDERS}/tma/deny", world.cmm_auditor, {"reason": ""})

    assert bad_fields(response) == {"reason"}


async def test_the_auditor_of_another_program_an_admin_and_the_provider_cannot_decide(world):
    api = world.api
    await api.ok(await apply(world))
    head = await api.head()
    body = {"approval_number": "X", "valid_until": "2028-01-01"}

    for token in (world.cmom_auditor, ADMIN_TOKEN, world.tma, None):
        response = await api.post(f"{PROVIDERS}/tma/approve", token, body)
        assert response.status_code == (401 if token is None else 403), response.text
    assert await api.head() == head


async def test_a_state_that_is_not_one_is_a_422(shared_world):
    response = await shared_world.api.get(PROVIDERS, shared_world.cmm_auditor, state="open")

    assert bad_fields(response) == {"state"}


async def test_a_provider_reads_only_its_own_approvals(shared_world):
    api = shared_world.api

    assert (await api.get("/v1/providers/tma/approvals", shared_world.mgma)).status_code == 403
    assert (await api.get("/v1/providers/tma/approvals", ADMIN_TOKEN)).status_code == 200


# -- activity approvals -----------------------------------------------------------------------


async def test_an_activity_of_an_approved_provider_is_approved_on_registration(approved):
    api = approved.api

    await api.activity(approved.tma, "tma", "tma-july", programs=["CMM", "CMOM"],
                       starts_on="2026-07-01", ends_on="2026-07-02")  # fmt: skip

    [auto] = [a for a in await listed(approved, ACTIVITIES) if a["activity_id"] == "tma-july"]
    assert (auto["state"], auto["automatic"], auto["index_number"]) == (
        "approved",
        True,
        "PAHCOM-17",
    )
    cmom = await api.ok(await api.get("/v1/programs/CMOM/activity-approvals",
                                      approved.cmom_auditor), 200)  # fmt: skip
    assert cmom == []  # tma is not approved for CMOM


async def test_an_activity_that_started_before_the_approval_is_not_approved_on_registration(
    approved,
):
    await approved.api.activity(approved.tma, "tma", "tma-march", programs=["CMM"],
                                starts_on="2026-03-01", ends_on="2026-03-02")  # fmt: skip

    assert [a["activity_id"] for a in await listed(approved, ACTIVITIES)] == []


async def test_a_provider_submits_its_activity_and_an_auditor_approves_it_with_an_index(world):
    api = world.api

    submitted = await api.ok(await api.post(ACTIVITIES, world.tma, {"activity_id": "tma-billing"}))
    approved = await api.ok(
        await api.post(
            f"{ACTIVITIES}/tma-billing/approve", world.cmm_auditor,
            {"index_number": "CMM-IDX-42", "ceus": "10", "category": "core"},
        )
    )  # fmt: skip

    assert (submitted["state"], submitted["title"]) == ("pending", "Billing and coding update")
    assert (approved["state"], approved["index_number"], approved["ceus"]) == (
        "approved",
        "CMM-IDX-42",
        "10.00",
    )
    assert approved["automatic"] is False
    again = await api.post(ACTIVITIES, world.tma, {"activity_id": "tma-billing"})
    assert_problem(again, 409)
    own = await api.ok(await api.get("/v1/providers/tma/approvals", world.tma), 200)
    assert [(a["activity_id"], a["state"]) for a in own["activities"]] == [
        ("tma-billing", "approved")
    ]


async def test_a_denied_activity_says_why(world):
    api = world.api
    await api.ok(await api.post(ACTIVITIES, world.mgma, {"activity_id": "mgma-hr"}))

    denied = await api.ok(
        await api.post(f"{ACTIVITIES}/mgma-hr/deny", world.cmm_auditor, {"reason": "HR only"})
    )

    assert (denied["state"], denied["reason"]) == ("denied", "HR only")
    assert [a["state"] for a in await listed(world, ACTIVITIES, state="denied")] == ["denied"]


async def test_submitting_another_provider_s_activity_is_a_403_storing_nothing(shared_world):
    api = shared_world.api
    head = await api.head()

    response = await api.post(ACTIVITIES, shared_world.mgma, {"activity_id": "tma-billing"})

    assert_problem(response, 403)
    assert await api.head() == head


@pytest.mark.parametrize(
    ("path", "activity_id", "status"),
    [
        (ACTIVITIES, "nothing-here", 404),
        ("/v1/programs/CMOM/activity-approvals", "mgma-hr", 422),  # it counts for CMM only
        ("/v1/programs/NOPE/activity-approvals", "mgma-hr", 404),
    ],
    ids=["unknown activity", "a program it does not count for", "unknown program"],
)
async def test_submitting_what_cannot_be_approved_is_refused(
    shared_world, path, activity_id, status
):
    api = shared_world.api
    head = await api.head()

    response = await api.post(path, shared_world.mgma, {"activity_id": activity_id})

    assert_problem(response, status)
    assert await api.head() == head


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"ceus": "12.01"}, {"ceus"}),
        ({"ceus": "1.234"}, {"ceus"}),
        ({"category": "Core"}, {"category"}),
        ({"index_number": " "}, {"index_number"}),
        ({"ceus": "0"}, {"ceus"}),
    ],
    ids=["more than the activity's", "three places", "not the program's", "blank", "zero"],
)
async def test_a_bad_activity_approval_is_a_422_naming_the_field(world, changes, fields):
    api = world.api
    await api.ok(await api.post(ACTIVITIES, world.tma, {"activity_id": "tma-billing"}))
    head = await api.head()
    body = {"index_number": "CMM-IDX-42", "ceus": "12", "category": "core"} | changes

    response = await api.post(f"{ACTIVITIES}/tma-billing/approve", world.cmm_auditor, body)

    assert bad_fields(response) == fields
    assert await api.head() == head


async def test_deciding_an_activity_not_submitted_is_a_409_and_an_unknown_one_a_404(shared_world):
    api = shared_world.api
    body = {"index_number": "CMM-IDX-42", "ceus": "6", "category": "general"}

    assert_problem(await api.post(f"{ACTIVITIES}/mgma-hr/approve", shared_world.cmm_auditor,
                                  body), 409)  # fmt: skip
    assert_problem(await api.post(f"{ACTIVITIES}/nothing/deny", shared_world.cmm_auditor,
                                  {"reason": "no"}), 404)  # fmt: skip


# -- sources of credit ------------------------------------------------------------------------


PAHCOM = {
    "effective_from": "2026-06-15", "cycle_months": 24, "required_ceus": "24",
    "grace_days": 30, "fee_cents": 7500,
    "source_minimums": {"approved": "12"}, "source_maximums": {"self": "12"},
}  # fmt: skip


async def test_the_source_rules_are_a_rule_version_of_the_program(world):
    api = world.api

    program = await api.ok(await api.post("/v1/programs/CMM/rules", ADMIN_TOKEN, PAHCOM))

    latest = program["rules"][-1]
    assert (latest["source_minimums"], latest["source_maximums"]) == (
        {"approved": "12"},
        {"self": "12"},
    )
    assert program["rules"][0]["source_minimums"] == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"source_minimums": {"friends": "12"}}, "source_minimums"),
        ({"source_minimums": {"approved": "25"}}, "source_minimums"),
        ({"source_minimums": {"approved": "-1"}}, "source_minimums"),
        ({"source_maximums": {"approved": "6"}}, "source_maximums"),
        ({"source_maximums": {"self": "NaN"}}, "source_maximums"),
    ],
    ids=["not a source", "above the requirement", "negative", "below its minimum", "NaN"],
)
async def test_bad_source_rules_are_a_422_naming_them(shared_world, changes, field):
    api = shared_world.api
    head = await api.head()

    response = await api.post("/v1/programs/CMM/rules", ADMIN_TOKEN, PAHCOM | changes)

    assert {f.split(".")[0] for f in bad_fields(response)} == {field}
    assert await api.head() == head


async def sources_world(world: World) -> None:
    """CMM under PAHCOM's rule from today; tma approved for CMM; m-3 certified today (its first
    cycle judged by PAHCOM's rule); tma-today (8 CEUs) approved on registration and
    mgma-today (16 CEUs) not."""
    api = world.api
    await api.ok(await api.post("/v1/programs/CMM/rules", ADMIN_TOKEN, PAHCOM))
    await tma_approved(world)
    await api.enrol("m-3", CMM="2026-06-15")
    await api.activity(world.tma, "tma", "tma-today", ceus="8", category="general",
                       programs=["CMM"], starts_on="2026-06-15", ends_on="2026-06-15")  # fmt: skip
    await api.activity(world.mgma, "mgma", "mgma-today", ceus="16", category="general",
                       programs=["CMM"], starts_on="2026-06-15", ends_on="2026-06-15")  # fmt: skip


approval_sources = world_with("approval_sources", sources_world)


@pytest.fixture
def pahcom(approval_sources, world) -> World:
    return world


async def post(world: World, token: str, activity_id: str, ceus: str) -> str:
    response = await world.api.post_completion(
        token, f"{activity_id}-m3", manager_id="m-3", activity_id=activity_id,
        completed_on="2026-06-15", ceus=ceus,
    )  # fmt: skip
    return (await world.api.ok(response))["id"]


async def test_a_missing_source_minimum_is_a_shortfall_naming_it(pahcom):
    api = pahcom.api
    manager = await api.token("manager", manager_id="m-3")
    approved = await post(pahcom, pahcom.tma, "tma-today", "8")
    posted = await post(pahcom, pahcom.mgma, "mgma-today", "16")
    await api.pay_fee("m-3", "CMM")

    cert = await api.certification(manager, "m-3", "CMM")
    refused = await api.file_renewal(manager, "m-3", "CMM")

    assert cert["ceus_earned"] == "24.00"
    assert [(s["source"], s["required"], s["counted"]) for s in cert["shortfalls"]] == [
        ("approved", "12", "8.00")
    ]
    assert {s["source"]: s["counted"] for s in cert["sources"]} == {
        "approved": "8.00",
        "provider": "16.00",
        "self": "0",
    }
    problem = assert_problem(refused, 422)
    assert problem["errors"] == [
        {"field": "sources.approved", "message": "12 approved CEUs needed, 8.00 counted"}
    ]
    explained = await api.explain(manager, "m-3", "CMM")
    assert (explained[approved]["source"], explained[posted]["source"]) == ("approved", "provider")
    transcript = await api.ok(
        await api.get("/v1/managers/m-3/transcript", manager, program="CMM"), 200
    )
    assert {line["completion_id"]: line["source"] for line in transcript} == {
        approved: "approved",
        posted: "provider",
    }


async def test_the_renewal_s_frozen_evidence_keeps_each_completion_s_source(pahcom):
    api = pahcom.api
    manager = await api.token("manager", manager_id="m-3")
    await api.ok(await api.post(ACTIVITIES, pahcom.mgma, {"activity_id": "mgma-today"}))
    await api.ok(
        await api.post(
            f"{ACTIVITIES}/mgma-today/approve", pahcom.cmm_auditor,
            {"index_number": "CMM-IDX-7", "ceus": "16", "category": "general"},
        )
    )  # fmt: skip
    approved = await post(pahcom, pahcom.tma, "tma-today", "8")
    also_approved = await post(pahcom, pahcom.mgma, "mgma-today", "16")
    await api.pay_fee("m-3", "CMM")

    filed = await api.ok(await api.file_renewal(manager, "m-3", "CMM"))

    assert {(c["completion_id"], c["source"]) for c in filed["completions"]} == {
        (approved, "approved"),
        (also_approved, "approved"),
    }
    cycles = await api.ok(await api.get("/v1/managers/m-3/cycles", pahcom.cmm_auditor,
                                        program="CMM"), 200)  # fmt: skip
    assert {c["source"] for c in cycles[-1]["renewal"]["counted"]} == {"approved"}
    assert cycles[-1]["sources"] == {"approved": "24.00"}


async def test_a_cycle_begun_before_the_source_rules_is_judged_without_them(pahcom):
    cert = await pahcom.api.certification(pahcom.m1, "m-1", "CMM")

    assert cert["cycle"]["starts_on"] == "2025-03-15"
    assert [s for s in cert["shortfalls"] if s["requirement"] == "source"] == []
    assert cert["sources"] == []


# -- reminders before an approval lapses ------------------------------------------------------


async def test_a_provider_reads_the_reminder_of_its_approval_lapsing(world, dsn, clock):
    await world.api.ok(await apply(world))
    await world.api.ok(await approve(world, valid_until="2026-09-01"))  # in 78 days
    conn = await connect(dsn)
    try:
        # (the app's own scheduler may queue it first: either way it is queued once)
        await remind(conn, clock.now.date(), clock.now)
        again = await remind(conn, clock.now.date(), clock.now)
    finally:
        await conn.close()

    notices = await world.api.ok(await world.api.get("/v1/providers/tma/notices", world.tma), 200)

    assert again == 0
    assert [
        (n["kind"], n["due_on"], n["valid_until"], n["email"], n["status"]) for n in notices
    ] == [("approval_lapses_120", "2026-05-04", "2026-09-01", EMAIL, "pending")]
    assert (await world.api.get("/v1/providers/mgma/notices", world.mgma)).json() == []


async def test_the_notices_of_an_unknown_provider_are_a_404(shared_world):
    assert_problem(await shared_world.api.get("/v1/providers/nobody/notices", ADMIN_TOKEN), 404)
