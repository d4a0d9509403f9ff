"""A roster of 1,000 lines (POST /v1/completions/batch) through real HTTP, with its time split.

Starts what it needs in this one process: an embedded PostgreSQL (or DATABASE_URL), the
bench.http catalogue and managers, the app (without projectors unless `--projectors`) served
by uvicorn on loopback in this event loop, and a keep-alive client on raw asyncio streams.
Each roster is 1,000 distinct postings that all count, spread over `--managers` managers (5
lines each at 200), like bench.http's roster row.  After `--warmup` untimed rosters, each
of `--rosters` timed ones is split by timers wrapped around the roster's own steps:

- parse: `read_batch` (the body decoded and every line checked)
- find: the earlier postings (`find_many`), load: the managers' records (`current_many`,
  its `read_streams` included), append: `append_many` (sealing, the INSERT and the commit)
- decide: the rest of `record_completions` (the rules, the events encoded)
- answer: `batch_result` (the per-line results)
- http: the rest of the whole (the request read, auth, middleware, the JSON response, the
  sockets)
- gc: the garbage collector's pauses, wherever they fell (inside the phases above), and
  gc2 those of its oldest generation
Each phase is given in wall-clock time and in this process's CPU time (PostgreSQL's is not
in it); on a shared machine the CPU figures move much less than the wall-clock ones.

Per phase: the median over the timed rosters (ms), and its share of the whole.  `--profile`
also runs py-spy (or cProfile) over the timed rosters and prints the top frames.  Compare figures
only within one run (the machine is shared).

    python -m bench.roster [--rosters 8] [--warmup 2] [--managers 200] [--profile py-spy]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import gc
import io
import os
import pstats
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
import uvicorn

import ledger.api.controllers.completions as controller
from bench._common import run_with_database
from bench.http import Postings, _set_up
from ledger.app.factory import create_app
from ledger.settings import Settings

PHASES = ("parse", "find", "load", "decide", "append", "answer", "http", "gc", "gc2", "whole")
LINES = 1000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.roster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rosters", type=int, default=8, help="timed rosters")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rosters first")
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument("--projectors", action="store_true", help="run the projectors too")
    parser.add_argument(
        "--gc-freeze", action="store_true",
        help="gc.freeze() once the app has started (what a server could do after start-up)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", choices=("py-spy", "cprofile"),
        help="profile the timed rosters: py-spy (pip install py-spy into the venv) samples this"
        " process at 1,000 Hz and prints the inclusive shares; cprofile prints its tables",
    )  # fmt: skip
    return parser.parse_args()


class Timers:
    """Seconds spent in each wrapped step during the current roster, and in the garbage
    collector (`gc`, its collections of the oldest generation apart: `gc2`)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._collecting = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._collecting = time.perf_counter()
            return
        seconds = time.perf_counter() - self._collecting
        self.add("gc", seconds)
        if info["generation"] == 2:
            self.add("gc2", seconds)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn` timed into `name`: wall-clock, and this process's CPU as `name`/cpu (over an
        await, that includes whatever else the process ran meanwhile, such as the store's
        flush task during `append_many`)."""
        if asyncio.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start, cpu = time.perf_counter(), time.process_time()
                try:
                    return await fn(*args, **kwargs)
                finally:
                    self.add(name, time.perf_counter() - start, time.process_time() - cpu)

            return timed_async

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - start, time.process_time() - cpu)

        return timed

    def add(self, name: str, seconds: float, cpu: float | None = None) -> None:
        self.spent[name] = self.spent.get(name, 0.0) + seconds
        if cpu is not None:
            self.spent[f"{name}/cpu"] = self.spent.get(f"{name}/cpu", 0.0) + cpu

    def split(self) -> dict[str, float]:
        """Each phase's wall-clock seconds, and under `phase/cpu` its CPU seconds."""
        phases: dict[str, float] = {}
        for suffix in ("", "/cpu"):
            s = lambda name, suffix=suffix: self.spent.get(name + suffix, 0.0)  # noqa: E731
            command, whole = s("command"), s("whole")
            for name in ("parse", "find", "load", "append", "answer"):
                phases[name + suffix] = s(name)
            decide = command - s("find") - s("load") - s("append")
            phases["decide" + suffix] = decide
            phases["http" + suffix] = whole - s("parse") - command - s("answer")
            phases["whole" + suffix] = whole
        phases["gc"], phases["gc2"] = self.spent.get("gc", 0.0), self.spent.get("gc2", 0.0)
        return phases


def _instrument(app: Any, timers: Timers) -> None:
    """Timers around the roster's steps (instance and module attributes of this process)."""
    store = app.state.ledger.store
    store.find_many = timers.wrap("find", store.find_many)
    store.append_many = timers.wrap("append", store.append_many)
    managers = app.state.ledger.managers
    managers.current_many = timers.wrap("load", managers.current_many)
    controller.read_batch = timers.wrap("parse", controller.read_batch)
    controller.batch_result = timers.wrap("answer", controller.batch_result)
    controller.record_completions = timers.wrap("command", controller.record_completions)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _served(app: Any) -> AsyncIterator[int]:
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


class Client:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, token: str):
        self.reader, self.writer, self.token = reader, writer, token

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)


def _rosters(postings: Postings, managers: int, count: int) -> list[bytes]:
    spread = [f"m-{i % managers}" for i in range(LINES)]
    return [
        msgspec.json.encode({"items": [postings.body(m) for m in spread]}) for _ in range(count)
    ]


async def _one(client: Client, body: bytes, timers: Timers) -> dict[str, float]:
    timers.spent.clear()
    start, cpu = time.perf_counter(), time.process_time()
    status, answer = await client.post("/v1/completions/batch", body)
    timers.add("whole", time.perf_counter() - start, time.process_time() - cpu)
    items = msgspec.json.decode(answer).get("results", []) if status == 200 else []
    created = sum(1 for item in items if item.get("status") == "created")
    if status != 200 or created != LINES:
        raise SystemExit(f"roster answered {status}, {created} created: {answer[:300]!r}")
    return timers.split()


def _report(runs: list[dict[str, float]]) -> None:
    median = {p: statistics.median(r[p] for r in runs) for p in runs[0]}
    whole, cpu = median["whole"], median["whole/cpu"]
    print(f"{len(runs)} rosters of {LINES:,} lines; median per roster:")
    print("  phase      wall ms  share    cpu ms  share  (cpu: this process's)")
    for phase in PHASES:
        line = f"  {phase:<7} {1000 * median[phase]:8.1f}  {100 * median[phase] / whole:5.1f}%"
        if f"{phase}/cpu" in median:
            c = median[f"{phase}/cpu"]
            line += f"  {1000 * c:8.1f}  {100 * c / cpu:5.1f}%"
        print(line)
    mean = {p: statistics.fmean(r[p] for r in runs) for p in ("gc", "gc2", "whole/cpu", "whole")}
    print(
        f"  mean: whole {1000 * mean['whole']:.1f} ms, cpu {1000 * mean['whole/cpu']:.1f} ms,"
        f" gc {1000 * mean['gc']:.1f} ms"
        f" (gc2 {1000 * mean['gc2']:.1f} ms); {LINES / mean['whole']:,.0f} completions/s;"
        f" {len(gc.get_objects()):,} objects tracked by the collector"
    )
    low, high = min(r["whole"] for r in runs), max(r["whole"] for r in runs)
    print(
        f"roster of 1,000: {LINES / whole:,.0f} completions/s at the median"
        f" ({1000 * low:.0f}-{1000 * high:.0f} ms a roster;"
        f" {LINES / high:,.0f}-{LINES / low:,.0f}/s)  (goal >= 20,000/s)",
        flush=True,
    )


async def _measure(args: argparse.Namespace, client: Client, timers: Timers) -> None:
    postings = Postings()
    warm = _rosters(postings, args.managers, args.warmup)
    timed = _rosters(postings, args.managers, args.rosters)
    for body in warm:
        await _one(client, body, timers)
    if args.profile == "py-spy":
        async with _spied() as out:
            runs = [await _one(client, body, timers) for body in timed]
        _report(runs)
        _spy_report(out)
    elif args.profile == "cprofile":
        profiler = cProfile.Profile()
        profiler.enable()
        runs = [await _one(client, body, timers) for body in timed]
        profiler.disable()
        _report(runs)
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        print(text.getvalue())
    else:
        _report(runs=[await _one(client, body, timers) for body in timed])


@contextlib.asynccontextmanager
async def _spied() -> AsyncIterator[Path]:
    """py-spy recording this process (raw collapsed stacks) while the block runs."""
    out = Path(tempfile.gettempdir()) / f"ceu-roster-profile-{os.getpid()}.txt"
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(os.getpid()),
        "--rate", "1000", "--format", "raw", "--output", str(out), "--nonblocking",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(1.0)  # py-spy attaches
    try:
        yield out
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        await spy.wait()


def _spy_report(out: Path) -> None:
    """The frames in most samples (inclusive) and most often on top (self), of the samples
    inside the roster's request (those under the ASGI app: the client and the idle loop
    are left out, and counted)."""
    inclusive: dict[str, int] = {}
    top: dict[str, int] = {}
    total = outside = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        frames = [_frame(x) for x in stack.split(";")[1:]]
        n = int(count)
        if not any(f.endswith("run_asgi") or "_flush_queue" in f for f in frames):
            outside += n
            continue
        total += n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
        if frames:
            top[frames[-1]] = top.get(frames[-1], 0) + n
    print(f"\npy-spy: {total} samples in the request path ({outside} outside it); {out}")
    print("  self (on top of the stack)                 inclusive (anywhere in the stack)")
    by_self = sorted(top.items(), key=lambda kv: -kv[1])[:30]
    by_incl = sorted(inclusive.items(), key=lambda kv: -kv[1])[:30]
    for (fs, cs), (fi, ci) in zip(by_self, by_incl, strict=False):
        print(f"  {100 * cs / total:5.1f}% {fs[:42]:<42} {100 * ci / total:5.1f}% {fi[:70]}")


def _frame(raw: str) -> str:
    """'function (path/to/module.py:12)' as 'module.function'."""
    name, _, where = raw.partition(" (")
    path = where.split(":")[0]
    module = path.rsplit("/", 1)[-1].removesuffix(".py")
    if "site-packages/" in path:
        return f"{path.split('site-packages/')[-1].split('/')[0]}:{module}.{name}"
    return f"{module}.{name}"


async def bench(dsn: str) -> None:
    args = parse_args()
    token = await _set_up(dsn, args.managers)
    with tempfile.TemporaryDirectory(prefix="ceu-roster-") as data_dir:
        settings = Settings(
            pool_size=10, data_dir=Path(data_dir), log_level="warning",
            public_url="http://127.0.0.1",
        )  # fmt: skip
        app = create_app(settings, dsn, run_projectors=args.projectors)
        timers = Timers()
        async with _served(app) as port:
            _instrument(app, timers)
            if args.gc_freeze:
                gc.collect()
                gc.freeze()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                await _measure(args, Client(reader, writer, token), timers)
            finally:
                writer.close()


if __name__ == "__main__":
    run_with_database(bench)
