"""`make bench`: every row of SPEC section 10, measured the way it says, in one run.

The ledger is the lived-in one (bench/lived_in.py: >= 1,000,000 events, ~11,000 managers of
20-150 completions over several cycles, renewals filed and decided), built once by COPY and
kept; each run works on a fresh copy of it (CREATE DATABASE ... TEMPLATE, dropped at the end),
so runs are alike.  On that copy the bench adds what its requests need: 200 activities of the
provider (bench-0 ... bench-199), a provider token and an admin token, and a table of 10,000
rows for the bare app.

The service is started as `make run` starts it: `ceu-ledger serve` (its one API process and
its `project` process beside it, every setting at its default: pool, log level, loop, HTTP
parser), only with DATABASE_URL naming the copy instead of the demo's embedded database and
the three settings serving outside --demo needs.  The bare app (bench/bare_app.py: Litestar +
asyncpg, one statement a request) is served the way `serve` serves (same event loop, HTTP
parser, limits and pool size).  Both are driven by wrk (C, event-driven: the load generator
takes little of the two cores) with bench/spec10.lua writing the requests, every posting
distinct and counting (any answer but 2xx stops the bench).  Each row runs its cases in
rounds, the order reversed every other round, so drift on a shared machine hits them alike;
the summary gives each figure's range over the rounds, and ratios are taken inside a round.

Rows (--rows, comma-separated; default all):
  post     POST /v1/completions (64 connections, postings to every manager in turn: more
           managers than the API process keeps records of, so each posting reads its
           manager's whole stream) vs the bare app's POST /bare (one INSERT)
                                                                    budget >= 0.75
  status   GET /v1/managers/{id}/status (64 connections, managers drawn at random from all,
           admin token) vs the bare app's GET /bare/{id} (one primary-key SELECT)
                                                                    budget >= 0.8
           and its p99 / p50                                        budget <= 3
  roster   POST /v1/completions/batch, 1,000 lines over 200 managers, 2 connections, in
           completions/s, on 200 managers drawn at random, 200 of the shortest records and 200
           of the longest                                           budget >= 20,000/s
  hot      16 connections posting to ONE manager (the longest record) vs 16 spread over all
                                                                    budget >= 0.5
  rebuild  every projection rebuilt from the copy's log (`ceu-ledger rebuild`'s engine),
           events/s                                                 budget >= 100,000/s
  verify   the whole chain (`ceu-ledger verify`'s verify_database), events/s
                                                                    budget >= 1,000,000/s
  append   the store's appends vs the `eventsourcing` library's at 1, 16, 64 writers, on
           the same PostgreSQL (bench/append.py's cases)           budget >= 2x each
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from cryptography.fernet import Fernet

from bench import append as appends
from bench._common import sibling_database
from bench.http import _frame
from bench.lived_in import lived_in
from events.catalog import ActivityRegistered
from events.chain_postgres import verify_database
from events.postgres.connection import connect, create_pool
from events.postgres.store import PostgresEventStore
from ledger.access.tokens import TokenStore
from ledger.cli import SYSTEM
from ledger.commands import Ledger, catalogue
from ledger.infra.migrations import load_migrations, migrate
from projections.engine import ProjectionRunner
from projections.registry import all_projections

ROWS = ("post", "status", "roster", "hot", "rebuild", "verify", "append")
LUA = Path(__file__).with_name("spec10.lua")
COPY = "spec10_run"
ACTIVITIES = 200
BARE_ROWS = 10_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.spec10",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--rows", default=",".join(ROWS), help="comma-separated, of: " + ", ".join(ROWS)
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8, help="one wrk run's length")
    parser.add_argument("--events", type=int, default=1_000_000, help="the lived-in ledger's size")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="SECONDS",
        help="after the HTTP rows, py-spy the API process under status and POST load",
    )  # fmt: skip
    parser.add_argument(
        "--rebuild-rounds", type=int, default=1, help="rounds of the rebuild row (~2 min each)"
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--serve", default="",
        help="extra arguments for `ceu-ledger serve` (e.g. '--projectors inline')",
    )  # fmt: skip
    args = parser.parse_args(argv)
    args.rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    if unknown := sorted(set(args.rows) - set(ROWS)):
        parser.error(f"unknown rows {', '.join(unknown)}; rows are {', '.join(ROWS)}")
    return args


# -- wrk ---------------------------------------------------------------------------------


@dataclass
class Load:
    """One wrk run's figures: requests/s (or completions/s for rosters), latency in ms."""

    rate: float
    p50: float
    p90: float
    p99: float
    requests: int


@dataclass
class Wrk:
    """wrk against one server; `base` keeps every posting of the run distinct."""

    threads: int
    seconds: int
    noon: int
    base: int = 0
    posted: int = 0
    """Postings answered 2xx (each a distinct one: none can be an exact retry)."""

    async def run(
        self, port: int, mode: str, ids: Path, *, token: str = "", connections: int,
        lines: int = 1, seconds: int | None = None,
    ) -> Load:  # fmt: skip
        threads = min(self.threads, connections)
        command = [
            "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds or self.seconds}s",
            "--timeout", "30s", "-s", str(LUA), f"http://127.0.0.1:{port}", "--",
            mode, str(self.base), str(threads), str(ids), token, str(lines), str(self.noon),
        ]  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = await process.communicate()
        text = out.decode()
        try:
            figures = json.loads(text.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            raise SystemExit(f"wrk {mode}: no figures\n{text}{err.decode()}") from None
        self.base += (figures["used"] + 1) * threads
        failed = {k: figures[k] for k in ("connect", "read", "write", "timeout", "non2xx")}
        if any(failed.values()) or figures["requests"] == 0:
            raise SystemExit(f"wrk {mode} on port {port}: {failed}\n{text}")
        per = lines if mode == "roster" else 1
        if mode in ("post", "roster"):
            self.posted += figures["requests"] * per
        return Load(
            rate=figures["requests"] * per / figures["seconds"],
            p50=figures["p50"] / 1000, p90=figures["p90"] / 1000, p99=figures["p99"] / 1000,
            requests=figures["requests"],
        )  # fmt: skip


# -- the ledger copy ---------------------------------------------------------------------


@dataclass
class Ledger10:
    """The copy of the lived-in ledger the run works on, and what its requests need."""

    dsn: str
    events: int
    provider_token: str
    admin_token: str
    files: Path
    managers: dict[str, Path] = field(default_factory=dict)
    """Files of manager ids: all, roster (200 at random), short, long (200 each), hot (1)."""
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Completions per manager in each file: (fewest, most)."""


def _with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


async def _copy(dsn: str) -> str:
    admin = _with_database(dsn, "postgres")
    source = urlsplit(dsn).path.lstrip("/")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{COPY}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{COPY}" TEMPLATE "{source}"')
    finally:
        await conn.close()
    return _with_database(dsn, COPY)


async def _drop_copy(dsn: str) -> None:
    conn = await asyncpg.connect(_with_database(dsn, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{COPY}" WITH (FORCE)')
    finally:
        await conn.close()


async def _prepare(dsn: str, files: Path) -> Ledger10:
    """Activities, tokens, the bare app's rows and the managers' files, on the copy."""
    async with create_pool(dsn, min_size=1, max_size=4) as pool:
        ledger = Ledger(PostgresEventStore(pool))
        for a in range(ACTIVITIES):
            await catalogue.register_activity(
                ledger, SYSTEM,
                ActivityRegistered(
                    provider_id="tma", activity_id=f"bench-{a}", title=f"Bench course {a}",
                    format="online", ceus=Decimal(5), category="core", programs=("CMM", "CMOM"),
                    starts_on=date(2000, 1, 1), ends_on=date(2100, 12, 31),
                ),
            )  # fmt: skip
        tokens = TokenStore(pool)
        provider = await tokens.create(role="provider", provider_id="tma", created_by="bench")
        admin = await tokens.create(role="admin", created_by="bench")
        rows = await pool.fetch(
            "SELECT substr(stream_id, 9) AS id,"
            " count(*) FILTER (WHERE type = 'completion_recorded') AS n"
            " FROM events WHERE stream_id LIKE 'manager-%' GROUP BY stream_id"
        )
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS bench_http (id bigserial PRIMARY KEY, body jsonb NOT NULL)"
        )
        await pool.execute(
            "INSERT INTO bench_http (body) SELECT jsonb_build_object('external_id', 'x-' || n,"
            " 'manager_id', 'mgr-000001', 'activity_id', 'bench-1', 'completed_on',"
            " '2026-01-02', 'ceus', '1.25') FROM generate_series(1, $1) n",
            BARE_ROWS,
        )
        head = await pool.fetchval("SELECT max(position) FROM events")
    counted = sorted(((r["n"], r["id"]) for r in rows), key=lambda x: (x[0], x[1]))
    rng = random.Random(10)
    everyone = [m for _, m in counted]
    rng.shuffle(everyone)
    n = {m: c for c, m in counted}
    chosen = {
        "all": everyone,
        "roster": everyone[:200],
        "short": [m for _, m in counted[:200]],
        "long": [m for _, m in counted[-200:]],
        "hot": [counted[-1][1]],
    }
    built = Ledger10(
        dsn=dsn, events=head, provider_token=provider.token, admin_token=admin.token, files=files
    )
    for name, ids in chosen.items():
        path = files / f"managers-{name}.txt"
        path.write_text("\n".join(ids) + "\n")
        built.managers[name] = path
        built.sizes[name] = (min(n[m] for m in ids), max(n[m] for m in ids))
    return built


# -- servers -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    """The process of `command`, once it listens on `port`; stopped (SIGTERM) afterwards."""
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{shlex.join(command)} did not start; see {log}")
            time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def serve_command(port: int, extra: str = "") -> list[str]:
    return [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port), *shlex.split(extra)]


def serve_env(dsn: str) -> dict[str, str]:
    """`make run`'s environment, with the copy's DATABASE_URL and what serving outside
    --demo requires (SPEC 6); nothing else set (pool size, log level: defaults)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("LEDGER_") or k == "LEDGER_DATA_DIR"
    }
    return {
        **env,
        "DATABASE_URL": dsn,
        "LEDGER_PUBLIC_URL": "http://127.0.0.1",
        "LEDGER_SESSION_SECRET": secrets.token_urlsafe(48),
        "LEDGER_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }


async def settled(port: int, seconds: float = 300) -> None:
    """Until /health shows every projection caught up."""

    def lag() -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as answer:
            return int(sum(p["lag"] for p in json.load(answer)["projections"].values()))

    async with asyncio.timeout(seconds):
        while await asyncio.to_thread(lag):  # noqa: ASYNC110 (another process's state)
            await asyncio.sleep(0.5)


# -- rounds and the summary --------------------------------------------------------------


Case = Callable[[], Awaitable[Load]]


async def rounds(n: int, cases: dict[str, Case], label: str) -> dict[str, list[Load]]:
    """Every case once a round, the order reversed every other round; prints each figure."""
    found: dict[str, list[Load]] = {name: [] for name in cases}
    for round_ in range(n):
        order = list(cases) if round_ % 2 == 0 else list(reversed(cases))
        for name in order:
            load = await cases[name]()
            found[name].append(load)
            print(
                f"  {label} round {round_ + 1} {name:<8} {load.rate:>9,.0f}/s"
                f"  p50 {load.p50:7.1f} ms  p90 {load.p90:7.1f} ms  p99 {load.p99:7.1f} ms",
                flush=True,
            )
    return found


def span(values: list[float], fmt: str = ",.0f") -> str:
    low, high = min(values), max(values)
    return f"{low:{fmt}}" if f"{low:{fmt}}" == f"{high:{fmt}}" else f"{low:{fmt}}-{high:{fmt}}"


@dataclass
class Summary:
    rows: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)

    def add(self, what: str, budget: str, ratio: str, ours: str, bare: str, latency: str) -> None:
        self.rows.append((what, budget, ratio, ours, bare, latency))
        print(
            f"= {what}: {ratio} (budget {budget}); {ours}; baseline {bare}; {latency}", flush=True
        )

    def print(self, header: str) -> None:
        heads = ("SPEC 10 row", "budget", "ratio (range)", "service (range)", "baseline (range)",
                 "p50 / p99 ms (range)")  # fmt: skip
        widths = [max(len(r[i]) for r in [heads, *self.rows]) for i in range(6)]
        print(f"\n{header}\n")
        for row in [heads, tuple("-" * w for w in widths), *self.rows]:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def ratios(ours: list[Load], theirs: list[Load]) -> list[float]:
    """Each round's ratio (the two measured side by side)."""
    return [a.rate / b.rate for a, b in zip(ours, theirs, strict=True)]


def lat(loads: list[Load]) -> str:
    return f"{span([x.p50 for x in loads], '.1f')} / {span([x.p99 for x in loads], '.1f')}"


# -- the rows ----------------------------------------------------------------------------


async def http_rows(args: argparse.Namespace, led: Ledger10, summary: Summary) -> None:
    wrk = Wrk(threads=args.threads, seconds=args.seconds, noon=_noon())
    port, bare_port = _free_port(), _free_port()
    log = led.files / "servers.log"
    bare_env = {**serve_env(led.dsn)}
    bare = [sys.executable, "-m", "bench.bare_app", "--port", str(bare_port)]
    c, m = args.connections, led.managers
    with (
        _server(serve_command(port, args.serve), serve_env(led.dsn), port, log) as pid,
        _server(bare, bare_env, bare_port, log) as bare_pid,
    ):
        print(f"service pid {pid} (`ceu-ledger serve {args.serve}`), bare app pid {bare_pid};"
              f" logs in {log}", flush=True)  # fmt: skip
        await settled(port)
        # Warm both (code paths, pools, the catalogue), 3 s each, not reported.
        for mode, p, tok in (("post", port, led.provider_token), ("insert", bare_port, ""),
                             ("status", port, led.admin_token),
                             ("select", bare_port, "")):  # fmt: skip
            await wrk.run(p, mode, m["all"], token=tok, connections=c, seconds=3,
                          lines=BARE_ROWS if mode == "select" else 1)  # fmt: skip
        await settled(port)

        if "post" in args.rows:
            found = await rounds(args.rounds, {
                "service": lambda: wrk.run(port, "post", m["all"], token=led.provider_token,
                                           connections=c),
                "bare": lambda: wrk.run(bare_port, "insert", m["all"], connections=c),
            }, "POST")  # fmt: skip
            s, b = found["service"], found["bare"]
            summary.add(
                "POST /v1/completions vs bare insert",
                ">= 0.75",
                span(ratios(s, b), ".2f"),
                f"{span([x.rate for x in s])} req/s",
                f"{span([x.rate for x in b])} req/s",
                f"service {lat(s)}; bare {lat(b)}",
            )
        if "status" in args.rows:
            await settled(port)
            found = await rounds(args.rounds, {
                "service": lambda: wrk.run(port, "status", m["all"], token=led.admin_token,
                                           connections=c),
                "bare": lambda: wrk.run(bare_port, "select", m["all"], connections=c,
                                        lines=BARE_ROWS),
            }, "status")  # fmt: skip
            s, b = found["service"], found["bare"]
            summary.add(
                "GET status vs bare select",
                ">= 0.8",
                span(ratios(s, b), ".2f"),
                f"{span([x.rate for x in s])} req/s",
                f"{span([x.rate for x in b])} req/s",
                f"service {lat(s)}; bare {lat(b)}",
            )
            summary.add(
                "p99 / p50 of GET status", "<= 3", span([x.p99 / x.p50 for x in s], ".1f"),
                f"p50 {span([x.p50 for x in s], '.1f')} ms,"
                f" p99 {span([x.p99 for x in s], '.1f')} ms",
                f"bare p99/p50 {span([x.p99 / x.p50 for x in b], '.1f')}", "",
            )  # fmt: skip
        if "roster" in args.rows:
            await settled(port)

            def roster(which: str) -> Case:
                return lambda: wrk.run(port, "roster", m[which], token=led.provider_token,
                                       connections=2, lines=1000)  # fmt: skip

            found = await rounds(
                args.rounds, {"random": roster("roster"), "short": roster("short"),
                              "long": roster("long")}, "roster",
            )  # fmt: skip
            r, sh, lo = found["random"], found["short"], found["long"]
            short_n, long_n = led.sizes["short"], led.sizes["long"]
            summary.add(
                "roster of 1,000 over 200 managers (2 clients)",
                ">= 20,000/s",
                f"short/long records {span(ratios(sh, lo), '.2f')}",
                f"{span([x.rate for x in r])} completions/s (200 at random)",
                f"{span([x.rate for x in sh])}/s on {short_n[0]}-{short_n[1]} completions,"
                f" {span([x.rate for x in lo])}/s on {long_n[0]}-{long_n[1]}",
                f"random {lat(r)} a roster",
            )
        if "hot" in args.rows:
            await settled(port)
            found = await rounds(args.rounds, {
                "one": lambda: wrk.run(port, "post", m["hot"], token=led.provider_token,
                                       connections=16),
                "spread": lambda: wrk.run(port, "post", m["all"], token=led.provider_token,
                                          connections=16),
            }, "16 writers")  # fmt: skip
            o, sp = found["one"], found["spread"]
            summary.add(
                "16 writers to one manager vs spread", ">= 0.5", span(ratios(o, sp), ".2f"),
                f"{span([x.rate for x in o])} postings/s to one", f"{span([x.rate for x in sp])}"
                " spread", f"one {lat(o)}; spread {lat(sp)}",
            )  # fmt: skip
        await _every_posting_counted(led.dsn, wrk.posted)
        if args.profile:
            for mode, token in (("status", led.admin_token), ("post", led.provider_token)):
                await profile(pid, args.profile, wrk.run(
                    port, mode, m["all"], token=token, connections=c, seconds=args.profile + 2
                ), f"{mode}, all managers")  # fmt: skip


async def profile(pid: int, seconds: int, load: Awaitable[Load], what: str) -> None:
    """py-spy's samples of the API process `pid` while `load` runs (`pip install py-spy`
    into the venv first: a tool, not a dependency); the frames in most samples."""
    out = Path(tempfile.gettempdir()) / f"ceu-spec10-profile-{what.split(',')[0]}-{pid}.txt"
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
        "--duration", str(seconds), "--rate", "100", "--format", "raw", "--output", str(out),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.gather(spy.wait(), load)
    inclusive: dict[str, int] = {}
    top: dict[str, int] = {}
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        frames = [_frame(x) for x in stack.split(";")[1:]]
        total += int(count)
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
        if frames:
            top[frames[-1]] = top.get(frames[-1], 0) + int(count)
    print(f"\nprofile of the API process under {what}: {total} samples; raw stacks in {out}")
    print("  self (on top of the stack)                 inclusive (anywhere in the stack)")
    by_self = sorted(top.items(), key=lambda kv: -kv[1])[:25]
    by_incl = sorted(inclusive.items(), key=lambda kv: -kv[1])[:25]
    for (fs, cs), (fi, ci) in zip(by_self, by_incl, strict=False):
        print(f"  {100 * cs / total:5.1f}% {fs[:42]:<42} {100 * ci / total:5.1f}% {fi[:70]}")


async def _every_posting_counted(dsn: str, posted: int) -> None:
    """Each posting answered 2xx is a completion recorded in the ledger (one more may have
    been in flight when a wrk run ended, so at least as many)."""
    conn = await connect(dsn)
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'completion_recorded'"
            " AND data->>'external_id' LIKE 'b-%'"
        )
    finally:
        await conn.close()
    if stored < posted:
        raise SystemExit(f"{posted:,} postings answered 2xx, but {stored:,} recorded")
    print(f"every posting recorded: {posted:,} answered, {stored:,} in the ledger", flush=True)


def posting(g: int, ids: list[str], noon: int) -> bytes:
    """Posting number `g` as bench/spec10.lua writes it (for a client other than wrk)."""
    k = g // len(ids)
    day = datetime.fromtimestamp(noon - (k // ACTIVITIES) * 86400, UTC).date()
    return (
        f'{{"external_id":"b-{g}","manager_id":"{ids[g % len(ids)]}",'
        f'"activity_id":"bench-{k % ACTIVITIES}","completed_on":"{day.isoformat()}",'
        '"ceus":"1.25"}'
    ).encode()


def _noon() -> int:
    return int(datetime.combine(datetime.now(UTC).date(), clock_time(12), UTC).timestamp())


async def rebuild_row(args: argparse.Namespace, led: Ledger10, summary: Summary) -> None:
    totals: list[float] = []
    each: dict[str, list[float]] = {}
    conn = await connect(led.dsn)
    try:
        events = int(await conn.fetchval("SELECT max(position) FROM events"))
    finally:
        await conn.close()
    for round_ in range(args.rebuild_rounds):
        spent = 0.0
        for projection in all_projections():
            runner = ProjectionRunner(led.dsn, projection, batch_size=500)
            start = time.perf_counter()
            await runner.rebuild(restart=True)
            elapsed = time.perf_counter() - start
            spent += elapsed
            each.setdefault(projection.name, []).append(events / elapsed)
            rate = events / elapsed
            print(f"  rebuild round {round_ + 1} {projection.name:<18} {rate:>10,.0f} ev/s"
                  f" ({elapsed:.1f} s)", flush=True)  # fmt: skip
        totals.append(events / spent)
        print(f"  rebuild round {round_ + 1} all projections    {totals[-1]:>10,.0f} ev/s"
              f" ({spent:.1f} s)", flush=True)  # fmt: skip
    slowest = min(each, key=lambda name: min(each[name]))
    summary.add(
        f"rebuild of {events:,} events, every projection",
        ">= 100,000/s",
        "",
        f"{span(totals)} events/s (all, one after the other)",
        f"slowest: {slowest} {span(each[slowest])}/s",
        "",
    )


async def verify_row(args: argparse.Namespace, led: Ledger10, summary: Summary) -> None:
    rates, checked = [], 0
    for round_ in range(args.rounds):
        start = time.perf_counter()
        report = await verify_database(led.dsn)
        elapsed = time.perf_counter() - start
        if not report.ok:
            raise SystemExit(f"verify failed on the copy: {report}")
        rates.append(report.events_checked / elapsed)
        checked = report.events_checked
        print(f"  verify round {round_ + 1} {rates[-1]:>10,.0f} ev/s ({elapsed:.1f} s,"
              f" {report.events_checked:,} events)", flush=True)  # fmt: skip
    summary.add(f"verify of {checked:,} events", ">= 1,000,000/s", "",
                f"{span(rates)} events/s", "", "")  # fmt: skip


async def append_row(args: argparse.Namespace, led: Ledger10, summary: Summary) -> None:
    """bench/append.py's single-event cases and its eventsourcing run, on a database of
    their own on the same server."""
    options = argparse.Namespace(
        events=2000, writers=[1, 16, 64], batch=1, rounds=args.rounds, no_eventsourcing=False
    )
    async with sibling_database(led.dsn, "append") as dsn:
        conn = await connect(dsn)
        try:
            await migrate(conn, load_migrations())
        finally:
            await conn.close()
        ours: dict[int, appends.Stats] = {}
        async with create_pool(dsn, min_size=64, max_size=64) as pool:
            await pool.execute(appends._SCRATCH)
            store = PostgresEventStore(pool)
            calls = {"store": appends.store_call(store), "bare": appends.bare_call(pool)}
            for w in options.writers:
                stats = await appends.measure(
                    calls, events=options.events if w > 1 else options.events // 2, batch=1,
                    writers=w, rounds=args.rounds,
                )  # fmt: skip
                ours[w] = stats["store"]
                print(f"  append {appends.line(f'x{w}', stats['store'], stats['bare'], None)}",
                      flush=True)  # fmt: skip
        es = await appends.eventsourcing_rates(dsn, options)
    for w in options.writers:
        theirs = es[str(w)]
        summary.add(
            f"store appends vs eventsourcing, {w} writer{'s' if w > 1 else ''}", ">= 2x",
            f"{ours[w].rate / theirs['rate']:.2f}x",
            f"{ours[w].rate:,.0f} ev/s (best of {args.rounds})",
            f"{theirs['rate']:,.0f} ev/s", f"store {ours[w].percentile(50):.1f} / "
            f"{ours[w].percentile(99):.1f}; eventsourcing {theirs['p50']:.1f} /"
            f" {theirs['p99']:.1f}",
        )  # fmt: skip


# -- the run -----------------------------------------------------------------------------


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cpus, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


async def bench(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    summary = Summary()
    print(f"make bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
    async with lived_in(args.events) as (dsn, built):
        start = time.perf_counter()
        copy = await _copy(dsn)
        print(f"copy of the lived-in ledger ({built.events:,} events, {built.managers:,} managers)"
              f" in {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
        try:
            with tempfile.TemporaryDirectory(prefix="ceu-spec10-") as tmp:
                led = await _prepare(copy, Path(tmp))
                print(f"managers: all {len(led.managers['all'].read_text().split()):,};"
                      f" completions each {led.sizes['all'][0]}-{led.sizes['all'][1]}",
                      flush=True)  # fmt: skip
                # Rebuild and verify first: on the lived-in log as it was copied (the HTTP
                # rows add their postings, ~600,000 with the rosters).
                if "rebuild" in args.rows:
                    await rebuild_row(args, led, summary)
                if "verify" in args.rows:
                    await verify_row(args, led, summary)
                if set(args.rows) & {"post", "status", "roster", "hot"}:
                    await http_rows(args, led, summary)
                if "append" in args.rows:
                    await append_row(args, led, summary)
        finally:
            await _drop_copy(dsn)
    summary.print(
        f"SPEC 10, {args.rounds} rounds each ({args.seconds} s wrk runs, {args.connections}"
        f" connections), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()},"
        f" {time.perf_counter() - started:.0f} s in all"
    )
    rows = ",".join(args.rows)
    print(
        "\nrerun:\n"
        f"  make bench ROWS={rows} ROUNDS={args.rounds} WRK_SECONDS={args.seconds}\n"
        f"  .venv/bin/python -m bench.spec10 --rows {rows} --rounds {args.rounds}"
        f" --seconds {args.seconds}\n"
        "  .venv/bin/python -m bench.gap --before DIR  # the old gap's causes apart"
        " (DIR: git archive <commit> | tar -x -C DIR)\n"
        "  .venv/bin/python -m bench.lived_in       # (re)build the lived-in ledger alone"
    )


def main() -> None:
    asyncio.run(bench(parse_args()))


if __name__ == "__main__":
    main()
