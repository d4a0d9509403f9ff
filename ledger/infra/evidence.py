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
the wire; only each file's first kilobyte comes back, to check its recorded type.  Then every
file a self-report's event names must be stored, with the size and type the event recorded
(`check_evidence_files`): a file taken away, or stored as another, is named too.
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


# The first self-report (in log order) whose file is not stored as its event recorded it.  A
# hash that is not 64 lowercase hex digits names no file (CASE evaluates `decode` only for one
# that is), and counts as not stored.
_UNSTORED = """
SELECT d.sha256
FROM events e,
     json_to_record(e.data -> 'evidence') AS d (sha256 text, size integer, media_type text)
WHERE e.type = 'self_reported'
  AND NOT CASE WHEN d.sha256 ~ '^[0-9a-f]{64}$' THEN EXISTS (
        SELECT FROM evidence_files f
        WHERE f.sha256 = decode(d.sha256, 'hex') AND f.size = d.size
          AND f.media_type = d.media_type)
      ELSE false END
ORDER BY e.position
LIMIT 1
"""


async def check_evidence_files(dsn: str) -> str | None:
    """`verify`'s check of the evidence files in the database at `dsn`: the key of the first
    file that is not intact, else of the first file a self-report names that is not stored as
    recorded; None when all are (also for a database not yet migrated to 0019).  The CLI runs
    without the app, so it opens a small pool of its own."""
    async with create_pool(dsn, min_size=1, max_size=1) as pool:
        if await pool.fetchval("SELECT to_regclass('evidence_files')") is None:
            return None
        bad: str | None = await PostgresEvidenceStore(pool).check()
        return bad if bad is not None else await pool.fetchval(_UNSTORED)
