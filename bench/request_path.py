"""The API's own request path (no projector anywhere), against the bare app, in one run.

bench/http.py measures `ceu-ledger serve`, whose process also runs the projectors; this one
prices only what a request costs the API: each ledger server is `create_app(...,
run_projectors=False)` served by uvicorn (with the product's `server_options()`) in a process
of its own, beside bench/bare_app.py under uvicorn with the same settings, on the same embedded
PostgreSQL, driven by bench/http.py's keep-alive load generator from this process.

Rows (best of R rounds, cases alternating order each round): GET status vs GET /bare/{id}
(goal >= 0.6x) and POST /v1/completions vs POST /bare (goal >= 0.5x).

`--tree DIR` serves the ledger from another source tree as well, e.g. an export
of the commit before a change (`git archive <rev> | tar -x -C /tmp/base`), so before and after
are measured in the same run: every tree gets its own ledger server and bare app (under that
tree's `server_options`), and its own rows.  Each pair holds up to 40 connections
(LEDGER_POOL_SIZE=20) of PostgreSQL's default 100: use one `--tree` at a time.
`--profile SECONDS` then records the first tree's server with py-spy (raw collapsed stacks)
under GET status load (`--profile-post`: under POST load) and prints the top frames.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import pstats
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil

from bench._common import run_with_database
from bench.http import (
    Measured,
    Postings,
    Target,
    _best,
    _free_port,
    _latency,
    _profile,
    _set_up,
    _start,
    _stop,
)
from ledger.cli import migrated_dsn
from ledger.settings import Secret, Settings

HERE = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.request_path",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--requests", type=int, default=2000, help="requests per timed run")
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument("--completions", type=int, default=20, help="per manager, before")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tree", action="append", default=[], help="another source tree")
    parser.add_argument("--not-this", action="store_true", help="only the --tree trees")
    parser.add_argument("--no-post", action="store_true", help="GET status only")
    parser.add_argument("--direct", action="store_true", help="GET status called as ASGI only")
    parser.add_argument("--cprofile", metavar="PATH", help="with --direct: cProfile to PATH")
    parser.add_argument("--profile", type=float, default=0, metavar="SECONDS")
    parser.add_argument("--profile-post", action="store_true")
    args = parser.parse_args()
    this = {} if args.not_this else {"this": HERE}
    args.trees = this | {Path(t).name: Path(t).resolve() for t in args.tree}
    return args


_SERVE = """
import os, uvicorn
from ledger.app.factory import create_app
from ledger.infra.limits import server_options
from ledger.infra.logs import configure_logging
from ledger.settings import Settings
configure_logging("WARNING")  # as `serve --log-level warning`
app = create_app(Settings.from_env(), os.environ["DATABASE_URL"], run_projectors=False)
uvicorn.run(app, host="127.0.0.1", port={port}, log_config=None, access_log=False,
            log_level="warning", **server_options())
"""
"""The ledger app without projectors, under uvicorn: a child process's program, so that it
serves the create_app of the tree on its PYTHONPATH (which need not hold this file)."""


_DIRECT = """
import asyncio, os, sys, time
from ledger.infra.logs import configure_logging
from ledger.settings import Settings
configure_logging("WARNING")
if {bare}:
    from bench.bare_app import app
    paths = [("GET", f"/bare/{{1 + i % 200}}") for i in range({n})]
    headers = []
else:
    from ledger.app.factory import create_app
    app = create_app(Settings.from_env(), os.environ["DATABASE_URL"], run_projectors=False)
    paths = [("GET", f"/v1/managers/m-{{i % {m}}}/status") for i in range({n})]
    headers = [(b"authorization", b"Bearer bench-admin")]

async def one(method, path, statuses):
    scope = {{"type": "http", "asgi": {{"version": "3.0"}}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": b"", "root_path": "", "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {{}}}}
    async def receive():
        return {{"type": "http.request", "body": b"", "more_body": False}}
    async def send(message):
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1
    await app(scope, receive, send)

async def worker(share, statuses):
    for method, path in share:
        await one(method, path, statuses)

async def main():
    async with app.lifespan():
        statuses = {{}}
        await asyncio.gather(*(worker(paths[i::{c}], statuses) for i in range({c})))  # warm
        best = float("inf")
        for _ in range({rounds}):
            statuses = {{}}
            cpu = time.process_time()
            await asyncio.gather(*(worker(paths[i::{c}], statuses) for i in range({c})))
            best = min(best, (time.process_time() - cpu) / len(paths))
        assert set(statuses) == {{200}}, statuses
        print(f"{{best * 1e6:.1f}}")
        reads = getattr(app.state, "reads", None)
        print(f"assessed {{getattr(reads, 'assessed', '?')}}", file=sys.stderr)

asyncio.run(main())
"""
"""`--direct`: GET status (or the bare select) called as an ASGI app in one process, without
HTTP or sockets: the CPU time per request of the Python request path alone (and its
PostgreSQL client's share)."""


async def _direct_data(args: argparse.Namespace, env: dict[str, str], token: str) -> None:
    """The same records and bare rows as the HTTP rows, posted through servers of this tree."""
    ledger_port, bare_port = _free_port(), _free_port()
    tree_env = {**env, "PYTHONPATH": str(HERE)}
    ledger = _start([sys.executable, "-c", _SERVE.format(port=ledger_port)], tree_env, ledger_port)
    bare = _bare(bare_port, tree_env)
    try:
        for _ in range(args.completions):
            postings = [_POSTINGS.post(f"m-{i}") for i in range(args.managers)]
            await Target(ledger_port, token).run(postings, args.connections)
        await Target(bare_port).run([("POST", "/bare", b"{}")] * 200, args.connections)
    finally:
        _stop(ledger)
        _stop(bare)


async def _direct(args: argparse.Namespace, env: dict[str, str], trees: dict[str, Path]) -> None:
    """Each tree's and its bare app's CPU per request, called directly, alternating."""
    best: dict[str, list[float]] = {}
    for round_ in range(args.rounds):
        for name, tree in trees.items() if round_ % 2 == 0 else reversed(trees.items()):
            for bare in (False, True):
                code = _DIRECT.format(
                    bare=bare, n=args.requests, m=args.managers, c=args.connections, rounds=2
                )
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", code, env={**env, "PYTHONPATH": str(tree)},
                    stdout=subprocess.PIPE,
                )  # fmt: skip
                out, _ = await asyncio.wait_for(process.communicate(), 300)
                best.setdefault(f"{'bare ' if bare else ''}{name}", []).append(float(out))
    if args.cprofile:
        await _cprofile(args, env, next(iter(trees.values())))
    for name in trees:
        ours, theirs = min(best[name]), min(best[f"bare {name}"])
        print(
            f"direct GET status [{name}]: ledger {ours:,.0f} us CPU, bare select {theirs:,.0f} us,"
            f"  ratio {theirs / ours:.2f}   (all rounds: {best[name]} / {best[f'bare {name}']})",
            flush=True,
        )


async def _cprofile(args: argparse.Namespace, env: dict[str, str], tree: Path) -> None:
    """The first tree's direct GET status under cProfile; prints the top functions by own
    time (cProfile slows everything, evenly enough to compare shares)."""
    code = _DIRECT.format(
        bare=False, n=args.requests, m=args.managers, c=args.connections, rounds=1
    )
    script, out = Path(args.cprofile).with_suffix(".py"), Path(args.cprofile)
    script.write_text(code)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cProfile", "-o", str(out), str(script),
        env={**env, "PYTHONPATH": str(tree)}, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.wait_for(process.wait(), 300)
    stats = pstats.Stats(str(out))
    stats.sort_stats("tottime").print_stats(25)


def _bare(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """bench/bare_app.py under the same uvicorn settings as the ledger (the `server_options`
    of the tree on PYTHONPATH)."""
    code = (
        "import uvicorn; from ledger.infra.limits import server_options;"
        f"uvicorn.run('bench.bare_app:app', host='127.0.0.1', port={port}, log_level='warning',"
        " access_log=False, **server_options())"
    )
    return _start([sys.executable, "-c", code], env, port)


async def bench(dsn: str) -> None:
    args = parse_args()
    async with migrated_dsn(Settings(database_url=Secret(dsn))):
        token = await _set_up(dsn, args.managers)
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "LEDGER_POOL_SIZE": "20",
        "LEDGER_ADMIN_TOKEN": "bench-admin",
        "LEDGER_LOG_LEVEL": "warning",
        "LEDGER_PUBLIC_URL": "http://127.0.0.1",
    }
    trees: dict[str, Path] = args.trees
    if args.direct:
        await _direct_data(args, env, token)
        await _direct(args, env, trees)
        return
    servers: dict[str, tuple[int, int]] = {}  # tree: ledger's port, its bare app's port
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, tree in trees.items():
            tree_env = {**env, "PYTHONPATH": str(tree)}
            ledger_port, bare_port = _free_port(), _free_port()
            command = [sys.executable, "-c", _SERVE.format(port=ledger_port)]
            processes.append(_start(command, tree_env, ledger_port))
            processes.append(_bare(bare_port, tree_env))
            servers[name] = (ledger_port, bare_port)
            print(
                f"[{name}] ledger pid {processes[-2].pid} (no projectors),"
                f" bare pid {processes[-1].pid}: {tree}",
                flush=True,
            )
        pids = {
            name: (psutil.Process(processes[2 * i].pid), psutil.Process(processes[2 * i + 1].pid))
            for i, name in enumerate(servers)
        }
        await _measure(args, token, servers, pids)
        if args.profile:
            port, _ = next(iter(servers.values()))
            load = _loads(args, token, port)["post" if args.profile_post else "status"]
            await _profile(processes[0].pid, args.profile, load)
    finally:
        for process in processes:
            _stop(process)


_POSTINGS = Postings()


def _loads(
    args: argparse.Namespace, token: str, port: int
) -> dict[str, Callable[[], Awaitable[Measured]]]:
    n, c, m = args.requests, args.connections, args.managers
    provider, admin = Target(port, token), Target(port, "bench-admin")

    async def post() -> Measured:
        return await provider.run([_POSTINGS.post(f"m-{i % m}") for i in range(n)], c)

    async def status() -> Measured:
        return await admin.run(
            [("GET", f"/v1/managers/m-{i % m}/status", b"") for i in range(n)], c
        )

    return {"post": post, "status": status}


async def _measure(
    args: argparse.Namespace,
    token: str,
    servers: dict[str, tuple[int, int]],
    pids: dict[str, tuple[psutil.Process, psutil.Process]],
) -> None:
    cpu_get: dict[str, float] = {}
    cpu_post: dict[str, float] = {}
    n, c, m = args.requests, args.connections, args.managers
    # Every manager holds `completions` completions (posted once, through the first server);
    # every server reads every record once before timing (its snapshot is warm).
    provider = Target(next(iter(servers.values()))[0], token)
    for _ in range(args.completions):
        await provider.run([_POSTINGS.post(f"m-{i}") for i in range(m)], c)
    cases: dict[str, Callable[[], Awaitable[Measured]]] = {}
    posts: dict[str, Callable[[], Awaitable[Measured]]] = {}
    for name, (port, bare_port) in servers.items():
        await Target(port, "bench-admin").run(
            [("GET", f"/v1/managers/m-{i}/status", b"") for i in range(m)], c
        )
        await Target(port, token).run([_POSTINGS.post(f"m-{i}") for i in range(m)], c)
        bare = Target(bare_port)
        await bare.run([("POST", "/bare", b"{}")] * 200, c)
        loads = _loads(args, token, port)
        ours, theirs = pids[name]
        cases[name] = _bounded(loads["status"], ours, name, cpu_get)
        posts[name] = _bounded(loads["post"], ours, name, cpu_post)
        bare_name = f"bare {name}"
        select = [("GET", f"/bare/{1 + i % 200}", b"") for i in range(n)]
        cases[bare_name] = _bounded(
            functools.partial(bare.run, select, c), theirs, bare_name, cpu_get
        )
        insert = [("POST", "/bare", b'{"a": 1}')] * n
        posts[bare_name] = _bounded(
            functools.partial(bare.run, insert, c), theirs, bare_name, cpu_post
        )
    print(f"\n{c} connections, {n} requests a run, best of {args.rounds}; ratio = ledger / bare")
    reads = await _best(args.rounds, cases, (200,))
    for name in servers:
        _line(f"GET status [{name}]", reads[name], reads[f"bare {name}"], "bare select", ">= 0.6")
        _cpu(name, cpu_get)
    if args.no_post:
        return
    written = await _best(args.rounds, posts)
    for name in servers:
        _line(
            f"POST completion [{name}]", written[name], written[f"bare {name}"], "bare insert",
            ">= 0.5",
        )  # fmt: skip
        _cpu(name, cpu_post)


def _bounded(
    run: Callable[[], Awaitable[Measured]],
    process: psutil.Process,
    name: str,
    cpu: dict[str, float],
) -> Callable[[], Awaitable[Measured]]:
    """`run`, bounded in time, noting the least CPU time its server spent per request
    (user + system, in microseconds): the figure least moved by the machine's other load."""

    async def bounded() -> Measured:
        before = process.cpu_times()
        measured = await asyncio.wait_for(run(), 120)
        after = process.cpu_times()
        spent = (after.user - before.user + after.system - before.system) / len(measured[1])
        cpu[name] = min(cpu.get(name, float("inf")), spent * 1e6)
        return measured

    return bounded


def _cpu(name: str, cpu: dict[str, float]) -> None:
    ours, theirs = cpu[name], cpu[f"bare {name}"]
    print(
        f"  server CPU per request [{name}]: ledger {ours:,.0f} us, bare {theirs:,.0f} us,"
        f"  ratio {theirs / ours:.2f}",
        flush=True,
    )


def _line(
    label: str, ours: tuple[float, list[float]], theirs: tuple[float, list[float]], bare: str,
    goal: str,
) -> None:  # fmt: skip
    print(
        f"{label:<28} {ours[0]:>7,.0f}/s ({_latency(ours[1])})   {bare} {theirs[0]:>7,.0f}/s"
        f"   ratio {ours[0] / theirs[0]:.2f}  (goal {goal})",
        flush=True,
    )


if __name__ == "__main__":
    run_with_database(bench)
