"""The `evidence_files` table itself (migrations/0019): a stored file is never changed, not even
by the owner, whose UPDATE, DELETE and TRUNCATE the triggers refuse (the service role has no
right to try: tests/integration/test_service_role.py)."""

from __future__ import annotations

import asyncpg
import pytest

from ledger.infra.evidence import PostgresEvidenceStore


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE evidence_files SET media_type = 'image/png'",
        "DELETE FROM evidence_files",
        "TRUNCATE evidence_files",
    ],
)
async def test_the_owner_cannot_change_a_stored_file_either(pool, statement):
    await PostgresEvidenceStore(pool).put(b"%PDF-1.7\n%%EOF\n", "certificate.pdf")

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="never changed"):
        await pool.execute(statement)
    assert await pool.fetchval("SELECT count(*) FROM evidence_files") == 1
