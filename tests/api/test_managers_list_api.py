"""Finding managers and keeping their profile: the list of a program's managers (searchable,
filtered by status, paginated), one manager's profile and its change.

The world: m-1 (CMM since 2025-03-15, active; CMOM since 2025-09-30, active), m-2 (CMM since
2024-06-01, in grace since 2026-06-01), both named after their ids with emails
`{id}@example.org`; the tests add m-3, Dana Reyes.  Today is 2026-06-15.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.world import World, assert_problem, bad_fields


async def listed(world: World, token: str, **params: Any) -> dict[str, Any]:
    return await world.api.ok(await world.api.managers(token, **params), 200)


def ids(page: dict[str, Any]) -> list[str]:
    return [m["manager_id"] for m in page["managers"]]


async def with_dana(world: World) -> str:
    """m-3, Dana Reyes, CMM since 2026-01-10 (active); enrolled after m-1 and m-2."""
    return await world.api.enrol_person(
        "m-3", "Dana Reyes", "Dana.Reyes@Clinic.example", CMM="2026-01-10"
    )


# -- the list ---------------------------------------------------------------------------------


async def test_an_auditor_lists_the_managers_certified_in_its_program(world):
    page = await listed(world, world.cmm_auditor, program="CMM")

    assert ids(page) == ["m-1", "m-2"]
    assert page["next_after"] is None
    m1, m2 = page["managers"]
    assert (m1["name"], m1["email"]) == ("m-1", "m-1@example.org")
    cmm = next(c for c in m1["certifications"] if c["program"] == "CMM")
    assert cmm == {"program": "CMM", "status": "active", "deadline": "2027-03-15"}
    assert {"program": "CMM", "status": "grace", "deadline": "2026-06-01"} in m2["certifications"]


async def test_the_list_of_a_program_has_only_its_managers(world):
    page = await listed(world, world.cmom_auditor, program="CMOM")

    assert ids(page) == ["m-1"]


async def test_an_admin_lists_every_manager_with_or_without_a_program(world):
    await world.api.enrol_person("m-4", "Lee Park", "lee@example.org")  # no certification

    everyone = await listed(world, world.admin)
    cmom = await listed(world, world.admin, program="CMOM")

    assert ids(everyone) == ["m-1", "m-2", "m-4"]
    assert ids(cmom) == ["m-1"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("M-3", ["m-3"]),
        ("reyes", ["m-3"]),
        ("DANA R", ["m-3"]),
        ("clinic.EXAMPLE", ["m-3"]),
        ("example.org", ["m-1", "m-2"]),
        ("m-", ["m-1", "m-2", "m-3"]),
        ("nobody", []),
    ],
    ids=[
        "an id in capitals",
        "part of a name",
        "a name across the space",
        "part of an email",
        "a domain",
        "what every id has",
        "no match",
    ],
)
async def test_q_finds_managers_by_id_name_or_email_whatever_the_case(world, q, expected):
    await with_dana(world)

    page = await listed(world, world.cmm_auditor, program="CMM", q=q)

    assert ids(page) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [("active", ["m-1", "m-3"]), ("grace", ["m-2"]), ("lapsed", []), ("revoked", [])],
)
async def test_status_filters_by_the_programs_status(world, status, expected):
    await with_dana(world)

    page = await listed(world, world.cmm_auditor, program="CMM", status=status)

    assert ids(page) == expected


async def test_a_revoked_certification_is_found_by_status_revoked(world):
    await world.api.ok(await world.api.revoke_certification(world.cmm_auditor, "m-2", "CMM"))

    page = await listed(world, world.cmm_auditor, program="CMM", status="revoked")

    assert ids(page) == ["m-2"]


async def test_the_list_comes_in_pages_that_end_with_next_after_null(world):
    await with_dana(world)

    first = await listed(world, world.cmm_auditor, program="CMM", limit=2)
    second = await listed(
        world, world.cmm_auditor, program="CMM", limit=2, after=first["next_after"]
    )

    assert ids(first) == ["m-1", "m-2"]
    assert isinstance(first["next_after"], int)
    assert ids(second) == ["m-3"]
    assert second["next_after"] is None


async def test_walking_the_pages_one_by_one_gives_each_manager_once_in_enrolment_order(world):
    await with_dana(world)
    seen: list[str] = []
    params: dict[str, Any] = {"program": "CMM", "limit": 1}

    for _ in range(5):  # three managers: at most four pages
        page = await listed(world, world.cmm_auditor, **params)
        seen += ids(page)
        assert len(page["managers"]) <= 1
        if page["next_after"] is None:
            break
        params["after"] = page["next_after"]

    assert seen == ["m-1", "m-2", "m-3"]
    assert page["next_after"] is None


async def test_the_list_takes_up_to_500_per_page(shared_world):
    page = await listed(shared_world, shared_world.cmm_auditor, program="CMM", limit=500)

    assert ids(page)[:2] == ["m-1", "m-2"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"program": "CMM", "limit": 0}, "limit"),
        ({"program": "CMM", "limit": 501}, "limit"),
        ({"program": "CMM", "limit": "ten"}, "limit"),
        ({"program": "CMM", "after": -1}, "after"),
        ({"program": "CMM", "after": "m-1"}, "after"),
        ({"program": "CMM", "status": "sleeping"}, "status"),
        ({}, "program"),
    ],
    ids=[
        "limit 0",
        "limit 501",
        "limit in words",
        "a negative cursor",
        "a cursor that is not a position",
        "an unknown status",
        "an auditor without a program",
    ],
)
async def test_a_bad_list_query_is_a_422_naming_the_parameter(shared_world, params, field):
    response = await shared_world.api.managers(shared_world.cmm_auditor, **params)

    assert field in bad_fields(response)


@pytest.mark.parametrize("who", ["cmom_auditor", "tma", "m1"])
async def test_the_list_of_cmm_is_for_its_auditors_and_admins_only(shared_world, who):
    response = await shared_world.api.managers(getattr(shared_world, who), program="CMM")

    assert_problem(response, 403)


# -- one manager's profile --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["m1", "cmm_auditor", "cmom_auditor", "admin"])
async def test_a_manager_its_auditors_and_an_admin_read_its_profile(shared_world, who):
    response = await shared_world.api.profile(getattr(shared_world, who), "m-1")

    profile = await shared_world.api.ok(response, 200)
    assert set(profile) == {"manager_id", "name", "email", "enrolled_at", "certifications"}
    assert (profile["manager_id"], profile["name"], profile["email"]) == (
        "m-1",
        "m-1",
        "m-1@example.org",
    )
    assert profile["enrolled_at"].startswith("2026-06-15")
    # An auditor sees of m-1 only the certifications of its programs (SPEC 6, "Privacy").
    seen = {"cmm_auditor": ["CMM"], "cmom_auditor": ["CMOM"]}
    assert profile["certifications"] == seen.get(who, ["CMM", "CMOM"])


@pytest.mark.parametrize(
    "who",
    ["m1", "cmom_auditor", "tma"],
    ids=["another manager", "an auditor of none", "a provider"],
)
async def test_a_profile_is_refused_outside_ones_scope(shared_world, who):
    """m-2 holds CMM only: the CMOM auditor audits none of its programs."""
    response = await shared_world.api.profile(getattr(shared_world, who), "m-2")

    assert_problem(response, 403)


async def test_an_unknown_managers_profile_is_a_404(shared_world):
    response = await shared_world.api.profile(shared_world.admin, "m-9")

    assert "m-9" in assert_problem(response, 404)["detail"]


@pytest.mark.parametrize("who", ["m1", "admin"])  # only they change it (test_authorization.py)
async def test_a_profile_change_is_answered_with_the_new_profile(world, who):
    api = world.api

    response = await api.change_profile(getattr(world, who), "m-1", name="Ann Lee")

    changed = await api.ok(response, 200)
    assert (changed["manager_id"], changed["name"], changed["email"]) == (
        "m-1",
        "Ann Lee",
        "m-1@example.org",
    )
    assert await api.ok(await api.profile(world.m1, "m-1"), 200) == changed


async def test_a_new_email_shows_in_the_profile_and_the_search(world):
    api = world.api

    await api.ok(await api.change_profile(world.m2, "m-2", email="pat@practice.example"), 200)

    assert (await api.ok(await api.profile(world.m2, "m-2"), 200))["email"] == (
        "pat@practice.example"
    )
    assert ids(await listed(world, world.cmm_auditor, program="CMM", q="practice")) == ["m-2"]


async def test_a_profile_change_is_a_manager_profile_changed_event(world):
    api = world.api

    await api.ok(
        await api.change_profile(world.m1, "m-1", name="Ann Lee", email="ann@lee.example"), 200
    )

    head = await api.head()
    feed = await api.ok(await api.get("/v1/events", world.admin, after=head - 1), 200)
    [event] = feed["events"]
    assert (event["stream_id"], event["type"]) == ("manager-m-1", "manager_profile_changed")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({}, set()),
        ({"email": "not-an-email"}, {"email"}),
        ({"email": "x@localhost"}, {"email"}),
        ({"name": ""}, {"name"}),
        ({"name": "Ann", "phone": "555"}, {"phone"}),
    ],
    ids=["neither name nor email", "an email without an @", "an email without a domain",
         "an empty name", "an unknown field"],
)  # fmt: skip
async def test_a_bad_profile_change_is_a_422_and_nothing_is_stored(shared_world, changes, fields):
    api = shared_world.api
    head = await api.head()

    response = await api.change_profile(shared_world.m1, "m-1", **changes)

    assert bad_fields(response) >= fields
    assert await api.head() == head


async def test_changing_an_unknown_managers_profile_is_a_404(shared_world):
    response = await shared_world.api.change_profile(shared_world.admin, "m-9", name="X")

    assert "m-9" in assert_problem(response, 404)["detail"]


@pytest.mark.parametrize("who", ["m1", "cmom_auditor", "tma"])
async def test_a_profile_change_is_refused_outside_ones_scope(shared_world, who):
    api = shared_world.api
    head = await api.head()

    response = await api.change_profile(getattr(shared_world, who), "m-2", name="Mallory")

    assert_problem(response, 403)
    assert await api.head() == head
