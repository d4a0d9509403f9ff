"""The world builds, and a provider's posting shows in the manager's status at once."""

from __future__ import annotations


async def test_a_posting_shows_in_the_managers_status_immediately(world):
    api = world.api
    receipt = await api.ok(await api.post_completion(world.tma, "row-1", ceus="12"))

    status = await api.ok(await api.get("/v1/managers/m-1/status", world.m1), 200)

    cmm = next(c for c in status["certifications"] if c["program"] == "CMM")
    assert cmm["ceus_earned"] == "12.00"
    assert receipt["manager_id"] == "m-1"


async def test_known_at_without_a_time_zone_is_read_as_utc(world, clock):
    api = world.api
    before = clock.now.replace(tzinfo=None).isoformat()  # 2026-06-15T14:30:00, no zone
    clock.advance(minutes=1)
    await api.ok(await api.post_completion(world.tma, "row-1", ceus="12"))

    then = await api.ok(await api.get("/v1/managers/m-1/status", world.m1, known_at=before), 200)
    now = await api.ok(await api.get("/v1/managers/m-1/status", world.m1), 200)

    earned = {c["program"]: c["ceus_earned"] for c in then["certifications"]}
    assert earned["CMM"] == "0"
    assert {c["program"]: c["ceus_earned"] for c in now["certifications"]}["CMM"] == "12.00"
