"""The program page at 1,000,000 events against a bare page, measured in one run.

On the lived-in ledger of bench/lived_in.py (built once, cached under ~/.cache/ceu-ledger),
starts `ceu-ledger serve` as it runs by default (one API process and its projector process
beside it, the settings bench/http.py gives it) and bench/bare_page.py (one uvicorn worker,
same pool size, same database server), waits until /health shows every projection caught
up, logs in as the ledger's CMM auditor (the login form, its CSRF token, the session
cookie), then times GET /programs/CMM (and /programs/CMOM) and GET /page one request at a
time, over several rounds (cases alternating order each round).  Prints p50 and p99 of each,
the ratios to the bare page, and each round's p50s (the machine is shared: read the range).

`--source DIR` runs the ledger's server from another checkout (say, `git archive` of an
older commit) against the same database: the figure before a change, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

from bench.http import _free_port, _ms, _settled, _start, _stop, service_env
from bench.lived_in import lived_in

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.program_page",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--views", type=int, default=20, help="views of each page per round")
    parser.add_argument("--source", type=Path, help="run the ledger from this source tree")
    parser.add_argument("--settle", type=float, default=600, help="seconds to wait for /health")
    return parser.parse_args()


async def _login(client: httpx.AsyncClient, token: str) -> None:
    form = await client.get("/login")
    found = _CSRF.search(form.text)
    assert found is not None, form.text[:300]
    answer = await client.post("/login", data={"token": token, "_csrf_token": found.group(1)})
    assert answer.status_code in (302, 303), (answer.status_code, answer.text[:300])


async def _views(client: httpx.AsyncClient, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        answer = await client.get(path)
        times.append(time.perf_counter() - start)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return times


async def bench(dsn: str, token: str, args: argparse.Namespace) -> None:
    env = service_env(dsn)
    ledger_env = dict(env)
    if args.source is not None:
        ledger_env["PYTHONPATH"] = str(args.source.resolve())
    ledger_port, bare_port = _free_port(), _free_port()
    serve = [sys.executable, "-m", "ledger.cli", "serve", "--log-level", "warning"]
    cwd = os.getcwd()
    if args.source is not None:
        os.chdir(args.source)
    try:
        ledger_server = _start([*serve, "--port", str(ledger_port)], ledger_env, ledger_port)
    finally:
        os.chdir(cwd)
    uvicorn = [sys.executable, "-m", "uvicorn", "bench.bare_page:app", "--port", str(bare_port)]
    bare_server = _start([*uvicorn, "--log-level", "warning", "--no-access-log"], env, bare_port)
    try:
        start = time.perf_counter()
        await _settled(ledger_port, args.settle)
        print(f"projections caught up after {time.perf_counter() - start:.0f} s", flush=True)
        await _measure(ledger_port, bare_port, token, args)
    finally:
        _stop(ledger_server)
        _stop(bare_server)


async def _measure(ledger_port: int, bare_port: int, token: str, args: argparse.Namespace) -> None:
    timeout = httpx.Timeout(120)
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{ledger_port}", timeout=timeout) as ledger,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{bare_port}", timeout=timeout) as bare,
    ):
        await _login(ledger, token)
        cases = {
            "program page CMM": (ledger, "/programs/CMM"),
            "program page CMOM": (ledger, "/programs/CMOM"),
            "bare page": (bare, "/page"),
        }
        first = {name: (await _views(c, path, 1))[0] for name, (c, path) in cases.items()}
        cold = ", ".join(f"{n} {1000 * t:.0f} ms" for n, t in first.items())
        print(f"first views (cold): {cold}", flush=True)
        every: dict[str, list[float]] = {name: [] for name in cases}
        p50s: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else list(reversed(names)):
                client, path = cases[name]
                times = await _views(client, path, args.views)
                every[name] += times
                p50s[name].append(_ms(times, 0.5))
    bare_p50 = _ms(every["bare page"], 0.5)
    print(f"\n{args.rounds} rounds x {args.views} views, one request at a time:")
    for name, times in every.items():
        rounds = ", ".join(f"{p:.0f}" for p in p50s[name])
        print(
            f"{name:<18} p50 {_ms(times, 0.5):7.1f} ms  p99 {_ms(times, 0.99):7.1f} ms"
            f"  mean {1000 * statistics.mean(times):7.1f} ms  x{_ms(times, 0.5) / bare_p50:6.1f}"
            f" the bare page's p50   (p50 per round: {rounds})",
            flush=True,
        )


def main() -> None:
    args = parse_args()

    async def run() -> None:
        async with lived_in(args.events) as (dsn, built):
            print(f"{built.events:,} events, {built.managers:,} managers", flush=True)
            await bench(dsn, built.auditor_token, args)

    asyncio.run(run())


if __name__ == "__main__":
    main()
