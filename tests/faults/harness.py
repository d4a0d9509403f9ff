"""What the fault tests share: the server process, a small world to post into, figures."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.faults.launcher import ADMIN_TOKEN

__all__ = [
    "ADMIN_TOKEN",
    "ACTIVITY",
    "Server",
    "Tally",
    "completion_counts",
    "figures",
    "free_port",
    "post_until_acknowledged",
    "posting",
    "seed",
    "wait_for",
]

ACTIVITY = "fault-course"
ACTIVITIES, DAYS, FIRST_DAY = 20, 300, date(2026, 1, 1)
"""Each manager's postings take activity n // DAYS on day n % DAYS: 6,000 distinct ones."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def figures(test: str, **values: Any) -> None:
    """The figures of a fault test, one line (shown by `pytest -s`; docs/faults.md)."""
    print(f"\nFAULT {test}: " + ", ".join(f"{k}={v}" for k, v in values.items()), flush=True)


class Server:
    """`tests.faults.launcher` as a child process on 127.0.0.1:`port`."""

    def __init__(
        self, dsn: str, log: Path, *, projectors: bool = True, replicas: tuple[str, ...] = ()
    ) -> None:
        self.dsn, self.log, self.projectors, self.replicas = dsn, log, projectors, replicas
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        args = [sys.executable, "-m", "tests.faults.launcher", self.dsn, str(self.port)]
        if not self.projectors:
            args.append("--no-projectors")
        for replica in self.replicas:
            args += ["--replica", replica]
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(*args, stdout=log, stderr=log)
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            async with asyncio.timeout(60):
                while True:
                    assert self.process.returncode is None, self.log.read_text()[-3000:]
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get("/health")).status_code == 200:
                            return
                    await asyncio.sleep(0.05)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        """SIGTERM, and the exit code (bounded: a stop that hangs fails the test)."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            return await self.process.wait()

    async def close(self) -> None:
        if self.process is not None and self.process.returncode is None:
            await self.kill()

    def log_lines(self, needle: str) -> int:
        return sum(needle in line for line in self.log.read_text(errors="replace").splitlines())


class Tally:
    """HTTP answers by status, and the 5xx that must never happen (all but 503)."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.transport_errors = 0
        self.bad_503 = 0
        """503s without problem+json or Retry-After."""

    def saw(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code == 503 and (
            not response.headers.get("content-type", "").startswith("application/problem+json")
            or "retry-after" not in response.headers
        ):
            self.bad_503 += 1

    @property
    def server_errors(self) -> int:
        """5xx answers other than 503."""
        return sum(n for s, n in self.statuses.items() if s >= 500 and s != 503)


async def _ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def seed(client: httpx.AsyncClient, managers: int) -> str:
    """A provider offering one CMM activity, `managers` CMM managers m-0...; the provider's
    token."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    body = {"provider_id": "fp", "name": "Fault Provider", "programs": ["CMM"]}
    await _ok(await client.post("/v1/providers", json=body, headers=admin))
    scope = {"role": "provider", "provider_id": "fp"}
    created = await _ok(await client.post("/v1/tokens", json=scope, headers=admin))
    provider = {"Authorization": f"Bearer {created['token']}"}
    for n in range(ACTIVITIES):
        activity = {
            "activity_id": f"{ACTIVITY}-{n}", "title": "Practice management", "format": "online",
            "ceus": "10", "category": "core", "programs": ["CMM"],
            "starts_on": "2026-01-01", "ends_on": "2026-12-31",
        }  # fmt: skip
        await _ok(await client.post("/v1/providers/fp/activities", json=activity, headers=provider))

    async def enrol(m: str) -> None:
        body = {"manager_id": m, "name": f"Manager {m}", "email": f"{m}@example.org"}
        await _ok(await client.post("/v1/managers", json=body, headers=admin))
        cert = {"program": "CMM", "certified_on": "2025-03-15"}
        await _ok(await client.post(f"/v1/managers/{m}/certifications", json=cert, headers=admin))

    for start in range(0, managers, 10):
        await asyncio.gather(*(enrol(f"m-{i}") for i in range(start, min(start + 10, managers))))
    return created["token"]


_slots: dict[int, dict[str, int]] = {}


def posting(external_id: str, manager: int) -> dict[str, str]:
    """A manager's next distinct posting (its own activity and day: the same manager,
    activity and day twice would be refused as a repost), the same one again for an
    external_id seen before in this process, as a retry must be."""
    mine = _slots.setdefault(manager, {})
    n = mine.setdefault(external_id, len(mine))
    activity, day = divmod(n, DAYS)
    assert activity < ACTIVITIES, "more postings for one manager than the seeded activities hold"
    return {
        "external_id": external_id,
        "manager_id": f"m-{manager}",
        "activity_id": f"{ACTIVITY}-{activity}",
        "completed_on": (FIRST_DAY + timedelta(days=day)).isoformat(),
        "ceus": "1",
    }


async def completion_counts(dsn: str) -> Counter[str]:
    """How many CompletionRecorded events the log holds for each external_id."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT (data::jsonb)->>'external_id', count(*) FROM events"
            " WHERE type = 'completion_recorded' GROUP BY 1"
        )
    finally:
        await conn.close()
    return Counter({row[0]: row[1] for row in rows})


async def wait_for(predicate: Callable[[], Any], seconds: float, step: float = 0.05) -> float:
    """Poll `predicate` (sync or async) until true; the seconds it took (fails past `seconds`)."""
    started = time.monotonic()
    async with asyncio.timeout(seconds):
        while True:
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return time.monotonic() - started
            await asyncio.sleep(step)


_HOLDER = "fault-test-holder"
_OTHER_SESSIONS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    f" AND application_name <> '{_HOLDER}'"
)


class HeadHeld:
    """The log's head lock, held by a session of the test (see `head_held`)."""

    def __init__(self, lock: Any, watcher: asyncpg.Connection) -> None:
        self._lock, self._watcher = lock, watcher
        self.released = False

    async def waiting(self) -> bool:
        """A session of the server waits for a lock: its append has begun and waits here."""
        return bool(await self._watcher.fetchval(_OTHER_SESSIONS + " AND wait_event_type = 'Lock'"))

    async def release(self) -> None:
        if not self.released:
            self.released = True
            await self._lock.rollback()

    async def gone(self) -> bool:
        """No session of the server is left: a killed server's backends outlive it until
        PostgreSQL notices the closed sockets, and one may still be committing."""
        return not await self._watcher.fetchval(_OTHER_SESSIONS)


@contextlib.asynccontextmanager
async def head_held(ledger_dsn: str) -> AsyncIterator[HeadHeld]:
    """Hold the log's head lock, every append's first step (events/postgres/store.py), so a
    server's append waits there, its write begun, until `release()`: a kill -9 then lands
    inside the write instead of racing it (a roster's write takes milliseconds after its
    deciding)."""
    holder = await asyncpg.connect(ledger_dsn, server_settings={"application_name": _HOLDER})
    watcher = await asyncpg.connect(ledger_dsn)
    lock = holder.transaction()
    try:
        await lock.start()
        await holder.execute("SELECT position FROM event_head FOR UPDATE")
        held = HeadHeld(lock, watcher)
        try:
            yield held
        finally:
            await held.release()
    finally:
        await watcher.close()
        await holder.close()


async def post_until_acknowledged(
    client: httpx.AsyncClient, token: str, body: dict[str, str], tally: Tally
) -> dict[str, Any]:
    """Post one completion, retrying the same external_id until it is acknowledged (2xx):
    what a provider's integration does.  Anything but a 2xx, a 503 or no answer fails."""
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        try:
            response = await client.post("/v1/completions", json=body, headers=headers)
        except httpx.TransportError:
            tally.transport_errors += 1
            await asyncio.sleep(0.05)
            continue
        tally.saw(response)
        if response.status_code in (200, 201):
            return response.json()
        assert response.status_code >= 500, response.text
        await asyncio.sleep(0.05)


def environ_with(**values: str) -> dict[str, str]:
    return {**os.environ, **values}
