"""A token's life through the API: issued with a scope that must exist and an optional expiry,
listed (never its secret), used (last_used_at, written at most once a minute), revoked (at once,
in every API process) and expired (by the app's clock).

Today is 2026-06-15 14:30 UTC; the world has providers tma and mgma, managers m-1 and m-2, and
programs CMM and CMOM.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import running_app
from tests.api.world import ADMIN_TOKEN, Api, assert_problem, bad_fields

NOW = "2026-06-15T14:30:00Z"
ENTRY_FIELDS = {
    "token_id", "role", "provider_id", "manager_id", "programs", "created_at", "created_by",
    "last_used_at", "expires_at", "revoked_at",
}  # fmt: skip


async def issue(api: Api, **body: Any) -> dict[str, Any]:
    return await api.ok(await api.post("/v1/tokens", ADMIN_TOKEN, body))


async def entries(api: Api) -> dict[str, dict[str, Any]]:
    """The admin's token list, by token_id."""
    listed = await api.ok(await api.get("/v1/tokens", ADMIN_TOKEN), 200)
    return {entry["token_id"]: entry for entry in listed}


async def revoke(api: Api, token_id: str) -> Any:
    return await api.post(f"/v1/tokens/{token_id}/revoke", ADMIN_TOKEN)


async def works(api: Api, token: str) -> int:
    """The status a manager token of m-1 gets reading m-1's status."""
    return (await api.get("/v1/managers/m-1/status", token)).status_code


# -- issuing ----------------------------------------------------------------------------------


async def test_a_token_is_issued_with_its_expiry_and_an_entry_without_use_or_revocation(world):
    created = await issue(
        world.api, role="manager", manager_id="m-1", expires_at="2026-07-01T00:00:00+02:00"
    )

    assert set(created) == ENTRY_FIELDS | {"token"}
    assert created["expires_at"] == "2026-06-30T22:00:00Z"
    assert created["created_at"] == NOW
    assert (created["last_used_at"], created["revoked_at"]) == (None, None)
    assert await works(world.api, created["token"]) == 200


@pytest.mark.parametrize(
    "expires_at",
    ["2026-06-15T14:29:59Z", NOW, "2026-07-01T00:00:00", "2026-07-01", "next week"],
    ids=["a second ago", "now", "an instant without its zone", "a day", "words"],
)
async def test_an_expiry_that_is_not_a_future_instant_with_its_zone_is_a_422(
    shared_world, expires_at
):
    body = {"role": "manager", "manager_id": "m-1", "expires_at": expires_at}

    response = await shared_world.api.post("/v1/tokens", ADMIN_TOKEN, body)

    assert "expires_at" in bad_fields(response)


@pytest.mark.parametrize(
    ("scope", "field"),
    [
        ({"role": "provider", "provider_id": "ahima"}, "provider_id"),
        ({"role": "manager", "manager_id": "m-9"}, "manager_id"),
        ({"role": "auditor", "programs": ["CMM", "CPC"]}, "programs[1]"),
    ],
    ids=["an unknown provider", "an unknown manager", "an unknown program"],
)
async def test_a_token_for_a_scope_the_ledger_does_not_know_is_a_422_and_nothing_is_issued(
    world, scope, field
):
    before = await entries(world.api)

    response = await world.api.post("/v1/tokens", ADMIN_TOKEN, scope)

    assert bad_fields(response) == {field}
    assert await entries(world.api) == before


async def test_every_unknown_part_of_a_scope_and_a_past_expiry_are_named_together(world):
    body = {
        "role": "auditor",
        "programs": ["CPC", "CMM", "CRCM"],
        "expires_at": "2020-01-01T00:00:00Z",
    }

    response = await world.api.post("/v1/tokens", ADMIN_TOKEN, body)

    assert bad_fields(response) == {"programs[0]", "programs[2]", "expires_at"}


# -- listing ----------------------------------------------------------------------------------


async def test_the_admin_lists_every_token_with_its_scope_but_never_the_secret(world):
    created = await issue(world.api, role="auditor", programs=["CMM", "CMOM"])

    listed = await world.api.ok(await world.api.get("/v1/tokens", ADMIN_TOKEN), 200)

    assert all(set(entry) == ENTRY_FIELDS for entry in listed)
    mine = next(entry for entry in listed if entry["token_id"] == created["token_id"])
    assert mine == {k: v for k, v in created.items() if k != "token"}
    assert mine["programs"] == ["CMM", "CMOM"]
    [environment] = [entry for entry in listed if entry["created_by"] == "environment"]
    assert environment["role"] == "admin"
    assert mine["created_by"] == environment["token_id"]  # the admin who issued it
    assert created["token"] not in (await world.api.get("/v1/tokens", ADMIN_TOKEN)).text


@pytest.mark.parametrize("who", ["tma", "m1", "cmm_auditor"])
async def test_only_an_admin_lists_tokens(shared_world, who):
    response = await shared_world.api.get("/v1/tokens", getattr(shared_world, who))

    assert_problem(response, 403)


# -- using ------------------------------------------------------------------------------------


async def test_last_used_at_moves_at_most_once_a_minute(world, clock):
    api = world.api
    created = await issue(api, role="manager", manager_id="m-1")

    await works(api, created["token"])
    first = (await entries(api))[created["token_id"]]["last_used_at"]
    clock.advance(seconds=59)
    await works(api, created["token"])
    within_the_minute = (await entries(api))[created["token_id"]]["last_used_at"]
    clock.advance(seconds=1)
    await works(api, created["token"])
    a_minute_later = (await entries(api))[created["token_id"]]["last_used_at"]

    assert (first, within_the_minute, a_minute_later) == (NOW, NOW, "2026-06-15T14:31:00Z")


async def test_a_token_stops_working_when_the_app_clock_reaches_its_expiry(world, clock):
    api = world.api
    created = await issue(api, role="manager", manager_id="m-1", expires_at="2026-06-15T15:30:00Z")
    assert await works(api, created["token"]) == 200

    clock.advance(minutes=59, seconds=59)
    still = await works(api, created["token"])
    clock.advance(seconds=1)
    response = await api.get("/v1/managers/m-1/status", created["token"])

    assert still == 200
    assert "expired" in assert_problem(response, 401)["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


# -- revoking ---------------------------------------------------------------------------------


async def test_a_revoked_token_is_refused_at_once(world, clock):
    api = world.api
    created = await issue(api, role="manager", manager_id="m-1")
    assert await works(api, created["token"]) == 200
    clock.advance(seconds=5)

    revoked = await api.ok(await revoke(api, created["token_id"]), 200)

    assert revoked["revoked_at"] == "2026-06-15T14:30:05Z"
    assert revoked == (await entries(api))[created["token_id"]]
    assert_problem(await api.get("/v1/managers/m-1/status", created["token"]), 401)


async def test_revoking_twice_answers_the_first_revocation(world, clock):
    api = world.api
    created = await issue(api, role="provider", provider_id="tma")
    first = await api.ok(await revoke(api, created["token_id"]), 200)
    clock.advance(hours=1)

    again = await api.ok(await revoke(api, created["token_id"]), 200)

    assert again == first
    assert again["revoked_at"] == NOW


@pytest.mark.parametrize(
    "token_id",
    ["6f0c4f3e-2d7b-4c55-9a51-0c3e1c2b9d10", "not-a-token-id"],
    ids=["unknown", "no uuid"],
)
async def test_revoking_an_unknown_token_is_a_404(shared_world, token_id):
    assert_problem(await revoke(shared_world.api, token_id), 404)


async def test_a_token_revoked_in_one_api_process_is_refused_by_another_at_once(world, dsn, clock):
    api = world.api
    created = await issue(api, role="manager", manager_id="m-1")
    async with running_app(dsn, clock) as other_client:
        other = Api(other_client)
        assert await works(other, created["token"]) == 200

        await api.ok(await revoke(api, created["token_id"]), 200)

        assert_problem(await other.get("/v1/managers/m-1/status", created["token"]), 401)
