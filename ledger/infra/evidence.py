"""The evidence store in PostgreSQL: `evidence_files` (migrations/0019_evidence_files.sql),
one row per file, keyed by the SHA-256 of its bytes.  The service role may only INSERT and
SELECT there, so this adapter never updates or deletes.

Storing once.  `INSERT ... ON CONFLICT (sha256) DO NOTHING` stores the file once however many
puts of it race: the unique index makes the later ones wait for the first to commit and then
do nothing (DO NOTHING needs only the INSERT right).  A file already stored is looked up first
all the same: a conflicting insert has written the new row's 10 MB to the table and the WAL by
the time the index says no (speculative insertion), and a re-upload should cost a lookup.

Checking.  The server hashes each file (`pg_catalog.sha256`, schema-qualified so no function
of that name elsewhere can stand in) on its own core, so `verify` does not pull every file over
the wire; only each file's first kilobyte comes back, to check its recorded type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import asyncpg

from events.postgres.connection import create_pool
from events.store import utc_now
from ledger.domain.evidence import HEAD, Evidence
from ledger.evidence.store import EvidenceStore, evidence_not_found, is_key, stored_intact

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["PostgresEvidenceStore", "check_evidence_files"]

_STORED = "SELECT EXISTS (SELECT FROM evidence_files WHERE sha256 = $1)"
_INSERT = """
INSERT INTO evidence_files (sha256, size, media_type, data, stored_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (sha256) DO NOTHING
"""
_GET = "SELECT data FROM evidence_files WHERE sha256 = $1"
# A page of files in key order after $1, each with what the check needs.
_PAGE = f"""
SELECT sha256, size, media_type, pg_catalog.sha256(data) AS actual,
       octet_length(data) AS actual_size, substring(data FROM 1 FOR {HEAD}) AS head
FROM evidence_files WHERE sha256 > $1 ORDER BY sha256 LIMIT $2
"""


class PostgresEvidenceStore(EvidenceStore):
    """Time (`stored_at`) is the app's clock, as for the event store."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        clock: Callable[[], datetime] = utc_now,
        page_size: int = 100,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._page_size = page_size

    async def _store_once(self, evidence: Evidence, data: bytes) -> None:
        key = bytes.fromhex(evidence.sha256)
        if await self._pool.fetchval(_STORED, key):
            return
        await self._pool.execute(
            _INSERT, key, evidence.size, evidence.media_type, data, self._clock()
        )

    async def get(self, sha256: str) -> bytes:
        data = await self._pool.fetchval(_GET, bytes.fromhex(sha256)) if is_key(sha256) else None
        if data is None:
            raise evidence_not_found(sha256)
        return bytes(data)

    async def check(self) -> str | None:
        after = b""
        while rows := await self._pool.fetch(_PAGE, after, self._page_size):
            for row in rows:
                key: str = row["sha256"].hex()
                recorded = Evidence(sha256=key, size=row["size"], media_type=row["media_type"])
                if not stored_intact(
                    recorded, row["actual"].hex(), row["actual_size"], row["head"]
                ):
                    return key
            after = rows[-1]["sha256"]
        return None


async def check_evidence_files(dsn: str) -> str | None:
    """`verify`'s check of the evidence files in the database at `dsn`: the key of the first
    file that is not intact, or None (also for a database not yet migrated to 0019)."""
    async with create_pool(dsn, min_size=1, max_size=1) as pool:
        if await pool.fetchval("SELECT to_regclass('evidence_files')") is None:
            return None
        return await PostgresEvidenceStore(pool).check()
