"""The rule changes of SPEC 2-3 through the API: a closed list of categories per program, an
activity counted once per cycle (a repeat is explained, not counted), and the same manager,
activity and day posted again under another external_id refused as a 409 (in a roster too).

The world: tma-billing (12 core CEUs, CMM and CMOM, 2026-05-18..22); m-1 holds CMM (cycle 1
2025-03-15..2027-03-15) and CMOM (cycle 1 2025-09-30..2026-09-30).  Today is 2026-06-15.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.world import World, assert_problem, bad_fields


def activity(**changes: Any) -> dict[str, Any]:
    return {
        "activity_id": "tma-coding", "title": "Coding clinic", "format": "webinar",
        "ceus": "2", "category": "core", "programs": ["CMOM"],
        "starts_on": "2026-04-01", "ends_on": "2026-04-30",
    } | changes  # fmt: skip


async def posted(world: World, external_id: str, **changes: Any) -> dict[str, Any]:
    return await world.api.ok(await world.api.post_completion(world.tma, external_id, **changes))


# -- categories -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "programs"),
    [("Core", ["CMOM"]), ("CORE", ["CMM", "CMOM"]), ("coding", ["CMM"]), ("core ", ["CMOM"])],
    ids=["Core for CMOM", "CORE for CMM and CMOM", "a category no program names", "a space"],
)
async def test_a_category_not_spelled_as_the_program_names_it_is_a_422_listing_the_allowed_ones(
    shared_world, category, programs
):
    api = shared_world.api
    head = await api.head()
    body = activity(activity_id=f"tma-{len(programs)}-{category.strip()}", category=category,
                    programs=programs)  # fmt: skip

    response = await api.post("/v1/providers/tma/activities", shared_world.tma, body)

    assert bad_fields(response) == {"category"}
    [error] = response.json()["errors"]
    assert "core" in error["message"]
    assert "general" in error["message"]
    assert await api.head() == head


@pytest.mark.parametrize("category", ["core", "general"])
async def test_a_category_spelled_exactly_is_accepted(world, category):
    response = await world.api.post(
        "/v1/providers/tma/activities", world.tma, activity(category=category)
    )

    assert (await world.api.ok(response, 201))["category"] == category


# -- the same day again under another external_id ---------------------------------------------


async def test_the_same_manager_activity_and_day_under_another_external_id_is_a_409(world):
    api = world.api
    first = await posted(world, "row-1", ceus="6")
    head = await api.head()

    response = await api.post_completion(world.tma, "row-1-again", ceus="6")

    problem = assert_problem(response, 409)
    assert first["id"] in problem["detail"] or "row-1" in problem["detail"]
    assert await api.head() == head


async def test_the_same_day_again_is_a_409_whatever_the_ceus(world):
    await posted(world, "row-1", ceus="6")

    response = await world.api.post_completion(world.tma, "row-2", ceus="3")

    assert_problem(response, 409)


async def test_two_lines_of_one_roster_for_the_same_manager_activity_and_day_are_a_409(world):
    api = world.api
    line = {"manager_id": "m-1", "activity_id": "tma-billing", "completed_on": "2026-05-20"}
    items = [
        line | {"external_id": "row-1", "ceus": "6"},
        line | {"external_id": "row-2", "ceus": "6"},
    ]

    response = await api.post("/v1/completions/batch", world.tma, {"items": items})

    result = await api.ok(response, 200)
    assert [r["status"] for r in result["results"]] == ["created", "rejected"]
    assert result["results"][1]["error"]["status"] == 409
    assert (result["created"], result["rejected"]) == (1, 1)
    assert (await api.certification(world.m1, "m-1", "CMOM"))["ceus_earned"] == "6.00"


async def test_a_roster_line_for_a_day_already_posted_one_by_one_is_a_409(world):
    api = world.api
    await posted(world, "row-1", ceus="6")
    item = {"external_id": "row-2", "manager_id": "m-1", "activity_id": "tma-billing",
            "completed_on": "2026-05-20", "ceus": "6"}  # fmt: skip

    result = await api.ok(
        await api.post("/v1/completions/batch", world.tma, {"items": [item]}), 200
    )

    [line] = result["results"]
    assert (line["status"], line["error"]["status"]) == ("rejected", 409)


# -- an activity counts once per cycle --------------------------------------------------------


async def test_a_second_completion_of_an_activity_in_the_same_cycle_is_recorded_as_a_repeat(world):
    api = world.api
    first = await posted(world, "row-1", completed_on="2026-05-20", ceus="6")
    before = await api.certification(world.m1, "m-1", "CMOM")

    response = await api.post_completion(world.tma, "row-2", completed_on="2026-05-21", ceus="6")

    second = await api.ok(response, 201)
    after = await api.certification(world.m1, "m-1", "CMOM")
    assert after["ceus_earned"] == before["ceus_earned"] == "6.00"
    why = await api.explain(world.m1, "m-1", "CMOM")
    assert (why[first["id"]]["counted"], why[first["id"]]["reason"]) == (True, None)
    assert (why[second["id"]]["counted"], why[second["id"]]["reason"]) == (False, "repeat")


async def test_a_repeat_counts_for_no_program_of_the_cycle(world):
    """tma-billing counts for CMM and CMOM: the repeat is explained in both."""
    api = world.api
    await posted(world, "row-1", completed_on="2026-05-20", ceus="6")
    second = await posted(world, "row-2", completed_on="2026-05-22", ceus="6")

    for program in ("CMM", "CMOM"):
        why = await api.explain(world.m1, "m-1", program)
        assert why[second["id"]]["reason"] == "repeat", program
        assert (await api.certification(world.m1, "m-1", program))["ceus_earned"] == "6.00"


async def test_when_the_counted_completion_is_voided_the_repeat_counts_instead(world):
    api = world.api
    first = await posted(world, "row-1", completed_on="2026-05-20", ceus="6")
    second = await posted(world, "row-2", completed_on="2026-05-21", ceus="4")

    path = f"/v1/completions/{first['id']}/void"
    await api.ok(await api.post(path, world.tma, {"reason": "posted for the wrong person"}), 200)

    why = await api.explain(world.m1, "m-1", "CMOM")
    assert (why[second["id"]]["counted"], why[second["id"]]["reason"]) == (True, None)
    assert (await api.certification(world.m1, "m-1", "CMOM"))["ceus_earned"] == "4.00"
