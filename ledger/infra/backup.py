"""`ceu-ledger backup DIR`: base backups plus a continuous WAL archive, with PostgreSQL's own
tools (docs/operations.md is the operator's side of it).

DIR holds

* ``backups/NNNN/``: plain-format base backups by pg_basebackup, each with its
  ``backup_manifest`` and a ``ceu-backup.json`` (`BackupInfo`).  The first is full; each
  later one is incremental (PostgreSQL 17+ `--incremental`, against the previous backup's
  manifest) when the server summarizes its WAL (`summarize_wal`, which `backup` turns on
  when it may), so a daily backup of a big, mostly unchanged ledger copies what changed.
  `--full` starts a new chain.
* ``wal/``: the WAL archive, received by pg_receivewal through the physical replication slot
  `ceu_ledger_archive`.  The slot makes the server keep every WAL segment until the archive
  has it, so the archive has no gaps between two runs of `backup` (the price: a server whose
  backups stop keeps its WAL; docs/operations.md says what to watch).  Each run receives up
  to the server's flushed position at its end, so a restore can reach any commit up to the
  last run; a restore target needs a commit after it in the archive (PostgreSQL stops *at*
  the first commit past the target).
* ``archive.json``: where the archive ends (`ArchiveInfo`).

Why a replication slot and pg_receivewal rather than `archive_command`: the server needs no
configuration change and no restart (an `archive_command` copying to DIR would need both,
and would make the server's commits wait on a full disk in DIR), and the same command works
against the embedded server, a plain PostgreSQL, or the Patroni primary.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import msgspec

from ledger.infra import pgtools
from ledger.infra.pgtools import PgToolError

__all__ = [
    "SLOT",
    "ArchiveInfo",
    "BackupInfo",
    "BackupSet",
    "lsn",
    "run_backup",
]

SLOT = "ceu_ledger_archive"
_PROGRESS = re.compile(rb"(\d+)/(\d+) kB")

Progress = Callable[[int, int], None]
"""Called with (done, total), in units the caller's bar names."""


class BackupInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: str
    """"full" or "incremental"."""
    parent: str | None
    """The backup an incremental one builds on."""
    database: str
    """The ledger's database in the cluster."""
    started_at: datetime
    finished_at: datetime
    """Read after pg_basebackup returned: the backup is consistent as of a moment before."""
    start_lsn: str
    head_after: int
    """The ledger's head position read after the backup ended: every event committed before
    the backup became consistent has a position at most this."""


class ArchiveInfo(msgspec.Struct, frozen=True, kw_only=True):
    end_lsn: str
    """The archive holds the WAL up to here."""
    end_at: datetime
    head: int
    """The ledger's head position when the archive was brought up to `end_lsn`."""


def lsn(text: str) -> int:
    """An LSN as PostgreSQL writes it ("16/B374D848") as a number of bytes."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


class BackupSet:
    """The backups and the WAL archive in one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.backups_dir = root / "backups"
        self.wal_dir = root / "wal"
        self.archive_file = root / "archive.json"

    def backups(self) -> list[BackupInfo]:
        found = []
        for info in sorted(self.backups_dir.glob("*/ceu-backup.json")):
            found.append(msgspec.json.decode(info.read_bytes(), type=BackupInfo))
        return found

    def archive(self) -> ArchiveInfo | None:
        if not self.archive_file.exists():
            return None
        return msgspec.json.decode(self.archive_file.read_bytes(), type=ArchiveInfo)

    def chain(self, last: BackupInfo) -> list[BackupInfo]:
        """The full backup `last` builds on, then every incremental one up to `last`."""
        by_name = {b.name: b for b in self.backups()}
        chain = [last]
        while chain[0].parent is not None:
            chain.insert(0, by_name[chain[0].parent])
        return chain

    def path(self, backup: BackupInfo) -> Path:
        return self.backups_dir / backup.name

    def _write(self, path: Path, value: msgspec.Struct) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(msgspec.json.format(msgspec.json.encode(value)))
        temporary.replace(path)


async def run_backup(
    root: Path, dsn: str, *, full: bool = False, progress: Progress | None = None
) -> BackupInfo:
    """One base backup (incremental when it can be) and the archive brought up to now."""
    backups = BackupSet(root)
    pgtools.own(root)
    pgtools.own(backups.backups_dir)
    pgtools.own(backups.wal_dir)
    conn = await asyncpg.connect(dsn)
    try:
        database = await conn.fetchval("SELECT current_database()")
        summarizing = await _summarize_wal(conn)
        await conn.execute(
            "SELECT pg_create_physical_replication_slot($1, true)"
            " WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1)",
            SLOT,
        )
        previous = backups.backups()
        parent = previous[-1] if previous and summarizing and not full else None
        name = f"{len(previous) + 1:04d}"
        target = backups.backups_dir / name
        started_at = datetime.now(UTC)
        try:
            await _basebackup(dsn, target, backups.path(parent) if parent else None, progress)
        except PgToolError as exc:
            if parent is None or "WAL summar" not in str(exc):
                raise
            # The summaries do not reach back to the previous backup (summarize_wal was
            # off, or they were removed): a full backup starts a new chain.
            shutil.rmtree(target, ignore_errors=True)
            parent = None
            await _basebackup(dsn, target, None, progress)
        finished_at = datetime.now(UTC)
        head_after = await conn.fetchval("SELECT position FROM event_head")
        info = BackupInfo(
            name=name,
            kind="full" if parent is None else "incremental",
            parent=parent.name if parent else None,
            database=database,
            started_at=started_at,
            finished_at=finished_at,
            start_lsn=_start_lsn(target),
            head_after=head_after,
        )
        backups._write(target / "ceu-backup.json", info)
        await _archive_up_to_now(conn, dsn, backups)
    finally:
        await conn.close()
    return info


async def _summarize_wal(conn: asyncpg.Connection) -> bool:
    """Turn on WAL summaries (needed by incremental backups; a reload, no restart) if they
    are off and this role may; whether they are on."""
    if await conn.fetchval("SELECT current_setting('summarize_wal')::bool"):
        return True
    if not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        return False
    await conn.execute("ALTER SYSTEM SET summarize_wal = on")
    await conn.execute("SELECT pg_reload_conf()")
    return False  # the summaries start now: this backup is full


async def _basebackup(
    dsn: str, target: Path, parent: Path | None, progress: Progress | None
) -> None:
    args = ["-d", dsn, "-D", str(target), "-Fp", "-X", "stream", "-c", "fast", "--progress"]
    if parent is not None:
        args.append(f"--incremental={parent / 'backup_manifest'}")
    process = await asyncio.create_subprocess_exec(
        pgtools.tool("pg_basebackup"),
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        user=pgtools.RUN_AS,
    )
    assert process.stderr is not None
    errors: list[bytes] = []
    buffer = b""
    while chunk := await process.stderr.read(4096):
        buffer += chunk
        *lines, buffer = re.split(rb"[\r\n]", buffer)
        for line in lines:
            if match := _PROGRESS.search(line):
                if progress is not None:
                    progress(int(match[1]), max(int(match[1]), int(match[2])))
            elif line.strip():
                errors.append(line)
    if await process.wait() != 0:
        last = (errors or [buffer or b"failed"])[-1].decode(errors="replace")
        raise PgToolError(f"pg_basebackup: {last}")


def _start_lsn(backup: Path) -> str:
    manifest = json.loads((backup / "backup_manifest").read_text())
    return str(manifest["WAL-Ranges"][0]["Start-LSN"])


async def _archive_up_to_now(conn: asyncpg.Connection, dsn: str, backups: BackupSet) -> None:
    """pg_receivewal through the slot, from where the archive ends to the server's flushed
    position now; then archive.json says where that is."""
    end = await conn.fetchval("SELECT pg_current_wal_flush_lsn()::text")
    head = await conn.fetchval("SELECT position FROM event_head")
    args = ["-d", dsn, "-D", str(backups.wal_dir), "-S", SLOT, "-E", end, "--no-loop"]
    await asyncio.to_thread(pgtools.run, "pg_receivewal", *args, "--synchronous", timeout=600)
    info = ArchiveInfo(end_lsn=end, end_at=datetime.now(UTC), head=head)
    backups._write(backups.archive_file, info)
