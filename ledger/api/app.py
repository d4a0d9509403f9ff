"""The application factory: one place that wires settings, the pool and the routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg
from litestar import Litestar, MediaType, Response, get
from litestar.datastructures import State

from events.postgres import PostgresEventStore, create_pool, fetch_head
from ledger.infra.projectors import running_projectors
from ledger.settings import Settings

__all__ = ["create_app"]


@get("/health", media_type=MediaType.JSON, operation_id="health", tags=["operations"])
async def health(state: State) -> Response[dict[str, object]]:
    """Liveness, with a round trip to the database."""
    try:
        async with state.pool.acquire(timeout=5) as conn:
            head = await fetch_head(conn)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return Response({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return Response({"status": "ok", "database": "ok", "head_position": head.position})


def create_app(settings: Settings, dsn: str, *, run_projectors: bool = True) -> Litestar:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with create_pool(dsn, min_size=1, max_size=settings.pool_size) as pool:
            app.state.pool = pool
            app.state.store = PostgresEventStore(pool)
            if not run_projectors:
                yield
                return
            async with running_projectors(dsn, poll_interval=settings.poll_interval):
                yield

    return Litestar(route_handlers=[health], lifespan=[lifespan])
