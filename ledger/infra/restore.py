"""`ceu-ledger restore DIR --to TIME | --position N --data-dir NEW`: point-in-time recovery
from a backup directory (ledger/infra/backup.py) into a new PostgreSQL data directory.

The steps: choose the latest backup chain that became consistent before the target,
rebuild its data directory with pg_combinebackup, let PostgreSQL replay the archived WAL up
to the target (``recovery_target_time`` or ``recovery_target_xid``, inclusive, then
promote), check the ledger's chain in the result, and stop the server.  NEW is then an
ordinary data directory, ready to start.

**A position as a recovery target.**  PostgreSQL stops recovery at a time, a named restore
point, an LSN or a transaction id; a ledger position is none of these.  The position's own
row says which transaction wrote it: its ``xmin``.  And that is exactly the right target,
because appends commit in position order: every append transaction takes the one
``event_head`` row lock and holds it to its commit (events/postgres/store.py), so "replay up to
and including the commit of the transaction that wrote position N" is "every position up to
the last one that transaction wrote, and none after".  Other ways were weighed:

* ``recovery_target_time`` from the event's ``recorded_at``: that is the clock when its
  batch was planned, not the commit's time, and two commits can share a timestamp; the
  boundary would be approximate.
* ``pg_xact_commit_timestamp(xmin)``: needs ``track_commit_timestamp`` (a restart to turn
  on) and still gives a time, with the same ties.
* a table of (position, commit LSN) written by every append: one more write on the hot
  path for a question asked in an emergency.

A transaction may hold several positions (coalesced appends, a roster in one transaction):
PostgreSQL cannot stop inside one.  `--position N` therefore restores the longest prefix of
whole transactions that ends at or before N: if N is the last position of its transaction,
exactly up to N; if not, up to the last position before that transaction, and it says so.

The ``xmin`` of position N is in the archived WAL, not in any backup taken before it, so a
position restore makes two passes: it first replays the whole archive into a scratch copy,
as a read-only standby, and reads there which transaction wrote N and which positions it
holds; then it restores again, into NEW, stopping at that transaction's commit.  (Recovery
can move forward across restarts but never back, so the scratch copy is thrown away.)
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import asyncpg
import msgspec

from ledger.infra import pgtools
from ledger.infra.backup import BackupInfo, BackupSet, lsn
from ledger.infra.pgtools import PgToolError

__all__ = ["NotRestorable", "RestoreResult", "Target", "restore"]

_MARK = "# ceu-ledger restore: removed when the restore is done"

Progress = Callable[[int, int], None]
"""Called with (bytes of WAL replayed, bytes to replay)."""
Say = Callable[[str], None]


class NotRestorable(Exception):
    """The backup directory cannot give the target asked for (exit 2)."""


class Target(msgspec.Struct, frozen=True, kw_only=True):
    time: datetime | None = None
    position: int | None = None


class RestoreResult(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: str
    database: str
    head: int
    """The restored ledger's head position."""
    backups: list[str]
    """The backup chain it started from."""
    dsn: str | None = None
    """While `keep_running`: the restored server's DSN (unix socket)."""


async def restore(
    root: Path,
    target: Target,
    data_dir: Path,
    *,
    progress: Progress | None = None,
    say: Say = lambda line: None,
) -> RestoreResult:
    """Recover `root`'s backups up to `target` into `data_dir` (new or empty)."""
    backups = BackupSet(root)
    archive = backups.archive()
    if archive is None or not backups.backups():
        raise NotRestorable(f"{root}: no backups there (run `ceu-ledger backup {root}`)")
    if target.time is not None:
        if target.time >= archive.end_at:
            raise NotRestorable(
                f"the archive ends at {archive.end_at.isoformat()}: run `backup` after the"
                " target time, or give an earlier one"
            )
        when = target.time
        chain = _chain_before(backups, lambda b: b.finished_at < when)
        settings = {"recovery_target_time": target.time.isoformat()}
        expected_head = None
    else:
        assert target.position is not None
        if target.position > archive.head:
            raise NotRestorable(f"the archive holds positions up to {archive.head}")
        xid, expected_head = await _transaction_of(backups, target.position, say, progress)
        if expected_head != target.position:
            say(
                f"position {target.position} was written with later positions in one"
                f" transaction: restoring up to position {expected_head}"
            )
        chain = _chain_before(backups, lambda b: b.head_after < expected_head)
        settings = {"recovery_target_xid": xid}
    database = chain[-1].database
    say(f"restoring from backup {' + '.join(b.name for b in chain)}")
    _combine(backups, chain, data_dir)
    async with _recovering(backups, data_dir, settings, standby=False) as dsn:
        await _replayed(dsn, chain[0], archive.end_lsn, progress, until_promoted=True)
        head = await _head(dsn, database)
    _forget_recovery(data_dir)
    if expected_head is not None and head != expected_head:
        raise PgToolError(f"restored to position {head}, not {expected_head}")
    return RestoreResult(
        data_dir=str(data_dir), database=database, head=head, backups=[b.name for b in chain]
    )


def _chain_before(
    backups: BackupSet, consistent_before: Callable[[BackupInfo], bool]
) -> list[BackupInfo]:
    candidates = [b for b in backups.backups() if consistent_before(b)]
    if not candidates:
        raise NotRestorable("the target is older than the oldest backup in the directory")
    return backups.chain(candidates[-1])


async def _transaction_of(
    backups: BackupSet, position: int, say: Say, progress: Progress | None
) -> tuple[str, int]:
    """The xid of the last whole transaction ending at or before `position`, and the last
    position it wrote: read in a scratch copy that replayed the whole archive (a standby)."""
    latest = backups.backups()[-1]
    chain = backups.chain(latest)
    archive = backups.archive()
    assert archive is not None
    say("reading which transaction wrote that position (a first, scratch replay)")
    with tempfile.TemporaryDirectory(prefix="ceu-probe-", dir=backups.root) as scratch:
        data = pgtools.own(Path(scratch)) / "data"
        _combine(backups, chain, data)
        async with _recovering(backups, data, {}, standby=True) as dsn:
            await _replayed(dsn, chain[0], archive.end_lsn, progress, until_promoted=False)
            conn = await asyncpg.connect(_with_database(dsn, latest.database))
            try:
                row = await conn.fetchrow(_TRANSACTION_OF, position)
                if row is None:
                    raise NotRestorable(f"position {position} is not in the archive")
                first, last = row["first"], row["last"]
                if last > position:  # N is inside a transaction: stop before it
                    if first <= 1:
                        raise NotRestorable(
                            f"position {position} was written in the ledger's first append"
                            f" transaction, with positions up to {last}"
                        )
                    row = await conn.fetchrow(_TRANSACTION_OF, first - 1)
                    assert row is not None
            finally:
                await conn.close()
    return row["xid"], row["last"]


_TRANSACTION_OF = """
SELECT t.x::text AS xid, min(e.position) AS first, max(e.position) AS last
FROM (SELECT xmin AS x FROM events WHERE position = $1) AS t
JOIN events AS e ON e.xmin = t.x
GROUP BY t.x
"""


def _combine(backups: BackupSet, chain: list[BackupInfo], data_dir: Path) -> None:
    """The chain's data directory, rebuilt by pg_combinebackup into `data_dir`."""
    pgtools.own(data_dir)
    paths = [str(backups.path(b)) for b in chain]
    pgtools.run("pg_combinebackup", *paths, "-o", str(data_dir), timeout=3600)


@contextlib.asynccontextmanager
async def _recovering(
    backups: BackupSet, data_dir: Path, targets: dict[str, str], *, standby: bool
) -> AsyncIterator[str]:
    """PostgreSQL in `data_dir`, recovering from the archive (a unix socket only, no TCP);
    its DSN.  Stopped on exit, however the block ends."""
    wal = backups.wal_dir.resolve()
    if "'" in str(wal):
        raise NotRestorable(f"{wal}: a path with a quote cannot go into restore_command")
    lines = [
        _MARK,
        f"restore_command = 'cp {wal}/%f %p 2>/dev/null || cp {wal}/%f.partial %p'",
        "archive_mode = off",
        # A backup of a Patroni node carries its configuration: a replica's (or a just
        # promoted one's) names the live primary, which a restore must never follow.
        "primary_conninfo = ''",
        "primary_slot_name = ''",
        *(f"{name} = '{value}'" for name, value in targets.items()),
    ]
    if targets:
        lines += ["recovery_target_inclusive = on", "recovery_target_action = 'promote'"]
    with (data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write("\n" + "\n".join(lines) + "\n")
    (data_dir / ("standby.signal" if standby else "recovery.signal")).touch()
    pgtools.own(data_dir)
    sockets = pgtools.own(Path(tempfile.mkdtemp(prefix="ceur-")))
    log = sockets / "postgres.log"
    # The port names the socket's file: the one the DSN below assumes, whatever port the
    # backed-up server's own configuration gives (a Patroni node's does).
    options = f"-h '' -k {sockets} -p 5432 -c summarize_wal=off {_as_large_as_the_source(data_dir)}"
    try:
        try:
            pgtools.run(
                "pg_ctl", "-D", str(data_dir), "-l", str(log), "-o", options, "-w", "-t", "3600",
                "start",
            )  # fmt: skip
        except PgToolError as exc:
            raise PgToolError(f"{exc}; {_last_lines(log)}") from None
        try:
            yield f"postgresql://postgres@/postgres?host={sockets}"
        except PgToolError as exc:
            raise PgToolError(f"{exc}; {_last_lines(log)}") from None
    finally:
        with contextlib.suppress(PgToolError):
            pgtools.run("pg_ctl", "-D", str(data_dir), "-m", "fast", "-w", "stop", timeout=120)
        shutil.rmtree(sockets, ignore_errors=True)


_CONTROL = {
    "max_connections setting": "max_connections",
    "max_worker_processes setting": "max_worker_processes",
    "max_wal_senders setting": "max_wal_senders",
    "max_prepared_xacts setting": "max_prepared_transactions",
    "max_locks_per_xact setting": "max_locks_per_transaction",
}


def _as_large_as_the_source(data_dir: Path) -> str:
    """A read-only (hot standby) recovery needs these settings at least as large as on the
    server that wrote the WAL, which its control file records (the source may have set them
    on its command line, which no backup holds)."""
    options = []
    for line in pgtools.run("pg_controldata", str(data_dir)).splitlines():
        name, _, value = line.partition(":")
        if name.strip() in _CONTROL:
            options.append(f"-c {_CONTROL[name.strip()]}={value.strip()}")
    return " ".join(options)


async def _replayed(
    dsn: str,
    first: BackupInfo,
    end_lsn: str,
    progress: Progress | None,
    *,
    until_promoted: bool,
) -> None:
    """Wait until recovery ends (promoted at its target) or, for a standby, until it has
    replayed the whole archive; progress in bytes of WAL."""
    start, end = lsn(first.start_lsn), lsn(end_lsn)
    while True:
        try:
            conn = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError) as exc:
            raise PgToolError(f"the restoring server stopped: {exc}") from None
        try:
            row = await conn.fetchrow("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text")
            assert row is not None, "a SELECT without FROM returns one row"
            recovering, replayed = row
        finally:
            await conn.close()
        if replayed is not None and progress is not None:
            progress(min(lsn(replayed), end) - start, end - start)
        if not recovering and until_promoted:
            return
        if not until_promoted and replayed is not None and lsn(replayed) >= end:
            return
        await asyncio.sleep(0.2)


async def _head(dsn: str, database: str) -> int:
    conn = await asyncpg.connect(_with_database(dsn, database))
    try:
        return int(await conn.fetchval("SELECT position FROM event_head"))
    finally:
        await conn.close()


def _with_database(dsn: str, database: str) -> str:
    return dsn.replace("/postgres?", f"/{database}?", 1)


def _forget_recovery(data_dir: Path) -> None:
    """Take out the restore's settings: NEW starts as an ordinary primary."""
    conf = data_dir / "postgresql.auto.conf"
    text = conf.read_text()
    if _MARK in text:
        conf.write_text(text[: text.index(_MARK)].rstrip("\n") + "\n")


def _last_lines(log: Path, n: int = 2) -> str:
    """The server's FATAL and PANIC lines, else its last lines."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    fatal = [line for line in lines if "FATAL:" in line or "PANIC:" in line]
    return " | ".join((fatal or lines)[-n:])
