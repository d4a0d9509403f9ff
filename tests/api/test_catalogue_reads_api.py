"""The catalogue for everyone (who offers what, and what counts toward a requirement) and a
provider's own postings.

The world: providers tma (CMM, CMOM) and mgma (CMM); activities tma-billing (12 core CEUs, CMM
and CMOM, 2026-05-18..22) and mgma-hr (6 general CEUs, CMM, all of 2026).  Today is 2026-06-15.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.api.world import World, assert_problem, bad_fields

BILLING = {
    "activity_id": "tma-billing", "provider_id": "tma", "title": "Billing and coding update",
    "format": "workshop", "ceus": "12", "category": "core", "programs": ["CMM", "CMOM"],
    "starts_on": "2026-05-18", "ends_on": "2026-05-22",
}  # fmt: skip
HR = {
    "activity_id": "mgma-hr", "provider_id": "mgma", "title": "HR for practice managers",
    "format": "online", "ceus": "6", "category": "general", "programs": ["CMM"],
    "starts_on": "2026-01-01", "ends_on": "2026-12-31",
}  # fmt: skip
ROLES = ["admin", "tma", "m1", "cmom_auditor"]


async def activities(world: World, **params: Any) -> list[str]:
    response = await world.api.get("/v1/activities", world.m1, **params)
    return sorted(a["activity_id"] for a in await world.api.ok(response, 200))


# -- providers and activities -----------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
async def test_every_role_reads_the_providers_sorted_by_id(shared_world, who):
    response = await shared_world.api.get("/v1/providers", getattr(shared_world, who))

    assert await shared_world.api.ok(response, 200) == [
        {"provider_id": "mgma", "name": "MGMA", "programs": ["CMM"]},
        {"provider_id": "tma", "name": "TMA", "programs": ["CMM", "CMOM"]},
    ]


@pytest.mark.parametrize("who", ROLES)
async def test_every_role_reads_the_activities_with_their_terms(shared_world, who):
    response = await shared_world.api.get("/v1/activities", getattr(shared_world, who))

    listed = await shared_world.api.ok(response, 200)
    by_id = {a["activity_id"]: a for a in listed}
    assert set(by_id) == {"tma-billing", "mgma-hr"}
    assert {**by_id["tma-billing"], "ceus": Decimal(by_id["tma-billing"]["ceus"])} == {
        **BILLING,
        "ceus": Decimal("12"),
    }
    assert {**by_id["mgma-hr"], "ceus": Decimal(by_id["mgma-hr"]["ceus"])} == {
        **HR,
        "ceus": Decimal("6"),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"program": "CMOM"}, ["tma-billing"]),
        ({"program": "CMM"}, ["mgma-hr", "tma-billing"]),
        ({"category": "general"}, ["mgma-hr"]),
        ({"program": "CMM", "category": "core"}, ["tma-billing"]),
        ({"program": "CMOM", "category": "general"}, []),
        ({"q": "BILLING"}, ["tma-billing"]),
        ({"q": "for practice"}, ["mgma-hr"]),
        ({"q": "mgma-"}, ["mgma-hr"]),
        ({"q": "ethics"}, []),
        ({"program": "CMM", "category": "core", "q": "coding"}, ["tma-billing"]),
    ],
    ids=[
        "what counts for CMOM",
        "what counts for CMM",
        "a category",
        "a program and a category",
        "nothing of that category for that program",
        "a word of a title in capitals",
        "words of a title",
        "part of an id",
        "no match",
        "all three filters",
    ],
)
async def test_the_activities_are_filtered_by_program_category_and_text(
    shared_world, params, expected
):
    assert await activities(shared_world, **params) == expected


async def test_a_newly_registered_activity_is_in_the_catalogue(world):
    ethics = {
        "activity_id": "tma-ethics", "title": "Ethics in the front office", "format": "webinar",
        "ceus": "1.5", "category": "general", "programs": ["CMM"],
        "starts_on": "2026-06-01", "ends_on": "2026-06-30",
    }  # fmt: skip
    await world.api.ok(await world.api.post("/v1/providers/tma/activities", world.tma, ethics))

    assert await activities(world, q="ethics") == ["tma-ethics"]


@pytest.mark.parametrize("path", ["/v1/providers", "/v1/activities"])
async def test_the_catalogue_needs_a_token(shared_world, path):
    assert_problem(await shared_world.api.get(path, None), 401)


# -- a provider's own postings ----------------------------------------------------------------


async def post(world: World, token: str, external_id: str, **changes: Any) -> str:
    response = await world.api.post_completion(token, external_id, **changes)
    return (await world.api.ok(response))["id"]


async def postings(world: World, token: str, provider_id: str = "tma", **params: Any) -> Any:
    return await world.api.ok(await world.api.postings(token, provider_id, **params), 200)


async def test_a_provider_reads_its_own_postings_in_position_order(world):
    first = await post(world, world.tma, "row-1", ceus="6")
    await post(world, world.mgma, "hr-1", activity_id="mgma-hr", completed_on="2026-03-02")
    second = await post(world, world.tma, "row-2", manager_id="m-2", ceus="4")

    page = await postings(world, world.tma)

    assert page["next_after"] is None
    assert [c["id"] for c in page["completions"]] == [first, second]
    one = page["completions"][0]
    assert set(one) == {
        "id", "external_id", "manager_id", "activity_id", "activity_title", "completed_on",
        "ceus", "position", "recorded_at", "voided", "amended",
    }  # fmt: skip
    assert (one["external_id"], one["manager_id"], one["activity_id"], one["activity_title"]) == (
        "row-1",
        "m-1",
        "tma-billing",
        "Billing and coding update",
    )
    assert (one["completed_on"], Decimal(one["ceus"])) == ("2026-05-20", Decimal("6"))
    assert (one["voided"], one["amended"], one["recorded_at"]) == (
        False,
        False,
        "2026-06-15T14:30:00Z",
    )
    positions = [c["position"] for c in page["completions"]]
    assert positions == sorted(positions)


async def test_a_providers_postings_show_what_was_voided_or_amended(world):
    api = world.api
    voided = await post(world, world.tma, "row-1", ceus="2", completed_on="2026-05-19")
    amended = await post(world, world.tma, "row-2", ceus="3", completed_on="2026-05-20")
    await api.ok(
        await api.post(f"/v1/completions/{voided}/void", world.tma, {"reason": "absent"}), 200
    )
    body = {"reason": "left early", "ceus": "2.5"}
    await api.ok(await api.post(f"/v1/completions/{amended}/amend", world.tma, body), 200)

    page = await postings(world, world.tma)

    state = {c["id"]: (c["voided"], c["amended"]) for c in page["completions"]}
    assert state == {voided: (True, False), amended: (False, True)}


async def test_a_providers_postings_filter_by_manager(world):
    await post(world, world.tma, "row-1")
    other = await post(world, world.tma, "row-2", manager_id="m-2")

    page = await postings(world, world.tma, manager_id="m-2")

    assert [c["id"] for c in page["completions"]] == [other]


async def test_a_providers_postings_come_in_pages(world):
    days = ("2026-05-18", "2026-05-19", "2026-05-20")  # one completion of an activity a day
    ids = [
        await post(world, world.tma, f"row-{n}", ceus="1", completed_on=d)
        for n, d in enumerate(days)
    ]

    first = await postings(world, world.tma, limit=2)
    second = await postings(world, world.tma, limit=2, after=first["next_after"])

    assert [c["id"] for c in first["completions"]] == ids[:2]
    assert first["next_after"] == first["completions"][-1]["position"]
    assert [c["id"] for c in second["completions"]] == ids[2:]
    assert second["next_after"] is None


async def test_an_admin_reads_any_providers_postings(world):
    posted = await post(world, world.mgma, "hr-1", activity_id="mgma-hr", completed_on="2026-03-02")

    page = await postings(world, world.admin, "mgma")

    assert [c["id"] for c in page["completions"]] == [posted]


@pytest.mark.parametrize("who", ["mgma", "m1", "cmm_auditor"])
async def test_a_providers_postings_are_its_own_and_an_admins_only(shared_world, who):
    response = await shared_world.api.postings(getattr(shared_world, who), "tma")

    assert_problem(response, 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "all"}, "limit"),
        ({"after": -1}, "after"),
        ({"after": "row-1"}, "after"),
    ],
    ids=["limit 0", "limit 501", "limit in words", "a negative cursor", "a cursor in words"],
)
async def test_a_bad_postings_query_is_a_422_naming_the_parameter(shared_world, params, field):
    response = await shared_world.api.postings(shared_world.tma, "tma", **params)

    assert field in bad_fields(response)
