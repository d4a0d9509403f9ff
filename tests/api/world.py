"""Intent-named helpers for API tests (cosmicpython's e2e api_client, for this API), the app
they drive, and the world they share (built once per session into a template database)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec
from httpx import Response
from litestar.testing import AsyncTestClient

from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.app.factory import create_app
from ledger.cli import SYSTEM
from ledger.commands import Ledger
from ledger.commands.catalogue import ensure_default_programs
from ledger.http.throttle import FailureWindow
from ledger.infra.database import service_login
from ledger.settings import Secret, Settings
from tests.builders import SteppingClock

ADMIN_TOKEN = "test-admin-token"

T = TypeVar("T")

START = datetime(2026, 6, 15, 14, 30, tzinfo=UTC)
"""Where every API test's clock starts (and the clock the world template is built on)."""

PUBLIC_URL = "http://testserver.local"
"""The test client's own address, passed as LEDGER_PUBLIC_URL (the app requires one)."""


SETTINGS = Settings(
    admin_token=Secret(ADMIN_TOKEN), poll_interval=0.05, pool_size=8, public_url=PUBLIC_URL
)
"""The settings of every API test's app."""


async def _default_programs(dsn: str, clock: SteppingClock) -> None:
    """What `serve` does at start, before the app."""
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        await ensure_default_programs(
            Ledger(PostgresEventStore(pool, clock=clock), clock=clock), SYSTEM
        )


@contextlib.asynccontextmanager
async def running_app(dsn: str, clock: SteppingClock) -> AsyncIterator[AsyncTestClient]:
    """A new app (create_app) on the database at `dsn`, started, on `clock`."""
    await _default_programs(dsn, clock)
    # Migrated as the owner (the template); served as the service's role, as `serve` does.
    app = create_app(SETTINGS, await service_login(dsn), clock=clock)
    async with AsyncTestClient(app) as client:
        yield client


class _PerTestFailures(FailureWindow):
    """The failed logins of the current test only: a new window for each test."""

    def __init__(self) -> None:
        super().__init__()
        self.current = FailureWindow()

    def wait(self, address: str) -> float:
        return self.current.wait(address)

    def failed(self, address: str) -> None:
        self.current.failed(address)


class ReusedApp:
    """One app for every test that takes `client`, started and stopped for each test exactly
    as a new one would be (its pool, projectors and reminders live in the lifespan), instead
    of a create_app per test: building the app (Litestar registering ~180 routes) took about
    half of an API test's setup.  It is bound to one database name (`dsn` of tests.conftest,
    APP_DATABASE), which each test drops and copies again from its template; its clock and
    its window of failed logins are the current test's."""

    def __init__(self, login_dsn: str) -> None:
        self.clock = SteppingClock(START)
        self.failures = _PerTestFailures()
        self.dsn = login_dsn
        self.app = create_app(SETTINGS, login_dsn, clock=self.now, failures=self.failures)

    def now(self) -> datetime:
        return self.clock()

    @contextlib.asynccontextmanager
    async def running(self, dsn: str, clock: SteppingClock) -> AsyncIterator[AsyncTestClient]:
        """The app on the database at `dsn` (the owner's DSN of the name the app is bound to),
        started on `clock`, with no failed logins."""
        if urlsplit(dsn).path != urlsplit(self.dsn).path:
            raise ValueError(f"the reused app serves {self.dsn}, not {dsn}")
        await _default_programs(dsn, clock)
        self.clock, self.failures.current = clock, FailureWindow()
        async with AsyncTestClient(self.app) as client:
            yield client


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

    async def unchecked_token(self, role: str, **scope: Any) -> str:
        """A token issued past the API's checks, as the CLI or an older version could have
        done: the only way to meet a scope the ledger does not know (a program it never had).
        Made by the app's own TokenStore, on the app's loop."""
        create = functools.partial(
            self.client.app.state.tokens.create, role=role, created_by="test", **scope
        )
        return self.client.blocking_portal.call(create).token

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

    async def activity(self, token: str, provider_id: str, activity_id: str, **changes: Any) -> Any:
        """Register an activity of `provider_id`: like `tma-billing` (a workshop of up to 12
        core CEUs for CMM and CMOM, 2026-05-18..22) unless `changes` say otherwise.  An activity
        counts once per cycle, so a test whose postings must all count gives each its own."""
        body = {
            "activity_id": activity_id, "title": f"Activity {activity_id}", "format": "workshop",
            "ceus": "12", "category": "core", "programs": ["CMM", "CMOM"],
            "starts_on": "2026-05-18", "ends_on": "2026-05-22",
        } | changes  # fmt: skip
        path = f"/v1/providers/{provider_id}/activities"
        return await self.ok(await self.post(path, token, body))

    async def post_raw(
        self, path: str, token: str | None, content: bytes, content_type: str
    ) -> Response:
        """A body sent as given: malformed JSON, CSV, an oversize body."""
        headers = self._auth(token) | {"Content-Type": content_type}
        return await self.client.post(path, headers=headers, content=content)

    async def post_csv(self, path: str, token: str | None, text: str) -> Response:
        return await self.post_raw(path, token, text.encode(), "text/csv")

    async def head(self) -> int:
        """The position of the last event in the log (from /health)."""
        return (await self.ok(await self.get("/health", None), 200))["head_position"]

    async def certification(self, token: str, manager_id: str, program: str, **params: Any) -> Any:
        """One certification's entry of the manager's status."""
        path = f"/v1/managers/{manager_id}/status"
        status = await self.ok(await self.get(path, token, **params), 200)
        return next(c for c in status["certifications"] if c["program"] == program)

    async def enrol(self, manager_id: str, **certifications: str) -> str:
        """Enrol a manager holding `program=certified_on` certifications; their token."""
        body = {"manager_id": manager_id, "name": manager_id, "email": f"{manager_id}@example.org"}
        await self.ok(await self.post("/v1/managers", ADMIN_TOKEN, body))
        for program, since in certifications.items():
            path = f"/v1/managers/{manager_id}/certifications"
            body = {"program": program, "certified_on": since}
            await self.ok(await self.post(path, ADMIN_TOKEN, body))
        return await self.token("manager", manager_id=manager_id)

    async def pay_fee(self, manager_id: str, program: str, cents: int = 7500) -> Any:
        body = {"program": program, "amount_cents": cents, "reference": f"check {manager_id}"}
        return await self.ok(await self.post(f"/v1/managers/{manager_id}/fees", ADMIN_TOKEN, body))

    async def file_renewal(self, token: str, manager_id: str, program: str) -> Response:
        return await self.post(f"/v1/managers/{manager_id}/renewals", token, {"program": program})

    # -- the routes of SPEC 6 added with issue 8 ------------------------------------------

    async def enrol_person(
        self, manager_id: str, name: str, email: str, **certifications: str
    ) -> str:
        """Enrol a manager with a name and an email of its own, holding `program=certified_on`
        certifications; its token."""
        body = {"manager_id": manager_id, "name": name, "email": email}
        await self.ok(await self.post("/v1/managers", ADMIN_TOKEN, body))
        for program, since in certifications.items():
            path = f"/v1/managers/{manager_id}/certifications"
            await self.ok(
                await self.post(path, ADMIN_TOKEN, {"program": program, "certified_on": since})
            )
        return await self.token("manager", manager_id=manager_id)

    async def revoke_certification(
        self, token: str | None, manager_id: str, program: str, reason: str = "failed audit"
    ) -> Response:
        path = f"/v1/managers/{manager_id}/certifications/{program}/revoke"
        return await self.post(path, token, {"reason": reason})

    async def reinstate_certification(
        self, token: str | None, manager_id: str, program: str, reason: str = "appeal upheld"
    ) -> Response:
        path = f"/v1/managers/{manager_id}/certifications/{program}/reinstate"
        return await self.post(path, token, {"reason": reason})

    async def extend_certification(
        self,
        token: str | None,
        manager_id: str,
        program: str,
        ends_on: str,
        reason: str = "medical leave",
    ) -> Response:
        path = f"/v1/managers/{manager_id}/certifications/{program}/extensions"
        return await self.post(path, token, {"ends_on": ends_on, "reason": reason})

    async def managers(self, token: str | None, **params: Any) -> Response:
        """GET /v1/managers with these filters."""
        return await self.get("/v1/managers", token, **params)

    async def profile(self, token: str | None, manager_id: str) -> Response:
        return await self.get(f"/v1/managers/{manager_id}", token)

    async def change_profile(self, token: str | None, manager_id: str, **changes: Any) -> Response:
        return await self.post(f"/v1/managers/{manager_id}/profile", token, changes)

    async def refund(
        self, token: str | None, fee_id: str, amount_cents: Any, reason: str = "paid twice"
    ) -> Response:
        body = {"amount_cents": amount_cents, "reason": reason}
        return await self.post(f"/v1/fees/{fee_id}/refund", token, body)

    async def postings(self, token: str | None, provider_id: str, **params: Any) -> Response:
        """A provider's own postings (GET /v1/providers/{provider_id}/completions)."""
        return await self.get(f"/v1/providers/{provider_id}/completions", token, **params)

    async def explain(self, token: str, manager_id: str, program: str) -> dict[str, Any]:
        """Each completion's allocation in the manager's explained status, by completion id."""
        path = f"/v1/managers/{manager_id}/status/explain"
        explained = await self.ok(await self.get(path, token, program=program), 200)
        return {a["completion_id"]: a for a in explained["allocations"]}


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem with this status; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def bad_fields(response: Response) -> set[str]:
    """The fields a 422 names."""
    body = assert_problem(response, 422)
    assert body["errors"], body
    return {e["field"] for e in body["errors"]}


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

    def on(self, client: AsyncTestClient) -> World:
        """This world (its tokens), driven through `client`: an app on a copy of the database
        it was built on."""
        return msgspec.structs.replace(self, api=Api(client))

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
        # Managers before their tokens: a token's scope must exist.
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
        return world


async def settled(api: Api) -> None:
    """Wait until every projection has caught up with the log's head (GET /health)."""
    health: Any = None
    for _ in range(400):
        health = await api.ok(await api.get("/health", None), 200)
        if all(p["lag"] == 0 for p in health["projections"].values()):
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"the projections did not catch up: {health}")


async def build_template(dsn: str, build: Callable[[Api], Awaitable[T]]) -> T:
    """Run `build` on the database at `dsn` exactly as a test would (the same app, clock and
    requests), wait until its projections have caught up, check its hash chain, and stop the
    app, so that the database can be copied (a template takes no connections).  What `build`
    returned."""
    async with running_app(dsn, SteppingClock(START)) as client:
        api = Api(client)
        built = await build(api)
        await settled(api)
        chain = await api.ok(await api.get("/v1/ledger/verify", ADMIN_TOKEN), 200)
        assert chain["ok"], chain
        assert chain["head_position"] == await api.head(), chain
    return built


async def build_world_template(dsn: str) -> World:
    """Build the world on the database at `dsn` (a copy of the migrated template): its tokens,
    without an `api` (see `World.on`)."""
    world = await build_template(dsn, World.build)
    return msgspec.structs.replace(world, api=None)
