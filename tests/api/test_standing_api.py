"""An association acts on a certification: revokes it, reinstates it, extends its deadline.
Only an auditor of that program may (not an admin, not another program's auditor).

The world: m-1 holds CMM (since 2025-03-15, cycle 1 ends 2027-03-15) and CMOM (since
2025-09-30, cycle 1 ends 2026-09-30, 107 days from today); m-2 holds CMM since 2024-06-01, so
its first cycle ended 2026-06-01 and it is in grace until 2026-07-01.  Today is 2026-06-15
14:30 UTC.
"""

from __future__ import annotations

import pytest

from tests.api.world import assert_problem, bad_fields

NOW = "2026-06-15T14:30:00Z"


# -- revoke -----------------------------------------------------------------------------------


async def test_an_auditor_revokes_a_certification_and_the_status_says_revoked(world):
    api = world.api

    response = await api.revoke_certification(world.cmm_auditor, "m-1", "CMM", "failed audit")

    revoked = await api.ok(response, 201)
    assert revoked == {
        "manager_id": "m-1",
        "program": "CMM",
        "status": "revoked",
        "reason": "failed audit",
        "position": await api.head(),
        "recorded_at": NOW,
    }
    assert (await api.certification(world.m1, "m-1", "CMM"))["status"] == "revoked"
    assert (await api.certification(world.m1, "m-1", "CMOM"))["status"] == "active"


async def test_revoking_a_revoked_certification_is_a_409_and_nothing_is_stored(world):
    api = world.api
    await api.ok(await api.revoke_certification(world.cmm_auditor, "m-1", "CMM"))
    head = await api.head()

    response = await api.revoke_certification(world.cmm_auditor, "m-1", "CMM")

    assert_problem(response, 409)
    assert await api.head() == head


@pytest.mark.parametrize(
    ("manager_id", "program", "auditor"),
    [
        ("m-9", "CMM", "cmm_auditor"),
        ("m-2", "CMOM", "cmom_auditor"),
        ("m-1", "CPC", "cpc_auditor"),
    ],
    ids=["an unknown manager", "a certification the manager does not hold", "an unknown program"],
)
@pytest.mark.parametrize("action", ["revoke", "reinstate"])
async def test_revoking_or_reinstating_what_does_not_exist_is_a_404(
    shared_world, manager_id, program, auditor, action
):
    api = shared_world.api
    token = (
        await api.unchecked_token("auditor", programs=("CPC",))
        if auditor == "cpc_auditor"
        else getattr(shared_world, auditor)
    )
    head = await api.head()

    act = api.revoke_certification if action == "revoke" else api.reinstate_certification
    response = await act(token, manager_id, program)

    problem = assert_problem(response, 404)
    assert (manager_id if manager_id == "m-9" else program) in problem["detail"]  # not "Not Found"
    assert await api.head() == head


@pytest.mark.parametrize("action", ["revoke", "reinstate"])
@pytest.mark.parametrize(
    "body",
    [{"reason": ""}, {"reason": "   "}, {}, {"reason": "x", "note": "y"}],
    ids=["an empty reason", "a blank reason", "no reason", "an unknown field"],
)
async def test_revoking_or_reinstating_without_a_reason_is_a_422(shared_world, action, body):
    api = shared_world.api
    head = await api.head()

    path = f"/v1/managers/m-1/certifications/CMM/{action}"
    response = await api.post(path, shared_world.cmm_auditor, body)

    assert bad_fields(response) & {"reason", "note"}
    assert await api.head() == head


@pytest.mark.parametrize("who", ["admin", "cmom_auditor", "m1", "tma"])
async def test_only_an_auditor_of_the_program_revokes_it(shared_world, who):
    api = shared_world.api

    response = await api.revoke_certification(getattr(shared_world, who), "m-1", "CMM")

    assert_problem(response, 403)


# -- reinstate --------------------------------------------------------------------------------


async def test_a_reinstated_certification_is_back_to_active(world):
    api = world.api
    await api.ok(await api.revoke_certification(world.cmm_auditor, "m-1", "CMM"))

    response = await api.reinstate_certification(world.cmm_auditor, "m-1", "CMM", "appeal upheld")

    reinstated = await api.ok(response, 201)
    assert reinstated == {
        "manager_id": "m-1",
        "program": "CMM",
        "status": "active",
        "reason": "appeal upheld",
        "position": await api.head(),
        "recorded_at": NOW,
    }
    assert (await api.certification(world.m1, "m-1", "CMM"))["status"] == "active"


async def test_a_reinstated_certification_gets_the_status_the_rules_give_today(world):
    """m-2's cycle ended on 2026-06-01: reinstated, it is in grace, not active."""
    api = world.api
    await api.ok(await api.revoke_certification(world.cmm_auditor, "m-2", "CMM"))

    response = await api.reinstate_certification(world.cmm_auditor, "m-2", "CMM")

    assert (await api.ok(response, 201))["status"] == "grace"
    assert (await api.certification(world.m2, "m-2", "CMM"))["status"] == "grace"


async def test_reinstating_a_certification_that_is_not_revoked_is_a_409(shared_world):
    api = shared_world.api
    head = await api.head()

    response = await api.reinstate_certification(shared_world.cmom_auditor, "m-1", "CMOM")

    assert_problem(response, 409)
    assert await api.head() == head


@pytest.mark.parametrize("who", ["admin", "cmom_auditor", "m1"])
async def test_only_an_auditor_of_the_program_reinstates_it(world, who):
    api = world.api
    await api.ok(await api.revoke_certification(world.cmm_auditor, "m-1", "CMM"))

    response = await api.reinstate_certification(getattr(world, who), "m-1", "CMM")

    assert_problem(response, 403)
    assert (await api.certification(world.m1, "m-1", "CMM"))["status"] == "revoked"


# -- extensions -------------------------------------------------------------------------------


async def test_an_extension_moves_the_open_cycles_deadline(world):
    api = world.api
    before = await api.certification(world.m1, "m-1", "CMOM")

    response = await api.extend_certification(
        world.cmom_auditor, "m-1", "CMOM", "2026-11-30", "medical leave"
    )

    extended = await api.ok(response, 201)
    assert extended == {
        "manager_id": "m-1",
        "program": "CMOM",
        "cycle": 1,
        "ends_on": "2026-11-30",
        "reason": "medical leave",
        "position": await api.head(),
        "recorded_at": NOW,
    }
    after = await api.certification(world.m1, "m-1", "CMOM")
    assert (before["cycle"]["deadline"], before["days_to_deadline"]) == ("2026-09-30", 107)
    assert (after["cycle"]["deadline"], after["days_to_deadline"]) == ("2026-11-30", 168)
    assert after["cycle"]["ends_on"] == "2026-09-30"
    assert after["status"] == "active"


async def test_a_second_extension_must_go_past_the_first(world):
    api = world.api
    await api.ok(await api.extend_certification(world.cmom_auditor, "m-1", "CMOM", "2026-11-30"))
    head = await api.head()

    response = await api.extend_certification(world.cmom_auditor, "m-1", "CMOM", "2026-10-31")

    assert "ends_on" in bad_fields(response)
    assert await api.head() == head
    assert (await api.certification(world.m1, "m-1", "CMOM"))["cycle"]["deadline"] == "2026-11-30"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ends_on": "2026-09-30", "reason": "leave"}, "ends_on"),
        ({"ends_on": "2026-08-01", "reason": "leave"}, "ends_on"),
        ({"ends_on": "2026-09-31", "reason": "leave"}, "ends_on"),
        ({"ends_on": "soon", "reason": "leave"}, "ends_on"),
        ({"reason": "leave"}, "ends_on"),
        ({"ends_on": "2026-11-30", "reason": ""}, "reason"),
        ({"ends_on": "2026-11-30"}, "reason"),
    ],
    ids=[
        "the current deadline itself",
        "before the current deadline",
        "a date that is not one",
        "a word for a date",
        "no ends_on",
        "an empty reason",
        "no reason",
    ],
)
async def test_a_bad_extension_is_a_422_naming_the_field_and_nothing_is_stored(
    shared_world, body, field
):
    api = shared_world.api
    head = await api.head()

    path = "/v1/managers/m-1/certifications/CMOM/extensions"
    response = await api.post(path, shared_world.cmom_auditor, body)

    assert field in bad_fields(response)
    assert await api.head() == head


async def test_extending_what_does_not_exist_is_a_404(shared_world):
    api = shared_world.api

    unknown_manager = await api.extend_certification(
        shared_world.cmm_auditor, "m-9", "CMM", "2028-01-01"
    )
    not_held = await api.extend_certification(
        shared_world.cmom_auditor, "m-2", "CMOM", "2028-01-01"
    )

    assert "m-9" in assert_problem(unknown_manager, 404)["detail"]
    assert "CMOM" in assert_problem(not_held, 404)["detail"]


@pytest.mark.parametrize("who", ["admin", "cmm_auditor", "m1"])
async def test_only_an_auditor_of_the_program_extends_it(shared_world, who):
    api = shared_world.api

    response = await api.extend_certification(
        getattr(shared_world, who), "m-1", "CMOM", "2026-12-01"
    )

    assert_problem(response, 403)
