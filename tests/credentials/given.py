"""A renewal approved through the API, for the credential and document tests."""

from __future__ import annotations

from typing import Any

from tests.api.world import World


async def filed_cmom_renewal(world: World) -> str:
    """m-1 completes 12 core CEUs (CMOM cycle 1: 2025-09-30 to 2026-09-30), pays the fee
    and files the CMOM renewal; its id."""
    api = world.api
    await api.ok(await api.post_completion(world.tma, "cred-billing", ceus="12"))
    await api.pay_fee("m-1", "CMOM")
    filed = await api.ok(await api.file_renewal(world.m1, "m-1", "CMOM"))
    return filed["renewal_id"]


async def decide(world: World, renewal_id: str, decision: str = "approve") -> Any:
    body = {"decision": decision, "reason": "evidence complete"}
    path = f"/v1/renewals/{renewal_id}/decision"
    return await world.api.ok(await world.api.post(path, world.cmom_auditor, body), 200)


async def approved_cmom_renewal(world: World) -> str:
    renewal_id = await filed_cmom_renewal(world)
    await decide(world, renewal_id)
    return renewal_id


async def credential_of(world: World, renewal_id: str, token: str | None = None) -> Any:
    path = f"/v1/renewals/{renewal_id}/credential"
    return await world.api.ok(await world.api.get(path, token or world.m1), 200)
