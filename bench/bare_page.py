"""The baseline for bench/program_page.py: a trivial server-rendered Litestar page.

GET /page runs one asyncpg statement (a primary-key SELECT of the events table's first row)
and renders a small Jinja template with it: the same framework, template engine, server and
pool size as the ledger's pages, none of their work.  The ratio prices that work.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import asyncpg
from jinja2 import Environment
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig

_PAGE = """<!doctype html><html lang="en"><head><title>Bare page</title></head>
<body><main><h1>A bare page</h1><p>Event {{ position }}, of stream {{ stream }}.</p>
</main></body></html>"""


@get("/page")
async def page(state: State) -> Template:
    row = await state.pool.fetchrow("SELECT position, stream_id FROM events WHERE position = 1")
    return Template(
        template_str=_PAGE, context={"position": row["position"], "stream": row["stream_id"]}
    )


@contextlib.asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    size = int(os.environ.get("LEDGER_POOL_SIZE", "10"))
    async with asyncpg.create_pool(
        os.environ["DATABASE_URL"], min_size=size, max_size=size
    ) as pool:
        app.state.pool = pool
        yield


app = Litestar(
    [page],
    lifespan=[lifespan],
    template_config=TemplateConfig(
        instance=JinjaTemplateEngine.from_environment(Environment(autoescape=True))
    ),
    debug=False,
)
