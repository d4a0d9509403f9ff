"""`ceu-ledger`: the command line of the service.

Each command reads the settings once, finds its database (DATABASE_URL, or the embedded
server in LEDGER_DATA_DIR) and delegates.  Exit status (SPEC 7): 0 it did what it says; 1 it
ran and its check failed (a broken chain, rejected roster lines); 2 it could not run (bad
arguments, a missing file, an unknown provider or program, no database), with one line on
stderr and never a traceback (`--debug` shows it); `serve` outside `--demo` cannot run
without LEDGER_PUBLIC_URL, LEDGER_SESSION_SECRET and LEDGER_KEY_ENCRYPTION_KEY, and says so
before it starts anything (SPEC 6).  SIGINT and SIGTERM cancel the command
(128 + the signal's number), and its `finally` blocks still stop an embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Never

import asyncpg
import msgspec
import uvicorn
from tqdm import tqdm
from uvicorn.supervisors.multiprocess import Multiprocess

from events.chain_postgres import verify_database
from events.codec import Actor
from events.postgres.connection import connect, create_pool
from events.postgres.store import PostgresEventStore
from ledger.access.tokens import TokenStore
from ledger.app.asgi import WORKER_DSN, WORKER_LOG_LEVEL, WORKER_PROJECTORS
from ledger.app.factory import create_app
from ledger.commands import Context, Ledger, Posted
from ledger.commands.catalogue import ensure_default_programs
from ledger.commands.messages import PostCompletion, convert
from ledger.commands.rosters import record_completions
from ledger.commands.streams import manager_stream, program_stream, provider_stream
from ledger.csv_io import RosterFormatError, columns_of, csv_text, parse_roster_csv
from ledger.demo import demo_ledger, seed_demo
from ledger.infra.backup import run_backup
from ledger.infra.database import database_dsn, service_login, why_unreachable
from ledger.infra.evidence import PostgresEvidenceStore, check_evidence_files
from ledger.infra.limits import (
    HTTP_PARSERS,
    LOOPS,
    freeze_startup_heap,
    run_loop,
    server_options,
)
from ledger.infra.logs import configure_logging
from ledger.infra.migrations import load_migrations, migrate
from ledger.infra.pgtools import PgToolError
from ledger.infra.projectors import ProjectorProcess, running_deployment_tasks
from ledger.infra.restore import NotRestorable, Target, restore
from ledger.settings import LOG_LEVELS, Settings
from projections import ceu_queries
from projections.ceu import CeuProjection
from projections.ceu_queries import RegisterRow
from projections.engine import ProjectionRunner
from projections.registry import by_name

__all__ = ["SYSTEM", "CannotRun", "main"]

Handler = Callable[[Settings, argparse.Namespace], Awaitable[int]]
Check = Callable[[argparse.Namespace], None]

SYSTEM = Context(actor=Actor(role="system", id="ceu-ledger"), request_id="startup")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_log = logging.getLogger("ledger.cli")


class CannotRun(Exception):
    """The command cannot run (exit 2); the message is its one line on stderr."""


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Signals:
    """SIGINT and SIGTERM while a command runs.  The first cancels the command's task, so that
    its `finally` blocks and context managers run (the embedded PostgreSQL is stopped by one);
    later ones are ignored, so that this clean-up is not cut short.  While `serve` runs, they
    go to the HTTP server instead (`diverted`), which drains its requests and closes first."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._divert: Callable[[int], None] | None = None

    @contextlib.contextmanager
    def installed(self, task: asyncio.Task[Any]) -> Iterator[None]:
        loop = task.get_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on, sig, task)
        try:
            yield
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    @contextlib.contextmanager
    def diverted(self, to: Callable[[int], None]) -> Iterator[None]:
        self._divert = to
        try:
            yield
        finally:
            self._divert = None

    def _on(self, sig: int, task: asyncio.Task[Any]) -> None:
        if self._divert is not None:
            self._divert(sig)
        elif self.received is None:
            self.received = sig
            task.cancel()


SIGNALS = Signals()
"""The process's one command, and its signals."""


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


@contextlib.asynccontextmanager
async def migrated_dsn(
    settings: Settings, report: Callable[[str], None] = _to_stderr, *, programs: bool = True
) -> AsyncIterator[str]:
    """The database's DSN, with every migration applied and the default programs recorded
    (unless `programs` is false: the demo records them in its first chapter, 40 days back).
    Migrations run as the owner; the embedded server's DSN answered is the service's login
    role (`service_login`), never the superuser's."""
    async with database_dsn(settings) as dsn:
        conn = await connect(dsn)
        try:
            for applied in await migrate(conn, load_migrations(settings.migrations_dir)):
                report(f"applied migration {applied.version:04d}_{applied.name}")
        finally:
            await conn.close()
        if settings.database_url is None:
            dsn = await service_login(dsn)
        if programs:
            async with create_pool(dsn, min_size=1, max_size=2) as pool:
                await ensure_default_programs(Ledger(PostgresEventStore(pool)), SYSTEM)
        yield dsn


async def _exists(pool: asyncpg.Pool, stream_id: str) -> bool:
    return bool(await PostgresEventStore(pool).read_stream(stream_id))


async def _require(pool: asyncpg.Pool, kind: str, name: str, stream_id: str) -> None:
    if not await _exists(pool, stream_id):
        raise CannotRun(f"unknown {kind} {name}")


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    async with migrated_dsn(settings):
        print("migrations up to date")
    return 0


async def cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    """The hash chain, then the evidence files (each must still hash to its key); the report
    is the chain's, with `first_bad_evidence`, and `ok` only if both are."""
    async with database_dsn(settings) as dsn:
        report = await verify_database(dsn)
        bad_evidence = await check_evidence_files(dsn)
    ok = report.ok and bad_evidence is None
    whole = msgspec.structs.asdict(report) | {"ok": ok, "first_bad_evidence": bad_evidence}
    print(msgspec.json.encode(whole).decode())
    if not report.ok:
        print(
            f"ledger chain broken at position {report.first_bad_position}: {report.problem}",
            file=sys.stderr,
        )
    if bad_evidence is not None:
        print(
            f"evidence file {bad_evidence} no longer matches its hash, size or type",
            file=sys.stderr,
        )
    return 0 if ok else 1


def check_rebuild(args: argparse.Namespace) -> None:
    args.projections = by_name(args.names)  # ValueError (exit 2) naming an unknown one
    if args.batch_size < 1:
        raise CannotRun("--batch-size must be at least 1")


async def cmd_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    async with migrated_dsn(settings) as dsn:
        for projection in args.projections:
            runner = ProjectionRunner(
                dsn, projection, batch_size=args.batch_size, poll_interval=settings.poll_interval
            )
            with tqdm(desc=projection.name, unit="ev", file=sys.stderr) as bar:

                def progress(done: int, total: int, bar: tqdm[Never] = bar) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                position = await runner.rebuild(restart=args.restart, progress=progress)
            print(f"{projection.name}: rebuilt up to position {position}")
    return 0


async def _print_demo_tokens(dsn: str, base_url: str) -> None:
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        identities = await seed_demo(
            demo_ledger(pool), TokenStore(pool), SYSTEM, PostgresEvidenceStore(pool)
        )
    for role, subject, token in identities:
        print(f"demo token {role} {subject}: {token}", flush=True)
    print(f"login: {base_url}/login (paste one of the tokens above)", flush=True)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling.  Its handlers re-raise the signal when
    `serve()` returns, which would kill the process before the embedded PostgreSQL is
    stopped; `cmd_serve` diverts SIGNALS to `handle_exit`, which only asks for a graceful
    exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def settings_to_serve(settings: Settings, args: argparse.Namespace, listen: str) -> Settings:
    """The settings `serve` runs with: outside `--demo`, CannotRun (exit 2) unless every one
    of REQUIRED_TO_SERVE is set (SPEC 6); the demo's public URL is its own listen address."""
    if args.demo:
        return msgspec.structs.replace(settings, public_url=settings.public_url or listen)
    if missing := settings.missing_to_serve():
        raise CannotRun(
            f"serve needs {', '.join(missing)} (see README, 'Configuration');"
            " or try it on this machine with --demo"
        )
    return settings


async def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    host = args.host or settings.host
    port = args.port or settings.port
    settings = settings_to_serve(settings, args, f"http://{host}:{port}")
    configure_logging((args.log_level or settings.log_level).upper())
    async with (
        migrated_dsn(settings, report=_log.info, programs=not args.demo) as dsn,
        _demo_seeded(args, dsn, f"http://{host}:{port}"),
        _projector_beside(args, dsn, settings),
    ):
        if args.workers > 1:
            return await _serve_workers(args, dsn, host, port, settings)
        app = create_app(settings, dsn, run_projectors=args.projectors == "inline")
        # Our request log replaces uvicorn's access log; `log_config=None` leaves the
        # logging configured above alone, so uvicorn's own lines are JSON too.
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            **server_options(loop=args.loop, http=args.http),
        )
        server = _Server(config)
        freeze_startup_heap()
        # First signal: finish requests, close the lifespan (pool, projectors), then leave
        # this block, which stops the embedded server.  Second SIGINT: hurry.
        with SIGNALS.diverted(lambda sig: server.handle_exit(sig, None)):
            try:
                await server.serve()
            except SystemExit as exc:  # uvicorn's way to say it could not start
                raise CannotRun(f"the HTTP server did not start on {host}:{port}") from exc
    return 0


@contextlib.asynccontextmanager
async def _demo_seeded(args: argparse.Namespace, dsn: str, base_url: str) -> AsyncIterator[None]:
    """With `--demo`, the demo recorded (and its tokens printed) first: before the projector
    process, whose start would record the default programs now, after which the demo's first
    chapter could not be recorded 40 days back (ledger/demo.py)."""
    if args.demo:
        await _print_demo_tokens(dsn, base_url)
    yield


@contextlib.asynccontextmanager
async def _projector_beside(
    args: argparse.Namespace, dsn: str, settings: Settings
) -> AsyncIterator[None]:
    """With `--projectors process` (the default), `ceu-ledger project` as a supervised child
    for as long as the block lasts: restarted if it dies, stopped before the database is
    (ledger/infra/projectors.py `ProjectorProcess`)."""
    if args.projectors != "process":
        yield
        return
    command = [sys.executable, "-m", "ledger.cli", "project", "--parent", str(os.getpid())]
    if args.log_level:
        command += ["--log-level", args.log_level]
    env = {**os.environ, "DATABASE_URL": dsn, "LEDGER_PUBLIC_URL": str(settings.public_url)}
    async with ProjectorProcess(command, env).running():
        yield


async def cmd_project(settings: Settings, args: argparse.Namespace) -> int:
    """Every projection, the reminders and the notices' sender until SIGTERM or SIGINT (or,
    with `--parent`, until that process is gone), then a bounded, clean stop."""
    configure_logging((args.log_level or settings.log_level).upper())
    stop = asyncio.Event()
    async with (
        migrated_dsn(settings, report=_log.info) as dsn,
        running_deployment_tasks(dsn, settings) as runners,
    ):
        _log.info("projecting: %s", ", ".join(r.projection.name for r in runners))
        freeze_startup_heap()
        with SIGNALS.diverted(lambda sig: stop.set()):
            while not stop.is_set():
                if args.parent is not None and os.getppid() != args.parent:
                    _log.warning("process %d that started this one is gone; stopping", args.parent)
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
    return 0


async def _serve_workers(
    args: argparse.Namespace, dsn: str, host: str, port: int, settings: Settings
) -> int:
    """N worker processes (ledger/app/asgi.py) on one socket, under uvicorn's supervisor,
    which runs in a thread: this process keeps the embedded database until they are gone.
    The supervisor takes SIGINT and SIGTERM (it stops the workers, each draining its
    requests), and restarts a worker that dies."""
    os.environ[WORKER_DSN] = dsn
    os.environ[WORKER_PROJECTORS] = "1" if args.projectors == "inline" else "0"
    os.environ[WORKER_LOG_LEVEL] = (args.log_level or "info").upper()
    # The workers share the pages' cookie key, or a session would only work on one of them.
    os.environ.setdefault("LEDGER_SESSION_SECRET", secrets.token_urlsafe(48))
    os.environ["LEDGER_PUBLIC_URL"] = str(settings.public_url)  # the demo's, if it is one
    config = uvicorn.Config(
        "ledger.app.asgi:create", factory=True, host=host, port=port, workers=args.workers,
        log_config=None, access_log=False, **server_options(loop=args.loop, http=args.http),
    )  # fmt: skip
    try:
        sock = config.bind_socket()
    except SystemExit as exc:
        raise CannotRun(f"the HTTP server did not start on {host}:{port}") from exc
    try:
        supervisor = Multiprocess(config, sockets=[sock])
        # The first signal asks the supervisor to stop the workers; the database stays up
        # until `run` has joined them.
        with SIGNALS.diverted(lambda sig: supervisor.should_exit.set()):
            await asyncio.to_thread(supervisor.run)
    finally:
        sock.close()
    return 0


def check_serve(args: argparse.Namespace) -> None:
    if args.workers < 1:
        raise CannotRun("--workers must be at least 1")


def check_token(args: argparse.Namespace) -> None:
    """A token's scope fits its role (before the database is touched)."""
    needs = {"provider": "--provider-id", "manager": "--manager-id", "auditor": "--program"}
    given = {
        "--provider-id": args.provider_id is not None,
        "--manager-id": args.manager_id is not None,
        "--program": bool(args.program),
    }
    wanted = needs.get(args.role)
    if wanted is not None and not given[wanted]:
        raise CannotRun(f"token create --role {args.role} needs {wanted}")
    if extra := sorted(option for option, present in given.items() if present and option != wanted):
        raise CannotRun(f"token create --role {args.role} takes no {', '.join(extra)}")


async def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    async with migrated_dsn(settings) as dsn, create_pool(dsn, min_size=1, max_size=2) as pool:
        if args.provider_id is not None:
            await _require(pool, "provider", args.provider_id, provider_stream(args.provider_id))
        if args.manager_id is not None:
            await _require(pool, "manager", args.manager_id, manager_stream(args.manager_id))
        for code in args.program or ():
            await _require(pool, "program", code, program_stream(code))
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


def check_roster(args: argparse.Namespace) -> None:
    """The roster is a readable CSV file with the right header (before the database)."""
    path: Path = args.file
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CannotRun(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CannotRun(f"{path}: is a directory, not a roster file") from None
    except OSError as exc:
        raise CannotRun(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        args.lines = parse_roster_csv(data, max_lines=100_000)
    except RosterFormatError as exc:
        raise CannotRun(f"{path}: not a roster: {exc.message}") from None


async def cmd_import_roster(settings: Settings, args: argparse.Namespace) -> int:
    """Each line stands alone, as in POST /v1/completions/batch: malformed lines are reported
    and skipped, the others are posted."""
    postings: list[tuple[int, PostCompletion]] = []
    rejected: list[tuple[int, str, str]] = []
    for n, line in enumerate(args.lines, start=2):
        try:
            posting = convert(line, PostCompletion)
        except msgspec.ValidationError as exc:
            rejected.append((n, str(line.get("external_id", "")), str(exc)))
        else:
            postings.append((n, posting))
    ctx = Context(
        actor=Actor(role="provider", id=args.provider), request_id=f"import:{args.file.name}"
    )
    async with migrated_dsn(settings) as dsn, create_pool(dsn, min_size=1, max_size=4) as pool:
        await _require(pool, "provider", args.provider, provider_stream(args.provider))
        ledger = Ledger(PostgresEventStore(pool))
        outcomes = await record_completions(ledger, ctx, args.provider, [p for _, p in postings])
    for (n, posting), outcome in zip(postings, outcomes, strict=True):
        if not isinstance(outcome, Posted):
            rejected.append((n, posting.external_id, outcome.detail))
    for n, external_id, why in sorted(rejected):
        print(f"{args.file}:{n}: {external_id}: rejected: {why}", file=sys.stderr)
    created = sum(isinstance(o, Posted) and o.created for o in outcomes)
    duplicate = sum(isinstance(o, Posted) and not o.created for o in outcomes)
    print(f"created {created}, duplicate {duplicate}, rejected {len(rejected)}")
    return 1 if rejected else 0


async def cmd_export_renewals(settings: Settings, args: argparse.Namespace) -> int:
    async with migrated_dsn(settings) as dsn:
        async with create_pool(dsn, min_size=1, max_size=2) as pool:
            await _require(pool, "program", args.program, program_stream(args.program))
        await ProjectionRunner(dsn, CeuProjection()).catch_up_or_follow()
        conn = await connect(dsn)
        try:
            rows = await ceu_queries.renewal_register(conn, args.program)
        finally:
            await conn.close()
    if args.format == "csv":
        sys.stdout.write(csv_text(columns_of(RegisterRow), rows))
    else:
        sys.stdout.write(msgspec.json.encode(rows).decode() + "\n")
    return 0


def _bar(desc: str, unit: str, scale: int = 1) -> tuple[tqdm[Never], Callable[[int, int], None]]:
    bar = tqdm(desc=desc, unit=unit, file=sys.stderr, unit_scale=scale > 1)

    def progress(done: int, total: int) -> None:
        bar.total = total // scale
        bar.update(done // scale - bar.n)

    return bar, progress


async def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """A base backup (incremental after the first) and the WAL archive up to now, in DIR."""
    async with database_dsn(settings) as dsn:
        bar, progress = _bar("base backup", "kB")
        with bar:
            try:
                info = await run_backup(args.dir, dsn, full=args.full, progress=progress)
            except PgToolError as exc:
                raise CannotRun(str(exc)) from None
    took = (info.finished_at - info.started_at).total_seconds()
    print(
        f"backup {info.name} ({info.kind}) of {info.database} in {args.dir}: {took:.1f} s,"
        f" ledger head {info.head_after} when it ended; WAL archived"
    )
    return 0


def check_restore(args: argparse.Namespace) -> None:
    if (args.to is None) == (args.position is None):
        raise CannotRun("restore needs exactly one of --to TIME and --position N")
    if args.position is not None and args.position < 1:
        raise CannotRun("--position must be at least 1")
    if args.to is not None:
        try:
            when = datetime.fromisoformat(args.to)
        except ValueError:
            raise CannotRun(f"--to {args.to!r}: not an ISO 8601 time") from None
        if when.tzinfo is None:
            raise CannotRun(f"--to {args.to!r}: give the time zone (e.g. +00:00 or Z)")
        args.target = Target(time=when)
    else:
        args.target = Target(position=args.position)
    if not (args.dir / "archive.json").is_file():
        raise CannotRun(f"{args.dir}: not a backup directory (no archive.json)")
    if args.data_dir.exists() and any(args.data_dir.iterdir()):
        raise CannotRun(f"{args.data_dir}: not empty; restore writes a new data directory")


async def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Recover into a new data directory up to the target; exit 1 if its chain is broken."""
    bar, progress = _bar("WAL replayed", "B", scale=1)
    with bar:
        try:
            result = await restore(
                args.dir, args.target, args.data_dir, progress=progress, say=bar.write
            )
        except (NotRestorable, PgToolError) as exc:
            raise CannotRun(str(exc)) from None
    print(
        f"restored {result.database} up to ledger position {result.head} into"
        f" {result.data_dir} (from backups {', '.join(result.backups)})"
    )
    return 0


def _no_check(args: argparse.Namespace) -> None:
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ceu-ledger", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an unexpected error"
    )
    parser.set_defaults(check=_no_check)
    commands = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str, handler: Handler, help: str, check: Check = _no_check
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler, check=check)
        return sub

    serve = add(
        "serve", cmd_serve, "run the HTTP API, and the projectors in a process beside it",
        check_serve,
    )  # fmt: skip
    serve.add_argument("--host", help="default LEDGER_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default LEDGER_PORT or 8000")
    serve.add_argument("--log-level", choices=LOG_LEVELS, help="default LEDGER_LOG_LEVEL or info")
    serve.add_argument(
        "--projectors", choices=("process", "inline", "none"), default="process",
        help="process (default): one `project` process beside the API, restarted if it dies;"
        " inline: in the API process(es) themselves; none: leave them to other processes",
    )  # fmt: skip
    serve.add_argument(
        "--no-projectors", dest="projectors", action="store_const", const="none",
        help="the same as --projectors none",
    )  # fmt: skip
    serve.add_argument("--workers", type=int, default=1, help="API processes (default 1)")
    serve.add_argument(
        "--loop", choices=LOOPS, default=LOOPS[0],
        help="the event loop (default uvloop; asyncio's own only to compare, as in bench.gap)",
    )  # fmt: skip
    serve.add_argument(
        "--http", choices=HTTP_PARSERS, default=HTTP_PARSERS[0],
        help="uvicorn's HTTP/1.1 parser (default httptools; h11 only to compare)",
    )  # fmt: skip
    serve.add_argument(
        "--demo", action="store_true", help="record demo data and print a token per demo identity"
    )
    project = add(
        "project", cmd_project,
        "run every projection, the reminders and the notices' sender until SIGTERM",
    )  # fmt: skip
    project.add_argument("--log-level", choices=LOG_LEVELS, help="default LEDGER_LOG_LEVEL or info")
    project.add_argument(
        "--parent", type=int, metavar="PID", help="also stop when process PID is gone (serve's)"
    )
    add("migrate", cmd_migrate, "apply the SQL migrations that are not applied yet")
    tokens = commands.add_parser("token", help="API tokens").add_subparsers(
        dest="action", required=True
    )
    create = tokens.add_parser("create", help="create a token and print it (shown once)")
    create.set_defaults(handler=cmd_token, check=check_token)
    create.add_argument(
        "--role", required=True, choices=("admin", "provider", "manager", "auditor")
    )
    create.add_argument("--provider-id")
    create.add_argument("--manager-id")
    create.add_argument("--program", action="append", help="for an auditor; repeat for several")
    roster = add(
        "import-roster",
        cmd_import_roster,
        "post a provider's CSV roster of completions",
        check_roster,
    )
    roster.add_argument("file", type=Path)
    roster.add_argument("--provider", required=True, help="the provider that posts the roster")
    export = commands.add_parser("export", help="export read models").add_subparsers(
        dest="what", required=True
    )
    renewals = export.add_parser("renewals", help="the renewal register of a program")
    renewals.set_defaults(handler=cmd_export_renewals)
    renewals.add_argument("--program", required=True)
    renewals.add_argument("--format", choices=("csv", "json"), default="csv")
    backup = add(
        "backup", cmd_backup,
        "take a base backup (incremental after the first) and archive the WAL, into DIR",
    )  # fmt: skip
    backup.add_argument("dir", type=Path, metavar="DIR")
    backup.add_argument("--full", action="store_true", help="a full backup: a new chain")
    restore_ = add(
        "restore", cmd_restore,
        "recover the backups in DIR up to a time or a ledger position into a new data directory",
        check_restore,
    )  # fmt: skip
    restore_.add_argument("dir", type=Path, metavar="DIR")
    restore_.add_argument(
        "--to", metavar="TIME", help="ISO 8601 with a zone: every commit up to it"
    )
    restore_.add_argument(
        "--position", type=int, metavar="N", help="every append transaction up to position N"
    )
    restore_.add_argument(
        "--data-dir", type=Path, required=True, metavar="NEW", help="a new, empty directory"
    )
    add(
        "verify",
        cmd_verify,
        "recompute the hash chain and check the evidence files; exit 1 naming the first bad one",
    )
    rebuild = add(
        "rebuild",
        cmd_rebuild,
        "rebuild projections from position 0 (all if none named)",
        check_rebuild,
    )
    rebuild.add_argument("names", nargs="*", metavar="NAME")
    rebuild.add_argument("--batch-size", type=int, default=500)
    rebuild.add_argument(
        "--restart", action="store_true", help="start over even if an earlier rebuild was cut off"
    )
    return parser


async def _run(handler: Handler, settings: Settings, args: argparse.Namespace) -> int:
    task = asyncio.current_task()
    assert task is not None
    with SIGNALS.installed(task):
        try:
            return await handler(settings, args)
        except asyncio.CancelledError:
            if SIGNALS.received is None:
                raise
            raise Interrupted(SIGNALS.received) from None


def _one_line(exc: Exception) -> str:
    """What to say, in one line, about an error that stopped a command."""
    if isinstance(exc, CannotRun | ValueError):
        return str(exc)
    if (why := why_unreachable(exc)) is not None:
        return why
    return f"unexpected error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        args.check(args)
        return run_loop(_run(args.handler, settings, args), loop=getattr(args, "loop", None))
    except Interrupted as exc:
        _to_stderr(f"ceu-ledger: stopped by {exc}")
        return 128 + exc.signum
    except KeyboardInterrupt:
        _to_stderr("ceu-ledger: stopped by SIGINT")
        return 128 + signal.SIGINT
    except Exception as exc:
        if args.debug:
            raise
        _to_stderr(f"ceu-ledger: {' '.join(_one_line(exc).split())}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
