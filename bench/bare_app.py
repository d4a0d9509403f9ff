"""The baseline for bench/http.py and bench/spec10.py: a bare Litestar app doing one asyncpg
statement per request.

POST /bare inserts one row (the same JSON body a completion posting carries) and returns its
id; GET /bare/{id} selects one row by primary key.  Same framework, same server, same pool
size as the ledger, none of the ledger's work: the ratio prices that work.

`python -m bench.bare_app --port N` serves it the way `ceu-ledger serve` serves the ledger
(ledger/cli.py `cmd_serve`): one process, uvicorn's `Server.serve()` on the event loop
`ledger.infra.limits.run_loop` makes, with `server_options()` (loop, HTTP parser, limits)
and no access log.  `--loop` and `--http` override those two, to measure what they are worth.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import uvicorn
from litestar import Litestar, Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath

from ledger.infra.limits import run_loop, server_options

_TABLE = "CREATE TABLE IF NOT EXISTS bench_http (id bigserial PRIMARY KEY, body jsonb NOT NULL)"


@post("/bare")
async def insert(request: Request, state: State) -> dict[str, int]:
    body = await request.body()
    msgspec.json.decode(body)  # parse it, as the ledger does
    row_id = await state.pool.fetchval(
        "INSERT INTO bench_http (body) VALUES ($1) RETURNING id", body.decode()
    )
    return {"id": row_id}


@get("/bare/{row_id:int}")
async def select(row_id: FromPath[int], state: State) -> dict[str, object]:
    row = await state.pool.fetchrow("SELECT id, body FROM bench_http WHERE id = $1", row_id)
    return {"id": row["id"], "body": row["body"]} if row else {}


@contextlib.asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    size = int(os.environ.get("LEDGER_POOL_SIZE", "10"))
    async with asyncpg.create_pool(
        os.environ["DATABASE_URL"], min_size=size, max_size=size
    ) as pool:
        await pool.execute(_TABLE)
        app.state.pool = pool
        yield


app = Litestar([insert, select], lifespan=[lifespan], debug=False)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", help="uvicorn's loop (default: what serve uses)")
    parser.add_argument("--http", help="uvicorn's HTTP protocol (default: what serve uses)")
    args = parser.parse_args()
    options = server_options()
    overrides = {"loop": args.loop, "http": args.http}
    options.update({k: v for k, v in overrides.items() if v is not None})
    config = uvicorn.Config(
        app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, **options
    )
    run_loop(uvicorn.Server(config).serve(), loop=options.get("loop"))


if __name__ == "__main__":
    main()
