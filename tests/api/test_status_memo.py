"""GET status memoises the assessment of an unchanged record (ledger/queries/reads.py): asked
again, the same answer without assessing again; a new event, a new day or a rules revision
is assessed afresh (read-your-writes holds).  The world: m-1 holds CMM and CMOM."""

from __future__ import annotations

from typing import Any

from tests.api.world import World

RULES = {
    "effective_from": "2026-07-01", "cycle_months": 24, "required_ceus": "30",
    "categories": ["core", "general"], "category_minimums": {}, "grace_days": 45,
    "fee_cents": 9000,
}  # fmt: skip


def assessed(world: World) -> int:
    """How many certifications the app's `Reads` has assessed so far."""
    return world.api.client.app.state.reads.assessed


async def status(world: World) -> dict[str, Any]:
    return await world.api.ok(await world.api.get("/v1/managers/m-1/status", world.m1), 200)


async def test_an_unchanged_record_is_not_assessed_again(world):
    first = await status(world)
    assert assessed(world) == 2  # CMM and CMOM

    again = await status(world)

    assert again == first
    assert assessed(world) == 2


async def test_a_new_posting_is_seen_at_once(world):
    before = await status(world)
    await world.api.ok(await world.api.post_completion(world.tma, "memo-1"))

    after = await status(world)

    assert assessed(world) == 4
    earned = {c["program"]: c["ceus_earned"] for c in after["certifications"]}
    assert earned != {c["program"]: c["ceus_earned"] for c in before["certifications"]}


async def test_a_new_day_is_judged_on_that_day(world, clock):
    before = await status(world)
    clock.advance(days=1)

    after = await status(world)

    assert assessed(world) == 4
    assert after["as_of"] == "2026-06-16"
    days = [c["days_to_deadline"] for c in after["certifications"]]
    assert days == [d - 1 for d in (c["days_to_deadline"] for c in before["certifications"])]


async def test_a_rules_revision_is_assessed_afresh(world):
    await status(world)
    await world.api.ok(await world.api.post("/v1/programs/CMM/rules", world.admin, RULES))

    await status(world)

    assert assessed(world) == 4


async def test_as_of_and_known_at_are_never_memoised(world):
    await status(world)
    path = "/v1/managers/m-1/status"
    for _ in range(2):
        await world.api.ok(await world.api.get(path, world.m1, as_of="2026-06-01"), 200)

    assert assessed(world) == 6
