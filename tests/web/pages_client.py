"""A person's browser without a browser: Litestar's test client on the pages, keeping the
cookies it is given and sending each form's CSRF token back, as a browser does."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

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
from tests.api.world import ADMIN_TOKEN, Api, World
from tests.builders import SteppingClock

BASE = "http://testserver.local"
SECRET = "a session secret shared by every process: 32+ chars"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def pages(
    dsn: str, *, public_url: str | None = BASE, failures: FailureWindow | None = None
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = Settings(
        admin_token=Secret(ADMIN_TOKEN),
        session_secret=Secret(SECRET),
        public_url=public_url,
        poll_interval=0.05,
        pool_size=4,
    )
    clock = SteppingClock(datetime(2026, 6, 15, 14, 30, tzinfo=UTC))
    async with create_pool(dsn, min_size=1, max_size=2) as pool:  # what `serve` does at start
        await ensure_default_programs(Ledger(PostgresEventStore(pool, clock=clock)), SYSTEM)
    app = create_app(settings, await service_login(dsn), clock=clock, failures=failures)
    async with AsyncTestClient(app, base_url=BASE) as client:
        yield client


@contextlib.asynccontextmanager
async def web_world(dsn: str) -> AsyncIterator[World]:
    """The API tests' world, on an app whose pages run on plain http (cookies not Secure)."""
    async with pages(dsn) as client:
        yield await World.build(Api(client))


CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_of(page: Response) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF_FIELD.search(page.text)
    assert found is not None, f"no CSRF field on the page: {page.text[:500]}"
    return found.group(1)


async def submit(
    client: AsyncTestClient[Any], form_page: str, action: str, fields: dict[str, Any], **kw: Any
) -> Response:
    """Open `form_page`, then post `fields` with its CSRF token to `action` (no redirects
    followed, so that the answer itself can be looked at)."""
    page = await client.get(form_page)
    assert page.status_code == 200, page.text
    return await client.post(
        action, data={**fields, "_csrf_token": csrf_of(page)}, follow_redirects=False, **kw
    )


async def sign_in(client: AsyncTestClient[Any], token: str) -> Response:
    response = await submit(client, "/login", "/login", {"token": token})
    assert response.status_code == 303, response.text
    return response
