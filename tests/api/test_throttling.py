"""Attack 9b of issue 16: bad bearer tokens are throttled per client address (SPEC 6: 429
with Retry-After after 10 failures a minute).  The window runs on a fake monotonic clock:
time moves without sleeping."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar.testing import AsyncTestClient

from ledger.app.factory import create_app
from ledger.http.throttle import FailureWindow
from ledger.infra.database import service_login
from ledger.settings import Secret, Settings
from tests.api.conftest import PUBLIC_URL
from tests.api.world import ADMIN_TOKEN


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def throttled_app(dsn: str, clock: FakeMonotonic) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = Settings(
        admin_token=Secret(ADMIN_TOKEN), poll_interval=0.05, pool_size=4, public_url=PUBLIC_URL
    )
    app = create_app(
        settings,
        await service_login(dsn),
        run_projectors=False,
        failures=FailureWindow(clock=clock),
    )
    async with AsyncTestClient(app) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_ten_bad_tokens_from_one_address_make_the_next_attempt_a_429_problem(dsn):
    clock = FakeMonotonic()
    async with throttled_app(dsn, clock) as client:
        for n in range(10):
            answer = await client.get("/v1/tokens", headers=bearer(f"ceu_guess{n}"))
            assert answer.status_code == 401

        refused = await client.get("/v1/tokens", headers=bearer(ADMIN_TOKEN))
        health = await client.get("/health")

    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["retry-after"] == "60"
    problem = refused.json()
    assert (problem["status"], problem["title"]) == (429, "Too Many Requests")
    assert "x-request-id" in refused.headers
    assert health.status_code == 200, "a request without a credential is never throttled"


async def test_the_window_slides_an_address_may_try_again_when_its_oldest_failure_leaves(dsn):
    clock = FakeMonotonic()
    async with throttled_app(dsn, clock) as client:
        for n in range(10):
            clock.now += 5
            await client.get("/v1/tokens", headers=bearer(f"ceu_guess{n}"))
        clock.now += 14  # the first failure (at 505) leaves the window at 565; now 564
        throttled = await client.get("/v1/tokens", headers=bearer(ADMIN_TOKEN))
        clock.now += 1
        allowed = await client.get("/v1/tokens", headers=bearer(ADMIN_TOKEN))
        clock.now += 0.5
        one_more_failure = await client.get("/v1/tokens", headers=bearer("ceu_wrong"))
        again = await client.get("/v1/tokens", headers=bearer(ADMIN_TOKEN))

    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "1")
    assert allowed.status_code == 200
    assert one_more_failure.status_code == 401
    assert again.status_code == 429, "ten failures within the last minute again"


async def test_good_tokens_and_requests_without_a_token_are_not_failures(dsn):
    clock = FakeMonotonic()
    async with throttled_app(dsn, clock) as client:
        answers = [await client.get("/v1/tokens", headers=bearer(ADMIN_TOKEN)) for _ in range(12)]
        answers += [await client.get("/v1/tokens") for _ in range(12)]

    assert [a.status_code for a in answers] == [200] * 12 + [401] * 12


def test_each_address_has_its_own_window():
    clock = FakeMonotonic()
    window = FailureWindow(clock=clock)
    for _ in range(10):
        window.failed("192.0.2.1")

    assert window.wait("192.0.2.1") == 60
    assert window.wait("192.0.2.2") == 0
