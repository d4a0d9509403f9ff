"""Apply the plain SQL files in migrations/ in order, each once, under an advisory lock.

Files are named NNNN_name.sql.  Each is applied in its own transaction together with its row
in schema_migrations, so a failed migration leaves nothing behind.  The whole run holds a
session advisory lock: a second process that starts migrating at the same time waits, then
finds everything applied and does nothing.  (Session-level, not transaction-level, because
the lock must span several transactions; it is released when the connection closes, so a
crashed migrator cannot leave it held.)  A file whose content changed after it was applied is
refused: migrations are history, like events.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    import asyncpg

__all__ = ["MIGRATIONS_DIR", "Migration", "MigrationError", "load_migrations", "migrate"]

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_LOCK_KEY = int.from_bytes(b"ceu-migr", "big") >> 1  # fits a signed bigint
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    pass


class Migration(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        version = int(match[1])
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(version=version, name=match[2], sql=path.read_text())
    if not found:
        raise MigrationError(f"no migrations in {directory}")
    return [found[v] for v in sorted(found)]


async def _applied(conn: asyncpg.Connection) -> dict[int, str]:
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {row["version"]: row["checksum"] for row in rows}


async def migrate(conn: asyncpg.Connection, migrations: list[Migration]) -> list[Migration]:
    """Apply what is missing; return the migrations this call applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        applied = await _applied(conn)
        for migration in migrations:
            known = applied.get(migration.version)
            if known is not None and known != migration.checksum:
                raise MigrationError(
                    f"{migration.version:04d}_{migration.name}.sql changed after it was applied"
                )
        missing = [m for m in migrations if m.version not in applied]
        for migration in missing:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
        return missing
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
