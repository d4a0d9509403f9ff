"""HTTP throughput of the ledger against a bare Litestar endpoint, measured in one run.

Starts, as separate processes on loopback, `ceu-ledger serve` as it runs by default (one API
process, and its projector process beside it; later `--projectors inline` and `--workers 2`)
and bench/bare_app.py (one uvicorn worker, same pool size, same database server), and drives
them from this process with a small keep-alive HTTP/1.1 load generator on raw asyncio streams
(a full HTTP client library would itself use up the machine's two cores).  Rows, best of R
rounds (cases alternate order each round), with p50/p99 latency:

- POST /v1/completions (new completions, spread over many managers) vs POST /bare (one
  INSERT): SPEC 10 goal >= 0.5x
- GET /v1/managers/{id}/status vs GET /bare/{id} (one primary-key SELECT): goal >= 0.6x
- a roster of 1,000 lines (POST /v1/completions/batch), completions/s: goal >= 20,000/s
- 16 writers posting to ONE manager vs the same 16 spread over many managers: goal >= 0.5x
- POST and GET status with the projector in its own process (`serve`) vs inline
  (`serve --projectors inline`, as before SPEC 8's split): each mode on a server started
  afresh per round, modes alternating, each figure against the bare app measured right after
  it; the ratios' range per mode
- POST and GET status again on `serve --workers 2` (the 1 vs 2 worker figure)

`--projector-rows` runs only that comparison (about a minute with 2 rounds).

Every posting is distinct and counts (its own manager, activity and day), so every answer
must be a 201 (200 for the batch); any other status stops the bench.  Ratios are
ledger / bare; compare within one run only.  The load generator shares the two cores with
the servers, so absolute figures understate a real deployment.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
import psutil
from cryptography.fernet import Fernet

from bench._common import run_with_database
from events.catalog import ActivityRegistered
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.access.tokens import TokenStore
from ledger.cli import SYSTEM, migrated_dsn
from ledger.commands import Ledger, catalogue, managers
from ledger.commands.messages import EnrollManager, GrantCertification, RegisterProvider
from ledger.settings import Secret, Settings

Request = tuple[str, str, bytes]  # method, path, body
Measured = tuple[float, list[float], dict[int, int]]  # requests/s, latencies (s), statuses

ACTIVITIES = 50
FIRST_DAY = date(2026, 1, 2)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--requests", type=int, default=2000, help="requests per timed run")
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--hot", type=int, default=640, help="postings per hot-stream run")
    parser.add_argument(
        "--projector-rows", action="store_true",
        help="only POST and GET status, with the projector in its own process and inline",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=float, default=0, metavar="SECONDS",
        help="then profile the one-worker API process under POST load with py-spy"
        " (pip install py-spy into the venv first) and print the top frames",
    )  # fmt: skip
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

    async def _connection(
        self, requests: list[Request], statuses: dict[int, int], latencies: list[float]
    ) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            for method, path, body in requests:
                head = (
                    f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.headers}"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                sent = time.perf_counter()
                writer.write(head.encode() + body)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                status = int(status_line.split()[1])
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    async def run(self, requests: list[Request], connections: int) -> Measured:
        statuses: dict[int, int] = {}
        latencies: list[float] = []
        start = time.perf_counter()
        await asyncio.gather(
            *(
                self._connection(requests[i::connections], statuses, latencies)
                for i in range(connections)
            )
        )
        return len(requests) / (time.perf_counter() - start), latencies, statuses


class Postings:
    """Distinct postings that all count: the n-th one to a manager is of activity
    n % ACTIVITIES on day n // ACTIVITIES (an activity counts once a cycle, once a day)."""

    def __init__(self) -> None:
        self._next: dict[str, itertools.count[int]] = {}
        self._ids = itertools.count()

    def body(self, manager_id: str) -> dict[str, str]:
        n = next(self._next.setdefault(manager_id, itertools.count()))
        return {
            "external_id": f"x-{next(self._ids)}",
            "manager_id": manager_id,
            "activity_id": f"course-{n % ACTIVITIES}",
            "completed_on": (FIRST_DAY + timedelta(days=n // ACTIVITIES)).isoformat(),
            "ceus": "1.25",
        }

    def post(self, manager_id: str) -> Request:
        return ("POST", "/v1/completions", msgspec.json.encode(self.body(manager_id)))


async def _set_up(dsn: str, count: int) -> str:
    clock = lambda: datetime(2026, 6, 15, 12, tzinfo=UTC)  # noqa: E731
    async with create_pool(dsn, min_size=1, max_size=8) as pool:
        ledger = Ledger(PostgresEventStore(pool), clock=clock)
        await catalogue.ensure_default_programs(ledger, SYSTEM)
        await catalogue.register_provider(
            ledger, SYSTEM, RegisterProvider(provider_id="tma", name="TMA", programs=["CMM"])
        )
        for a in range(ACTIVITIES):
            await catalogue.register_activity(
                ledger,
                SYSTEM,
                ActivityRegistered(
                    provider_id="tma", activity_id=f"course-{a}", title=f"Course {a}",
                    format="online", ceus=Decimal(5), category="core", programs=("CMM",),
                    starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
                ),
            )  # fmt: skip

        async def manager(manager_id: str) -> None:
            await managers.enroll_manager(
                ledger,
                SYSTEM,
                EnrollManager(manager_id=manager_id, name="M", email=f"{manager_id}@x.org"),
            )
            await managers.grant_certification(
                ledger,
                SYSTEM,
                manager_id,
                GrantCertification(program="CMM", certified_on=date(2025, 1, 1)),
            )

        ids = [f"m-{m}" for m in range(count)] + ["hot"]
        for start in range(0, len(ids), 50):
            await asyncio.gather(*(manager(m) for m in ids[start : start + 50]))
        return (
            await TokenStore(pool).create(role="provider", provider_id="tma", created_by="bench")
        ).token


def _start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
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


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=60)


async def _settled(port: int, seconds: float = 120) -> None:
    """Until /health shows every projection caught up (so a mode starts with no backlog)."""

    def lag() -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as answer:
            return sum(p["lag"] for p in json.load(answer)["projections"].values())

    async with asyncio.timeout(seconds):
        while await asyncio.to_thread(lag):  # noqa: ASYNC110 (another process's state)
            await asyncio.sleep(0.2)


def _cpu(process: subprocess.Popen[bytes]) -> tuple[float, float]:
    """CPU seconds so far of the serve process (the API) and of its children (the projector
    process, if any; a finished child is not counted, none finishes during a load)."""
    parent = psutil.Process(process.pid)
    children = 0.0
    for child in parent.children():
        with contextlib.suppress(psutil.Error):
            times = child.cpu_times()
            children += times.user + times.system
    times = parent.cpu_times()
    return times.user + times.system, children


def _ms(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _latency(latencies: list[float]) -> str:
    return f"p50 {_ms(latencies, 0.5):6.1f} ms  p99 {_ms(latencies, 0.99):6.1f} ms"


async def _best(
    rounds: int, cases: dict[str, Callable[[], Awaitable[Measured]]], ok: tuple[int, ...] = (201,)
) -> dict[str, tuple[float, list[float]]]:
    """The best rate of each case (and that run's latencies), cases alternating in order."""
    best: dict[str, tuple[float, list[float]]] = {name: (0.0, []) for name in cases}
    for round_ in range(rounds):
        for name in list(cases) if round_ % 2 == 0 else reversed(list(cases)):
            rate, latencies, statuses = await cases[name]()
            bad = {s: c for s, c in statuses.items() if s not in ok}
            if bad:
                raise SystemExit(f"{name}: unexpected statuses {bad}")
            if rate > best[name][0]:
                best[name] = (rate, latencies)
    return best


def _row(label: str, ours: tuple[float, list[float]], theirs: tuple[float, list[float]],
         names: tuple[str, str], goal: str) -> None:  # fmt: skip
    print(
        f"{label:<24} {names[0]} {ours[0]:>7,.0f}/s ({_latency(ours[1])})   "
        f"{names[1]} {theirs[0]:>7,.0f}/s ({_latency(theirs[1])})   "
        f"ratio {ours[0] / theirs[0]:.2f}  (goal {goal})",
        flush=True,
    )


async def _profile(pid: int, seconds: float, load: Callable[[], Awaitable[Measured]]) -> None:
    """py-spy's samples of `pid` (raw collapsed stacks) while `load` runs over and over;
    prints the frames found in most samples (inclusive) and most often on top (self)."""
    out = f"/tmp/ceu-bench-profile-{pid}.txt"
    spy = await asyncio.create_subprocess_exec(
        os.path.join(os.path.dirname(sys.executable), "py-spy"), "record", "--pid", str(pid),
        "--duration", str(round(seconds)), "--rate", "200", "--format", "raw", "--output", out,
        "--nonblocking", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    posted = 0
    while spy.returncode is None:
        _, latencies, _ = await load()
        posted += len(latencies)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(spy.wait(), 0.01)
    inclusive: dict[str, int] = {}
    top: dict[str, int] = {}
    total = 0
    for line in Path(out).read_text().splitlines():  # noqa: ASYNC240 (the load is over)
        stack, _, count = line.rstrip().rpartition(" ")
        frames = [_frame(x) for x in stack.split(";")[1:]]  # [0] is the thread
        total += int(count)
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
        if frames:
            top[frames[-1]] = top.get(frames[-1], 0) + int(count)
    print(f"\nprofile of pid {pid}: {total} samples in {seconds:.0f} s, {posted} posts; {out}")
    print("  self (on top of the stack)            inclusive (anywhere in the stack)")
    by_self = sorted(top.items(), key=lambda kv: -kv[1])[:20]
    by_incl = sorted(inclusive.items(), key=lambda kv: -kv[1])[:20]
    for (fs, cs), (fi, ci) in zip(by_self, by_incl, strict=False):
        print(f"  {100 * cs / total:5.1f}% {fs[:40]:<40} {100 * ci / total:5.1f}% {fi[:60]}")


def _frame(raw: str) -> str:
    """'function (path/to/module.py:12)' as 'module.function'."""
    name, _, where = raw.partition(" (")
    module = where.split(":")[0].rsplit("/", 1)[-1].removesuffix(".py")
    package = where.split(":")[0].split("site-packages/")[-1].split("/")[0]
    return f"{package}:{module}.{name}" if "site-packages" in where else f"{module}.{name}"


Cases = dict[str, Callable[[], Awaitable[Measured]]]
Best = dict[str, tuple[float, list[float]]]


def service_env(dsn: str) -> dict[str, str]:
    """The environment `serve` runs with in the benches (the bare servers take it too)."""
    return {
        **os.environ,
        "DATABASE_URL": dsn,
        "LEDGER_POOL_SIZE": "20",
        "LEDGER_ADMIN_TOKEN": "bench-admin",
        "LEDGER_LOG_LEVEL": "warning",
        # What `serve` requires outside --demo (SPEC 6).
        "LEDGER_PUBLIC_URL": "http://127.0.0.1",
        "LEDGER_SESSION_SECRET": secrets.token_urlsafe(48),
        "LEDGER_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }


class _Run:
    """One run of the bench: the servers' command lines and environment, the bare app, the
    postings, and the loads on each."""

    def __init__(self, args: argparse.Namespace, dsn: str, token: str, bare_port: int) -> None:
        self.args, self.token = args, token
        self.env = service_env(dsn)
        self.serve = [sys.executable, "-m", "ledger.cli", "serve", "--log-level", "warning"]
        self.postings = Postings()
        self.n, self.c, self.m = args.requests, args.connections, args.managers
        self.spread = [f"m-{i % self.m}" for i in range(self.n)]
        self.bare = Target(bare_port)

    def start(self, port: int, *options: str) -> subprocess.Popen[bytes]:
        return _start([*self.serve, "--port", str(port), *options], self.env, port)

    async def warm(self, port: int) -> None:
        """200 postings first, so the timed runs start on a warm server."""
        await Target(port, self.token).run(
            [self.postings.post(x) for x in self.spread[:200]], self.c
        )

    def cases(self, port: int, first: int = 0) -> Cases:
        """The loads on the server at `port`; POST and status on managers m-first...."""
        ledger, admin = Target(port, self.token), Target(port, "bench-admin")
        n, c, m, postings, spread, hot_n = (
            self.n, self.c, self.m, self.postings, self.spread, self.args.hot
        )  # fmt: skip
        mine = [f"m-{first + i % m}" for i in range(n)]

        async def post() -> Measured:
            return await ledger.run([postings.post(manager) for manager in mine], c)

        async def status() -> Measured:
            return await admin.run([("GET", f"/v1/managers/{x}/status", b"") for x in mine], c)

        async def hot() -> Measured:
            return await ledger.run([postings.post("hot") for _ in range(hot_n)], 16)

        async def spread16() -> Measured:
            return await ledger.run([postings.post(spread[i]) for i in range(hot_n)], 16)

        async def roster(concurrency: int) -> Measured:
            bodies = [
                ("POST", "/v1/completions/batch",
                 msgspec.json.encode({"items": [postings.body(spread[i]) for i in range(1000)]}))
                for _ in range(4)
            ]  # fmt: skip
            rate, latencies, statuses = await ledger.run(bodies, concurrency)
            return rate * 1000, latencies, statuses

        return {
            "post": post, "status": status, "hot": hot, "spread": spread16,
            "roster1": lambda: roster(1), "roster2": lambda: roster(2),
        }  # fmt: skip

    async def insert(self) -> Measured:
        body = msgspec.json.encode(self.postings.body("bare"))
        return await self.bare.run([("POST", "/bare", body)] * self.n, self.c)

    async def select(self) -> Measured:
        return await self.bare.run(
            [("GET", f"/bare/{1 + i % 200}", b"") for i in range(self.n)], self.c
        )

    async def post_and_status(self, label: str, loads: Cases) -> tuple[Best, Best]:
        rounds = self.args.rounds
        posts = await _best(rounds, {"ledger": loads["post"], "bare": self.insert})
        _row(f"POST{label}", posts["ledger"], posts["bare"], ("ledger", "bare insert"), ">= 0.5")
        reads = await _best(rounds, {"ledger": loads["status"], "bare": self.select}, (200,))
        _row(f"GET status{label}", reads["ledger"], reads["bare"], ("ledger", "bare select"),
             ">= 0.6")  # fmt: skip
        return posts, reads

    async def projector_rows(self) -> None:
        """POST and GET status with the projector in its own process (`serve`) and inline
        (`serve --projectors inline`), each mode on a server of its own started afresh each
        round (modes alternating in order), each figure against the bare app right after it:
        a machine shared with other work drifts, so only ratios taken side by side count."""
        ratios: dict[str, dict[str, list[float]]] = {}
        print(f"\nprojector in its own process vs inline, {self.args.rounds} rounds", flush=True)
        for round_ in range(self.args.rounds):
            modes = ["process", "inline"] if round_ % 2 == 0 else ["inline", "process"]
            for mode in modes:
                await self._projector_round(round_, mode, ratios.setdefault(mode, {}))
        for what, goal in (("POST", ">= 0.5"), ("GET status", ">= 0.6")):
            separate, inline = ratios["process"][what], ratios["inline"][what]
            print(
                f"{what + ', projector':<24} own process {min(separate):.2f}-{max(separate):.2f}"
                f"   inline {min(inline):.2f}-{max(inline):.2f}   (ratio to bare; goal {goal})",
                flush=True,
            )

    async def _projector_round(self, round_: int, mode: str, mine: dict[str, list[float]]) -> None:
        """One mode's POST and GET status on a server started afresh; their ratios to bare
        are appended to `mine`."""
        port = _free_port()
        server = self.start(port, "--projectors", mode)
        try:
            # Managers of their own per mode: a status costs more as completions grow.
            loads = self.cases(port, first=self.m if mode == "inline" else 0)
            await self.warm(port)
            await _settled(port)
            for what, ours, theirs in (
                ("POST", loads["post"], self.insert), ("GET status", loads["status"], self.select)
            ):  # fmt: skip
                api, beside = _cpu(server)
                rate, latencies, statuses = await ours()
                api_after, beside_after = _cpu(server)
                if set(statuses) - {200, 201}:
                    raise SystemExit(f"{mode} {what}: unexpected statuses {statuses}")
                bare_rate, _, _ = await theirs()
                mine.setdefault(what, []).append(rate / bare_rate)
                per = 1000 / len(latencies)  # CPU ms per request
                print(
                    f"  round {round_ + 1} {mode:<8} {what:<10} ledger {rate:>7,.0f}/s"
                    f"  bare {bare_rate:>7,.0f}/s  ratio {rate / bare_rate:.2f}"
                    f"   CPU ms/request: API process {per * (api_after - api):.2f},"
                    f" projector process {per * (beside_after - beside):.2f}",
                    flush=True,
                )
        finally:
            _stop(server)

    async def one_worker_rows(
        self, server: subprocess.Popen[bytes], port: int
    ) -> tuple[Best, Best]:
        """POST, GET status, 16 writers on one manager and rosters on the one-worker server."""
        one = self.cases(port)
        posts, reads = await self.post_and_status("", one)
        hot = await _best(self.args.rounds, {"hot": one["hot"], "spread": one["spread"]})
        _row("16 writers, 1 manager", hot["hot"], hot["spread"], ("one", "spread"), ">= 0.5")
        for concurrency in (1, 2):
            best = await _best(self.args.rounds, {"roster": one[f"roster{concurrency}"]}, (200,))
            rate, latencies = best["roster"]
            print(
                f"roster of 1,000 x{concurrency}       {rate:>8,.0f} completions/s "
                f"({_latency(latencies)} per roster)  (goal >= 20,000/s)",
                flush=True,
            )
        if self.args.profile:
            await _profile(server.pid, self.args.profile, one["post"])
        return posts, reads

    async def two_worker_rows(self, posts: Best, reads: Best) -> None:
        """POST and GET status on `serve --workers 2`, against the one-worker figures."""
        port = _free_port()
        two = self.start(port, "--workers", "2")
        try:
            await asyncio.sleep(2)  # both workers up
            two_cases = self.cases(port)
            await self.warm(port)
            posts2 = await _best(self.args.rounds, {"two": two_cases["post"]})
            _row("POST, 2 vs 1 worker", posts2["two"], posts["ledger"], ("2 workers", "1"), "")
            reads2 = await _best(self.args.rounds, {"two": two_cases["status"]}, (200,))
            _row("GET status, 2 vs 1", reads2["two"], reads["ledger"], ("2 workers", "1"), "")
        finally:
            _stop(two)


async def bench(dsn: str) -> None:
    args = parse_args()
    # `serve` would apply migrations and defaults itself; doing it here first keeps timing clean.
    async with migrated_dsn(Settings(database_url=Secret(dsn))):
        token = await _set_up(dsn, 2 * args.managers)  # m-0.. separate, m-{managers}.. inline
    ledger_port, bare_port = _free_port(), _free_port()
    run = _Run(args, dsn, token, bare_port)
    ledger_server = run.start(ledger_port)
    uvicorn = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(bare_port)]
    bare_server = _start(
        [*uvicorn, "--log-level", "warning", "--no-access-log"], run.env, bare_port
    )
    print(
        f"ledger pid {ledger_server.pid} (one API process, projector process beside it),"
        f" bare pid {bare_server.pid}",
        flush=True,
    )
    try:
        await run.warm(ledger_port)
        await run.bare.run([("POST", "/bare", b"{}")] * 200, run.c)
        print(f"\n{run.c} connections, best of {args.rounds}; ratio = ledger / bare\n", flush=True)
        if args.projector_rows:
            _stop(ledger_server)
            await run.projector_rows()
            return
        posts, reads = await run.one_worker_rows(ledger_server, ledger_port)
        _stop(ledger_server)
        await run.projector_rows()
        await run.two_worker_rows(posts, reads)
    finally:
        for process in (ledger_server, bare_server):
            if process.poll() is None:
                _stop(process)


if __name__ == "__main__":
    run_with_database(bench)
