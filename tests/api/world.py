"""Intent-named helpers for API tests (cosmicpython's e2e api_client, for this API)."""

from __future__ import annotations

from typing import Any

import msgspec
from httpx import Response
from litestar.testing import AsyncTestClient

ADMIN_TOKEN = "test-admin-token"


class Api:
    def __init__(self, client: AsyncTestClient) -> None:
        self.client = client

    @staticmethod
    def _auth(token: str | None) -> dict[str, str]:
        return {} if token is None else {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, token: str | None, **params: Any) -> Response:
        return await self.client.get(path, headers=self._auth(token), params=params or None)

    async def post(self, path: str, token: str | None, body: Any = None, **kwargs: Any) -> Response:
        return await self.client.post(path, headers=self._auth(token), json=body, **kwargs)

    async def token(self, role: str, **scope: Any) -> str:
        response = await self.post("/v1/tokens", ADMIN_TOKEN, {"role": role, **scope})
        assert response.status_code == 201, response.text
        return response.json()["token"]

    async def ok(self, response: Response, status: int = 201) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    async def post_completion(self, token: str, external_id: str, **changes: Any) -> Response:
        body = {
            "external_id": external_id,
            "manager_id": "m-1",
            "activity_id": "tma-billing",
            "completed_on": "2026-05-20",
            "ceus": "6",
        } | changes
        return await self.post("/v1/completions", token, body)


class World(msgspec.Struct, kw_only=True):
    """Providers `tma` (CMM, CMOM) and `mgma` (CMM); activities `tma-billing` (12 core CEUs,
    CMM and CMOM, May 2026) and `mgma-hr` (6 CEUs, CMM); managers m-1 (CMM since 2025-03-15,
    CMOM since 2025-09-30) and m-2 (CMM since 2024-06-01); one token per role."""

    api: Any
    admin: str
    tma: str
    mgma: str
    m1: str
    m2: str
    cmm_auditor: str
    cmom_auditor: str

    @classmethod
    async def build(cls, api: Api) -> World:
        admin = ADMIN_TOKEN
        for provider_id, programs in (("tma", ["CMM", "CMOM"]), ("mgma", ["CMM"])):
            await api.ok(
                await api.post(
                    "/v1/providers",
                    admin,
                    {"provider_id": provider_id, "name": provider_id.upper(), "programs": programs},
                )
            )
        world = cls(
            api=api,
            admin=admin,
            tma=await api.token("provider", provider_id="tma"),
            mgma=await api.token("provider", provider_id="mgma"),
            m1=await api.token("manager", manager_id="m-1"),
            m2=await api.token("manager", manager_id="m-2"),
            cmm_auditor=await api.token("auditor", programs=["CMM"]),
            cmom_auditor=await api.token("auditor", programs=["CMOM"]),
        )
        billing = {
            "activity_id": "tma-billing", "title": "Billing and coding update",
            "format": "workshop", "ceus": "12", "category": "core", "programs": ["CMM", "CMOM"],
            "starts_on": "2026-05-18", "ends_on": "2026-05-22",
        }  # fmt: skip
        hr = {
            "activity_id": "mgma-hr", "title": "HR for practice managers", "format": "online",
            "ceus": "6", "category": "general", "programs": ["CMM"],
            "starts_on": "2026-01-01", "ends_on": "2026-12-31",
        }  # fmt: skip
        await api.ok(await api.post("/v1/providers/tma/activities", world.tma, billing))
        await api.ok(await api.post("/v1/providers/mgma/activities", world.mgma, hr))
        for manager_id, certs in (
            ("m-1", [("CMM", "2025-03-15"), ("CMOM", "2025-09-30")]),
            ("m-2", [("CMM", "2024-06-01")]),
        ):
            await api.ok(
                await api.post(
                    "/v1/managers",
                    admin,
                    {
                        "manager_id": manager_id,
                        "name": manager_id,
                        "email": f"{manager_id}@example.org",
                    },
                )
            )
            for program, since in certs:
                await api.ok(
                    await api.post(
                        f"/v1/managers/{manager_id}/certifications",
                        admin,
                        {"program": program, "certified_on": since},
                    )
                )
        return world
