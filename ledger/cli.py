"""`ceu-ledger`: the command line of the service.

Each command reads the settings once, finds its database (DATABASE_URL, or the embedded
server in LEDGER_DATA_DIR) and delegates; exit status 0 means it did what it says.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence

import msgspec
import uvicorn
from tqdm import tqdm

from events.chain import verify
from events.codec import Actor
from events.postgres import PostgresEventStore, connect, create_pool
from ledger.api.app import create_app
from ledger.commands import Context, Ledger
from ledger.infra.database import database_dsn
from ledger.infra.migrations import load_migrations, migrate
from ledger.settings import Settings
from projections.engine import ProjectionRunner
from projections.registry import by_name

__all__ = ["main"]

Handler = Callable[[Settings, argparse.Namespace], Awaitable[int]]


SYSTEM = Context(actor=Actor(role="system", id="ceu-ledger"), request_id="startup")


@contextlib.asynccontextmanager
async def migrated_dsn(settings: Settings) -> AsyncIterator[str]:
    """The database's DSN, with every migration applied and the default programs recorded."""
    async with database_dsn(settings) as dsn:
        conn = await connect(dsn)
        try:
            for applied in await migrate(conn, load_migrations(settings.migrations_dir)):
                print(f"applied migration {applied.version:04d}_{applied.name}", file=sys.stderr)
        finally:
            await conn.close()
        async with create_pool(dsn, min_size=1, max_size=2) as pool:
            await Ledger(PostgresEventStore(pool)).ensure_default_programs(SYSTEM)
        yield dsn


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    async with migrated_dsn(settings):
        print("migrations up to date")
    return 0


async def cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    async with database_dsn(settings) as dsn, create_pool(dsn, min_size=1, max_size=2) as pool:
        report = await verify(PostgresEventStore(pool))
    print(msgspec.json.encode(report).decode())
    if not report.ok:
        print(
            f"ledger chain broken at position {report.first_bad_position}: {report.problem}",
            file=sys.stderr,
        )
    return 0 if report.ok else 1


async def cmd_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    projections = by_name(args.names)
    async with migrated_dsn(settings) as dsn:
        for projection in projections:
            runner = ProjectionRunner(
                dsn, projection, batch_size=args.batch_size, poll_interval=settings.poll_interval
            )
            with tqdm(desc=projection.name, unit="ev", file=sys.stderr) as bar:

                def progress(done: int, total: int, bar: tqdm = bar) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                position = await runner.rebuild(restart=args.restart, progress=progress)
            print(f"{projection.name}: rebuilt up to position {position}")
    return 0


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling.  Its handlers re-raise the signal when
    `serve()` returns, which would kill the process before the embedded PostgreSQL is
    stopped; `cmd_serve` installs handlers that only ask for a graceful exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    host = args.host or settings.host
    port = args.port or settings.port
    async with migrated_dsn(settings) as dsn:
        app = create_app(settings, dsn, run_projectors=not args.no_projectors)
        server = _Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            # First signal: finish requests, close the lifespan (pool, projectors), then
            # leave this block, which stops the embedded server.  Second SIGINT: hurry.
            loop.add_signal_handler(sig, server.handle_exit, sig, None)
        try:
            await server.serve()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ceu-ledger", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    serve = add("serve", cmd_serve, "run the HTTP API (and the projectors)")
    serve.add_argument("--host", help="default LEDGER_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default LEDGER_PORT or 8000")
    serve.add_argument(
        "--no-projectors", action="store_true", help="leave projections to other processes"
    )
    add("migrate", cmd_migrate, "apply the SQL migrations that are not applied yet")
    add("verify", cmd_verify, "recompute the hash chain; exit 1 naming the first bad position")
    rebuild = add("rebuild", cmd_rebuild, "rebuild projections from position 0 (all if none named)")
    rebuild.add_argument("names", nargs="*", metavar="NAME")
    rebuild.add_argument("--batch-size", type=int, default=500)
    rebuild.add_argument(
        "--restart", action="store_true", help="start over even if an earlier rebuild was cut off"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return asyncio.run(args.handler(settings, args))
    except ValueError as exc:
        print(f"ceu-ledger: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
