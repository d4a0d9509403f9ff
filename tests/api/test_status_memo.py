"""GET status memoises the assessment of an unchanged record (ledger/api/reads.py): asked
again, the same answer without assessing again; a new event, a new day or a rules revision
is assessed afresh (read-your-writes holds).  The world: m-1 holds CMM and CMOM."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.api import reads
from ledger.domain.assess import assess
from tests.api.world import World

RULES = {
    "effective_from": "2026-07-01", "cycle_months": 24, "required_ceus": "30",
    "categories": ["core", "general"], "category_minimums": {}, "grace_days": 45,
    "fee_cents": 9000,
}  # fmt: skip


@pytest.fixture
def assessed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The programs `Reads` assessed, in order (the real `assess`, counted)."""
    calls: list[str] = []

    def counted(cert: Any, *args: Any) -> Any:
        calls.append(cert.program)
        return assess(cert, *args)

    monkeypatch.setattr(reads, "assess", counted)
    return calls


async def status(world: World) -> dict[str, Any]:
    return await world.api.ok(await world.api.get("/v1/managers/m-1/status", world.m1), 200)


async def test_an_unchanged_record_is_not_assessed_again(world, assessed):
    first = await status(world)
    assert sorted(assessed) == ["CMM", "CMOM"]

    again = await status(world)

    assert again == first
    assert sorted(assessed) == ["CMM", "CMOM"]


async def test_a_new_posting_is_seen_at_once(world, assessed):
    before = await status(world)
    await world.api.ok(await world.api.post_completion(world.tma, "memo-1"))

    after = await status(world)

    assert len(assessed) == 4
    earned = {c["program"]: c["ceus_earned"] for c in after["certifications"]}
    assert earned != {c["program"]: c["ceus_earned"] for c in before["certifications"]}


async def test_a_new_day_is_judged_on_that_day(world, clock, assessed):
    before = await status(world)
    clock.advance(days=1)

    after = await status(world)

    assert len(assessed) == 4
    assert after["as_of"] == "2026-06-16"
    days = [c["days_to_deadline"] for c in after["certifications"]]
    assert days == [d - 1 for d in (c["days_to_deadline"] for c in before["certifications"])]


async def test_a_rules_revision_is_assessed_afresh(world, assessed):
    await status(world)
    await world.api.ok(await world.api.post("/v1/programs/CMM/rules", world.admin, RULES))

    await status(world)

    assert len(assessed) == 4


async def test_as_of_and_known_at_are_never_memoised(world, assessed):
    await status(world)
    path = "/v1/managers/m-1/status"
    for _ in range(2):
        await world.api.ok(await world.api.get(path, world.m1, as_of="2026-06-01"), 200)

    assert len(assessed) == 6
