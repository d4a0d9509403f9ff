"""Browser tests: the real app under uvicorn on 127.0.0.1, on a fresh database with the demo
ledger, driven by Debian's Chromium through Playwright (installed with apt-get when missing;
Playwright's own browser downloads are never used)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from events.postgres.connection import create_pool
from events.store import utc_now
from ledger.access.tokens import TokenStore
from ledger.app.factory import create_app
from ledger.cli import SYSTEM
from ledger.demo import demo_ledger, seed_demo
from ledger.infra.database import service_login
from ledger.settings import Settings
from tests.conftest import fresh_database, system_command

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def chromium_executable() -> str:
    """Debian's Chromium (installed by `make test`'s setup; Playwright's downloads unused)."""
    return system_command("chromium", "chromium", also=("chromium-browser",))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot take signals
        pass

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Site:
    base_url: str
    tokens: dict[str, str]
    """demo identity (pat-ready, tma, PAHCOM, PMI, demo, ...) -> its token"""
    api: httpx.AsyncClient
    shots: list[str] = field(default_factory=list)

    async def api_get(self, who: str, path: str, **params: Any) -> Any:
        response = await self.api.get(
            path, params=params, headers={"Authorization": f"Bearer {self.tokens[who]}"}
        )
        assert response.status_code == 200, response.text
        return response.json()


@contextlib.asynccontextmanager
async def served(
    dsn: str, settings: Settings, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """The service on `dsn`, served by uvicorn in a thread on a free port (plain http: the
    session cookie is not Secure), with `settings` and its public URL; its base URL and a
    client of it."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = msgspec.structs.replace(settings, public_url=base_url)
    app = create_app(settings, await service_login(dsn), clock=clock)
    server = _ThreadServer(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped at start"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        await asyncio.sleep(0.05)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as api:
            yield base_url, api
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def chromium() -> str:
    return chromium_executable()


@pytest.fixture(scope="session")
async def site(admin_dsn: str, template_dsn: str) -> AsyncIterator[Site]:
    async with fresh_database(admin_dsn) as dsn:
        async with create_pool(dsn, min_size=1, max_size=2) as pool:
            identities = await seed_demo(demo_ledger(pool), TokenStore(pool), SYSTEM)
        async with served(dsn, Settings(poll_interval=0.05, pool_size=8)) as (base_url, api):
            yield Site(base_url, {subject: token for _, subject, token in identities}, api)


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        await browser.close()


class Visitor:
    """One person's browser: its requests are logged, so that a test can check that nothing
    left 127.0.0.1."""

    def __init__(self, page: Page, site: Site) -> None:
        self.page, self.site = page, site
        self.requests: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))

    async def login(self, who: str) -> None:
        await self.page.goto(self.site.base_url + "/login")
        await self.page.fill("#token", self.site.tokens[who])
        await self.page.click("button[type=submit]")
        await self.page.wait_for_load_state()

    def outside_requests(self) -> list[str]:
        prefix = self.site.base_url + "/"
        return [u for u in self.requests if not (u.startswith(prefix) or u.startswith("data:"))]


@pytest.fixture
async def visitor(browser: Browser, site: Site) -> AsyncIterator[Visitor]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield Visitor(page, site)
    await context.close()


@pytest.fixture
async def browser_visitors(browser: Browser, site: Site) -> AsyncIterator[tuple[Visitor, Visitor]]:
    """Two people at once, each in a browser context of their own (their own cookies)."""
    contexts = [await browser.new_context(viewport={"width": 1280, "height": 900}) for _ in "ab"]
    visitors = []
    for context in contexts:
        page = await context.new_page()
        page.set_default_timeout(15_000)
        visitors.append(Visitor(page, site))
    yield visitors[0], visitors[1]
    for context in contexts:
        await context.close()
