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
from pathlib import Path

import msgspec
import uvicorn
from tqdm import tqdm

from events.chain import verify
from events.codec import Actor
from events.postgres import PostgresEventStore, connect, create_pool
from ledger.api.app import create_app
from ledger.api.auth import TokenStore
from ledger.api.controllers.associations import register_csv
from ledger.api.schemas import CompletionBody
from ledger.commands import Context, Ledger, Posting, Receipt
from ledger.demo import seed_demo
from ledger.infra.database import database_dsn
from ledger.infra.migrations import load_migrations, migrate
from ledger.roster_csv import parse_roster_csv
from ledger.settings import Settings
from projections import ceu_queries
from projections.ceu import CeuProjection
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


async def _print_demo_tokens(dsn: str) -> None:
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        identities = await seed_demo(Ledger(PostgresEventStore(pool)), TokenStore(pool), SYSTEM)
    for role, subject, token in identities:
        print(f"demo token {role} {subject}: {token}", flush=True)
    print("login: http://127.0.0.1:8000/login (paste one of the tokens above)", flush=True)


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
        if args.demo:
            await _print_demo_tokens(dsn)
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


async def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    async with migrated_dsn(settings) as dsn, create_pool(dsn, min_size=1, max_size=2) as pool:
        created = await TokenStore(pool).create(
            role=args.role,
            created_by="cli",
            provider_id=args.provider_id,
            manager_id=args.manager_id,
            programs=tuple(args.program or ()),
        )
    print(created.token)
    print(f"token {created.token_id} for {args.role}; it is shown only this once", file=sys.stderr)
    return 0


async def cmd_import_roster(settings: Settings, args: argparse.Namespace) -> int:
    """Each line stands alone, as in POST /v1/completions/batch: malformed lines are reported
    and skipped, the others are posted."""
    postings: list[tuple[int, Posting]] = []
    rejected: list[tuple[int, str, str]] = []
    for n, line in enumerate(parse_roster_csv(args.file.read_bytes(), max_lines=100_000), start=2):
        try:
            body = msgspec.convert(line, CompletionBody, strict=False)
        except msgspec.ValidationError as exc:
            rejected.append((n, str(line.get("external_id", "")), str(exc)))
        else:
            postings.append((n, Posting(**msgspec.structs.asdict(body))))
    ctx = Context(
        actor=Actor(role="provider", id=args.provider), request_id=f"import:{args.file.name}"
    )
    async with migrated_dsn(settings) as dsn, create_pool(dsn, min_size=1, max_size=4) as pool:
        ledger = Ledger(PostgresEventStore(pool))
        outcomes = await ledger.record_completions(ctx, args.provider, [p for _, p in postings])
    for (n, posting), outcome in zip(postings, outcomes, strict=True):
        if not isinstance(outcome, Receipt):
            rejected.append((n, posting.external_id, outcome.detail))
    for n, external_id, why in sorted(rejected):
        print(f"{args.file}:{n}: {external_id}: rejected: {why}", file=sys.stderr)
    created = sum(isinstance(o, Receipt) and o.created for o in outcomes)
    duplicate = sum(isinstance(o, Receipt) and not o.created for o in outcomes)
    print(f"created {created}, duplicate {duplicate}, rejected {len(rejected)}")
    return 1 if rejected else 0


async def cmd_export_renewals(settings: Settings, args: argparse.Namespace) -> int:
    async with migrated_dsn(settings) as dsn:
        await ProjectionRunner(dsn, CeuProjection()).catch_up_or_follow()
        conn = await connect(dsn)
        try:
            rows = await ceu_queries.renewal_register(conn, args.program)
        finally:
            await conn.close()
    if args.format == "csv":
        sys.stdout.write(register_csv(rows))
    else:
        sys.stdout.write(msgspec.json.encode(rows).decode() + "\n")
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
    serve.add_argument(
        "--demo", action="store_true", help="record demo data and print a token per demo identity"
    )
    add("migrate", cmd_migrate, "apply the SQL migrations that are not applied yet")
    tokens = commands.add_parser("token", help="API tokens").add_subparsers(
        dest="action", required=True
    )
    create = tokens.add_parser("create", help="create a token and print it (shown once)")
    create.set_defaults(handler=cmd_token)
    create.add_argument(
        "--role", required=True, choices=("admin", "provider", "manager", "auditor")
    )
    create.add_argument("--provider-id")
    create.add_argument("--manager-id")
    create.add_argument("--program", action="append", help="for an auditor; repeat for several")
    roster = add("import-roster", cmd_import_roster, "post a provider's CSV roster of completions")
    roster.add_argument("file", type=Path)
    roster.add_argument("--provider", required=True, help="the provider that posts the roster")
    export = commands.add_parser("export", help="export read models").add_subparsers(
        dest="what", required=True
    )
    renewals = export.add_parser("renewals", help="the renewal register of a program")
    renewals.set_defaults(handler=cmd_export_renewals)
    renewals.add_argument("--program", required=True)
    renewals.add_argument("--format", choices=("csv", "json"), default="csv")
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
