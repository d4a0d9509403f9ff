"""Why the old benches and the independent measurement disagreed: each suspected cause
measured apart, in one run, as a ratio to the bare app measured in the same block.

The old benches (bench/http.py) reported POST 0.55-0.62 and GET status 0.57-0.62 of the bare
app, and rosters at 23-27k completions/s; measured independently (wrk, 64 connections, the
bare app on uvloop and httptools, the service as `make run` starts it): POST 0.26-0.41,
status 0.25-0.26, rosters 2,806/s.  What differed, each a block here:

  settings   the event loop and HTTP parser, of the service and of the bare app: asyncio +
             h11 (what the old bench's bare app and the service ran: neither uvloop nor
             httptools was installed) vs uvloop + httptools (the independent measurement's
             bare app, SPEC 10's, and now `serve`'s default)
  projector  `serve` with its projector process (as `make run`) vs `serve --projectors none`
             (nothing projecting: the cores left to the API, PostgreSQL and wrk)
  history    status and POST on 200 managers of the shortest records (20-25 completions) vs
             200 of the longest (145-150), on the same server
  working    status and POST on 200 managers (the old bench's working set) vs on all ~11,400
             (more than the 10,000 records the API process keeps)
  size       a fresh ledger of 400 managers and ~2,000 events (the old bench's) vs the lived-in
             one of 1,000,000
  client     the old bench's load generator (Python asyncio, 64 keep-alive connections, a fixed
             number of requests) vs wrk, both against the same service and bare app
  log        `serve` at its default log level (info: a JSON line a request, as `make run`)
             vs `--log-level warning` (what the old bench ran)

And the levers of this round (`levers`, with --before naming a source tree of the code
before them, e.g. `git archive <commit> | tar -x -C DIR`): that code, the code after them
on the same loop and parser, and the code after them as `serve` now runs.

Every block starts its servers afresh; blocks alternate order over --rounds.  Ratios are
service / bare (uvloop + httptools) unless a line says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg

from bench.http import Target
from bench.lived_in import lived_in
from bench.spec10 import (
    Ledger10,
    Load,
    Wrk,
    _copy,
    _drop_copy,
    _free_port,
    _noon,
    _prepare,
    _server,
    _with_database,
    machine,
    posting,
    serve_command,
    serve_env,
    settled,
    span,
)
from events.postgres.connection import connect, create_pool
from events.postgres.store import PostgresEventStore
from ledger.cli import SYSTEM
from ledger.commands import Ledger, catalogue, managers
from ledger.commands.messages import EnrollManager, GrantCertification, RegisterProvider
from ledger.infra.migrations import load_migrations, migrate

SMALL = "spec10_small"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gap",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=6, help="one wrk run's length")
    parser.add_argument("--requests", type=int, default=3000, help="per Python-client run")
    parser.add_argument(
        "--blocks", default="settings,projector,history,working,size,client,log,levers"
    )
    parser.add_argument(
        "--before", default="", help="a source tree of the code before the levers (levers block)"
    )
    return parser.parse_args()


class Figures:
    """Each figure's values over the rounds, printed as they come."""

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {}

    def add(self, name: str, value: float, fmt: str = ",.0f") -> None:
        self.values.setdefault(name, []).append(value)
        print(f"  {name:<58} {value:{fmt}}", flush=True)


@contextlib.contextmanager
def _bare(dsn: str, log: Path, loop: str, http: str) -> Iterator[int]:
    port = _free_port()
    command = [sys.executable, "-m", "bench.bare_app", "--port", str(port), "--loop", loop,
               "--http", http]  # fmt: skip
    with _server(command, serve_env(dsn), port, log):
        yield port


class Gap:
    def __init__(self, args: argparse.Namespace, led: Ledger10, small: Ledger10) -> None:
        self.args, self.led, self.small = args, led, small
        self.wrk = Wrk(threads=2, seconds=args.seconds, noon=_noon())
        self.f = Figures()
        self.log = led.files / "servers.log"

    async def _pair(
        self, port: int, bare: int, ids: Path, led: Ledger10
    ) -> tuple[Load, Load, Load, Load]:
        """POST and status on the service, then insert and select on the bare app."""
        w = self.wrk
        post = await w.run(port, "post", ids, token=led.provider_token, connections=64)
        status = await w.run(port, "status", ids, token=led.admin_token, connections=64)
        insert = await w.run(bare, "insert", ids, connections=64)
        select = await w.run(bare, "select", ids, connections=64, lines=10_000)
        return post, status, insert, select

    def _ratios(self, label: str, loads: tuple[Load, Load, Load, Load]) -> None:
        post, status, insert, select = loads
        self.f.add(f"{label}: POST / bare insert", post.rate / insert.rate, ".2f")
        self.f.add(f"{label}: status / bare select", status.rate / select.rate, ".2f")
        self.f.add(f"{label}: POST req/s", post.rate)
        self.f.add(f"{label}: status req/s", status.rate)
        self.f.add(f"{label}: status p50 ms", status.p50, ".1f")
        self.f.add(f"{label}: status p99 ms", status.p99, ".1f")

    @contextlib.asynccontextmanager
    async def _service(
        self, led: Ledger10, *extra: str, code: str | None = None
    ) -> AsyncIterator[int]:
        """`serve` on `led` (from the source tree `code`, if given: PYTHONPATH), warmed and
        with its projections caught up."""
        port = _free_port()
        projecting = "none" not in extra  # without a projector the lag only grows
        env = serve_env(led.dsn) | ({"PYTHONPATH": code} if code else {})
        with _server(serve_command(port, " ".join(extra)), env, port, self.log):
            if projecting:
                await settled(port)
            await self.wrk.run(port, "status", led.managers["all"], token=led.admin_token,
                               connections=64, seconds=2)  # fmt: skip
            await self.wrk.run(port, "post", led.managers["all"], token=led.provider_token,
                               connections=64, seconds=2)  # fmt: skip
            if projecting:
                await settled(port)
            yield port

    async def settings(self) -> None:
        print("settings: event loop and HTTP parser of the service and of the bare app", flush=True)
        led, ids = self.led, self.led.managers["all"]
        old, new = (
            ("--loop", "asyncio", "--http", "h11"),
            ("--loop", "uvloop", "--http", "httptools"),
        )
        with (
            _bare(led.dsn, self.log, "asyncio", "h11") as bare_old,
            _bare(led.dsn, self.log, "uvloop", "httptools") as bare_new,
        ):
            for service, extra in (("asyncio+h11", old), ("uvloop+httptools", new)):
                async with self._service(led, *extra) as port:
                    for bare, bare_port in (
                        ("asyncio+h11", bare_old),
                        ("uvloop+httptools", bare_new),
                    ):
                        loads = await self._pair(port, bare_port, ids, led)
                        self._ratios(f"service {service}, bare {bare}", loads)
                        self.f.add(f"bare {bare}: insert req/s", loads[2].rate)
                        self.f.add(f"bare {bare}: select req/s", loads[3].rate)

    async def projector(self) -> None:
        print("projector: serve (projector process) vs serve --projectors none", flush=True)
        with _bare(self.led.dsn, self.log, "uvloop", "httptools") as bare:
            for label, extra in (
                ("with projector", ()), ("no projector", ("--projectors", "none"))
            ):  # fmt: skip
                async with self._service(self.led, *extra) as port:
                    self._ratios(label, await self._pair(port, bare, self.led.managers["all"],
                                                         self.led))  # fmt: skip

    async def history_and_working(self, blocks: set[str]) -> None:
        print("history / working set: one server, managers chosen apart", flush=True)
        with _bare(self.led.dsn, self.log, "uvloop", "httptools") as bare:
            async with self._service(self.led) as port:
                names = [n for n in ("short", "long") if "history" in blocks]
                names += [n for n in ("roster", "all") if "working" in blocks]
                labels = {"short": "200 shortest records", "long": "200 longest records",
                          "roster": "200 managers at random", "all": "all managers"}  # fmt: skip
                for name in names:
                    label = labels[name]
                    self._ratios(label, await self._pair(port, bare, self.led.managers[name],
                                                         self.led))  # fmt: skip

    async def size(self) -> None:
        print("size: a ledger of 400 managers vs the lived-in one", flush=True)
        with _bare(self.led.dsn, self.log, "uvloop", "httptools") as bare:
            for label, led in (("small ledger", self.small), ("lived-in ledger", self.led)):
                async with self._service(led) as port:
                    self._ratios(label, await self._pair(port, bare, led.managers["roster"], led))

    async def client(self) -> None:
        print("client: the old bench's Python load generator vs wrk", flush=True)
        led, ids = self.led, self.led.managers["roster"]
        chosen = ids.read_text().split()
        with _bare(led.dsn, self.log, "uvloop", "httptools") as bare:
            async with self._service(led) as port:
                n = self.args.requests
                service_post, service_get = (
                    Target(port, led.provider_token),
                    Target(port, led.admin_token),
                )
                plain = Target(bare)

                async def python(target: Target, kind: str) -> float:
                    base = self.wrk.base
                    self.wrk.base += n
                    if kind == "post":
                        path = "/v1/completions" if target is not plain else "/bare"
                        reqs = [("POST", path, posting(base + i, chosen, self.wrk.noon))
                                for i in range(n)]  # fmt: skip
                    elif target is plain:
                        reqs = [("GET", f"/bare/{1 + i % 10_000}", b"") for i in range(n)]
                    else:
                        reqs = [("GET", f"/v1/managers/{chosen[i % len(chosen)]}/status", b"")
                                for i in range(n)]  # fmt: skip
                    rate, _, statuses = await target.run(reqs, 64)
                    if set(statuses) - {200, 201}:
                        raise SystemExit(f"python client {kind}: {statuses}")
                    return rate

                p_post = await python(service_post, "post")
                p_ins = await python(plain, "post")
                p_stat = await python(service_get, "status")
                p_sel = await python(plain, "status")
                self.f.add("python client: POST / bare insert", p_post / p_ins, ".2f")
                self.f.add("python client: status / bare select", p_stat / p_sel, ".2f")
                self.f.add("python client: POST req/s / bare", p_post)
                self.f.add("python client: bare insert req/s", p_ins)
                self.f.add("python client: status req/s", p_stat)
                self.f.add("python client: bare select req/s", p_sel)
                self._ratios("wrk", await self._pair(port, bare, ids, led))

    async def levers(self) -> None:
        """The levers of this round, before and after, side by side: the code before them
        (--before, on asyncio's loop and httptools), the code after them on the same loop
        and parser (GET status in one round trip), and after them as `serve` now runs
        (uvloop and httptools)."""
        print("levers: before / one round trip / and uvloop", flush=True)
        ids = self.led.managers["roster"]
        with _bare(self.led.dsn, self.log, "uvloop", "httptools") as bare:
            for label, extra, code in (
                ("before the levers", (), self.args.before),
                ("status in one round trip", ("--loop", "asyncio", "--http", "httptools"), None),
                ("and uvloop (serve now)", (), None),
            ):  # fmt: skip
                async with self._service(self.led, *extra, code=code) as port:
                    self._ratios(label, await self._pair(port, bare, ids, self.led))

    async def log_level(self) -> None:
        print("log: serve at info (make run) vs --log-level warning", flush=True)
        with _bare(self.led.dsn, self.log, "uvloop", "httptools") as bare:
            for label, extra in (("log info", ()), ("log warning", ("--log-level", "warning"))):
                async with self._service(self.led, *extra) as port:
                    self._ratios(label, await self._pair(port, bare, self.led.managers["roster"],
                                                         self.led))  # fmt: skip


async def _small(admin_dsn: str, files: Path) -> Ledger10:
    """The old bench's ledger (bench/http.py `_set_up`): 400 managers certified in CMM, the
    provider and its activities, on a database of its own."""

    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{SMALL}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{SMALL}"')
    finally:
        await conn.close()
    dsn = _with_database(admin_dsn, SMALL)
    conn = await connect(dsn)
    try:
        await migrate(conn, load_migrations())
    finally:
        await conn.close()
    async with create_pool(dsn, min_size=1, max_size=8) as pool:
        ledger = Ledger(PostgresEventStore(pool), clock=lambda: datetime.now(UTC))
        await catalogue.ensure_default_programs(ledger, SYSTEM)
        await catalogue.register_provider(
            ledger,
            SYSTEM,
            RegisterProvider(provider_id="tma", name="TMA", programs=["CMM", "CMOM"]),
        )

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

        ids = [f"m-{m}" for m in range(400)]
        for start in range(0, len(ids), 50):
            await asyncio.gather(*(manager(m) for m in ids[start : start + 50]))
    # The activities (bench-0 ... bench-199) and the tokens are _prepare's, as on the copy.
    return await _prepare(dsn, files / "small")


async def gap(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    blocks = {b.strip() for b in args.blocks.split(",")}
    print(f"bench.gap, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
    async with lived_in() as (dsn, _built):
        copy = await _copy(dsn)
        try:
            with tempfile.TemporaryDirectory(prefix="ceu-gap-") as tmp:
                led = await _prepare(copy, Path(tmp))
                (Path(tmp) / "small").mkdir()
                small = await _small(_with_database(dsn, "postgres"), Path(tmp))
                g = Gap(args, led, small)
                steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                    (b, step)
                    for b, step in (
                        ("settings", g.settings), ("projector", g.projector),
                        ("history", lambda: g.history_and_working(blocks)),
                        ("size", g.size), ("client", g.client), ("log", g.log_level),
                        ("levers", g.levers),
                    )
                    if (b in blocks or (b == "history" and "working" in blocks))
                    and (b != "levers" or args.before)
                ]  # fmt: skip
                for round_ in range(args.rounds):
                    print(f"\nround {round_ + 1}", flush=True)
                    for _, step in steps if round_ % 2 == 0 else list(reversed(steps)):
                        await step()
        finally:
            await _drop_copy(dsn)
            conn = await asyncpg.connect(_with_database(dsn, "postgres"))
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{SMALL}" WITH (FORCE)')
            finally:
                await conn.close()
    print(f"\nbench.gap: {args.rounds} rounds, {time.perf_counter() - started:.0f} s, {machine()}")
    for name, values in g.f.values.items():
        fmt = ".2f" if "/" in name and "req/s" not in name else ",.0f"
        fmt = ".1f" if name.endswith("ms") else fmt
        print(f"  {name:<58} {span(values, fmt)}")


def main() -> None:
    asyncio.run(gap(parse_args()))


if __name__ == "__main__":
    main()
