"""HTTP throughput of the ledger against a bare Litestar endpoint, at 64 connections.

Starts, as separate processes on loopback, `ceu-ledger serve` and bench/bare_app.py (both
single uvicorn workers, same pool size, same database server), and drives them from this
process with a small keep-alive HTTP/1.1 load generator on raw asyncio streams (a full HTTP
client library would itself use up the machine's two cores).  Cases, best of R rounds:

- POST /v1/completions (new completions, spread over many managers) vs POST /bare (one INSERT)
- GET /v1/managers/{id}/status vs GET /bare/{id} (one primary-key SELECT)
- batch ingestion: POST /v1/completions/batch with 1000 items, completions/s

Ratios are ledger / bare (1.00 = no overhead); compare within one run only.  The load
generator shares the two cores with both servers, so absolute figures understate a real
deployment; the ratio is the figure to read.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec

from bench._common import run_with_database
from events.catalog import ActivityRegistered
from events.postgres import PostgresEventStore, create_pool
from ledger.api.auth import TokenStore
from ledger.cli import SYSTEM, migrated_dsn
from ledger.commands import Ledger, catalogue
from ledger.settings import Secret, Settings

Request = tuple[str, str, bytes]  # method, path, body


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--requests", type=int, default=3000, help="requests per timed run")
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Target:
    """A keep-alive HTTP/1.1 client for one server: `connections` sockets, each sending its
    share of the requests one after the other, reading each response fully."""

    def __init__(self, port: int, token: str = "") -> None:
        self.port = port
        self.headers = f"Authorization: Bearer {token}\r\n" if token else ""

    async def _connection(self, requests: list[Request], statuses: dict[int, int]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            for method, path, body in requests:
                head = (
                    f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.headers}"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                writer.write(head.encode() + body)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                status = int(status_line.split()[1])
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    async def run(self, requests: list[Request], connections: int) -> tuple[float, dict[int, int]]:
        statuses: dict[int, int] = {}
        start = time.perf_counter()
        await asyncio.gather(
            *(self._connection(requests[i::connections], statuses) for i in range(connections))
        )
        return len(requests) / (time.perf_counter() - start), statuses


def _posting(n: int, managers: int, tag: str) -> bytes:
    return msgspec.json.encode({
        "external_id": f"{tag}-{n}", "manager_id": f"m-{n % managers}", "activity_id": "course",
        "completed_on": "2026-05-04", "ceus": "1.25",
    })  # fmt: skip


def _ids(tag: str) -> Iterator[str]:
    n = 0
    while True:
        yield f"{tag}{n}"
        n += 1


async def _set_up(dsn: str, managers: int) -> str:
    clock = lambda: datetime(2026, 6, 15, 12, tzinfo=UTC)  # noqa: E731
    async with create_pool(dsn, min_size=1, max_size=4) as pool:
        ledger = Ledger(PostgresEventStore(pool), clock=clock)
        await catalogue.ensure_default_programs(ledger, SYSTEM)
        await catalogue.register_provider(
            ledger, SYSTEM, provider_id="tma", name="TMA", programs=("CMM",)
        )
        course = ActivityRegistered(
            provider_id="tma", activity_id="course", title="Course", format="online",
            ceus=Decimal(5), category="core", programs=("CMM",),
            starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
        )  # fmt: skip
        await catalogue.register_activity(ledger, SYSTEM, course)
        for m in range(managers):
            await managers.enroll_manager(
                ledger, SYSTEM, manager_id=f"m-{m}", name="M", email=f"m{m}@example.org"
            )
            await managers.grant_certification(
                ledger, SYSTEM, f"m-{m}", program="CMM", certified_on=date(2025, 1, 1)
            )
        return (
            await TokenStore(pool).create(role="provider", provider_id="tma", created_by="bench")
        ).token


def _start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        if process.poll() is not None:
            raise SystemExit(
                f"{command} exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        time.sleep(0.1)
    raise SystemExit(f"{command} did not start")


def _row(label: str, rates: dict[str, float], bare: str) -> None:
    print(
        f"{label:<20} ledger {rates['ledger']:>8,.0f} req/s   {bare} {rates['bare']:>8,.0f} req/s"
        f"   ratio {rates['ledger'] / rates['bare']:.2f}",
        flush=True,
    )


async def _best(rounds: int, cases: dict[str, Callable[[], object]]) -> dict[str, float]:
    best = dict.fromkeys(cases, 0.0)
    for round_ in range(rounds):
        for name in list(cases) if round_ % 2 == 0 else reversed(list(cases)):
            rate, statuses = await cases[name]()  # type: ignore[misc]
            bad = {s: c for s, c in statuses.items() if s >= 300}
            if bad:
                raise SystemExit(f"{name}: unexpected statuses {bad}")
            best[name] = max(best[name], rate)
    return best


async def bench(dsn: str) -> None:
    args = parse_args()
    # `serve` would apply migrations and defaults itself; doing it here first keeps timing clean.
    async with migrated_dsn(Settings(database_url=Secret(dsn))):
        token = await _set_up(dsn, args.managers)
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "LEDGER_POOL_SIZE": "20",
        "LEDGER_ADMIN_TOKEN": "bench-admin",
    }
    ledger_port, bare_port = _free_port(), _free_port()
    ledger_server = _start(
        [sys.executable, "-m", "ledger.cli", "serve", "--port", str(ledger_port)], env, ledger_port
    )
    uvicorn = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(bare_port)]
    bare_server = _start([*uvicorn, "--log-level", "warning", "--no-access-log"], env, bare_port)
    try:
        ledger, bare, admin = (
            Target(ledger_port, token),
            Target(bare_port),
            Target(ledger_port, "bench-admin"),
        )
        n, c = args.requests, args.connections
        tags = _ids("r")
        await ledger.run(
            [("POST", "/v1/completions", _posting(i, args.managers, "warm")) for i in range(200)], c
        )
        await bare.run(
            [("POST", "/bare", _posting(i, args.managers, "warm")) for i in range(200)], c
        )

        async def post_ledger():  # type: ignore[no-untyped-def]
            tag = next(tags)
            return await ledger.run(
                [("POST", "/v1/completions", _posting(i, args.managers, tag)) for i in range(n)], c
            )

        async def post_bare():  # type: ignore[no-untyped-def]
            return await bare.run(
                [("POST", "/bare", _posting(i, args.managers, "b")) for i in range(n)], c
            )

        async def status_ledger():  # type: ignore[no-untyped-def]
            paths = [("GET", f"/v1/managers/m-{i % args.managers}/status", b"") for i in range(n)]
            return await admin.run(paths, c)

        async def select_bare():  # type: ignore[no-untyped-def]
            return await bare.run([("GET", f"/bare/{1 + i % 200}", b"") for i in range(n)], c)

        print(f"requests/s at {c} connections, best of {args.rounds}; ratio = ledger / bare")
        posts = await _best(args.rounds, {"ledger": post_ledger, "bare": post_bare})
        _row("POST completion", posts, "bare insert")
        reads = await _best(args.rounds, {"ledger": status_ledger, "bare": select_bare})
        _row("GET status", reads, "bare select")

        async def batch(concurrency: int) -> float:
            tag = next(tags)
            items = [
                [
                    msgspec.json.decode(_posting(k * 1000 + i, args.managers, tag))
                    for i in range(1000)
                ]
                for k in range(4)
            ]
            bodies = [
                ("POST", "/v1/completions/batch", msgspec.json.encode({"items": chunk}))
                for chunk in items
            ]
            rate, statuses = await ledger.run(bodies, concurrency)
            assert statuses == {200: 4}, statuses
            return rate * 1000

        for concurrency in (1, 4):
            best = max([await batch(concurrency) for _ in range(args.rounds)])
            print(
                f"batch 1000 x{concurrency}        ledger {best:>8,.0f} completions/s", flush=True
            )
    finally:
        for process in (ledger_server, bare_server):
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    run_with_database(bench)
