"""The evidence store port: what every adapter (PostgreSQL, in-memory; S3 may follow) promises.

A file is stored once under the SHA-256 of its bytes and never changed: the same file put twice
is stored once and answers the same `Evidence`.  The port itself refuses what a self-report may
not carry (`ledger.domain.evidence.sniff`: the type from the bytes, at most 10 MB, not empty)
before an adapter sees the bytes; adapters only keep and hand back.  `check` is for `verify`:
every stored file must still hash to its key, have its recorded size, and show its recorded
type.  Held to one contract suite: tests/contract/test_evidence_store.py.
"""

from __future__ import annotations

import asyncio
import re
from typing import Protocol, runtime_checkable

from ledger.domain.errors import NotFound
from ledger.domain.evidence import Evidence, EvidenceRefused, evidence_of, media_type_of

__all__ = ["EvidenceStore", "evidence_not_found", "is_key", "stored_intact"]

_KEY = re.compile(r"[0-9a-f]{64}")


def is_key(sha256: str) -> bool:
    """Whether `sha256` is a key as the store writes them: 64 lowercase hex digits."""
    return _KEY.fullmatch(sha256) is not None


def evidence_not_found(sha256: str) -> NotFound:
    return NotFound("evidence file", sha256)


def stored_intact(evidence: Evidence, sha256: str, size: int, head: bytes) -> bool:
    """Whether a stored file, whose bytes hash to `sha256`, are `size` long and begin with
    `head`, is still the file recorded as `evidence`."""
    try:
        media_type = media_type_of(head)
    except EvidenceRefused:
        return False
    return (sha256, size, media_type) == (evidence.sha256, evidence.size, evidence.media_type)


@runtime_checkable
class EvidenceStore(Protocol):
    """Adapters subclass this explicitly, which gives them `put`; they implement
    `_store_once`, `get` and `check`.  Runtime-checkable because Litestar checks an injected
    value against its parameter's type (`EvidenceDep`)."""

    async def put(self, data: bytes, declared_name: str) -> Evidence:
        """Keep `data` (once, by its SHA-256) and answer what the ledger records of it; a file a
        self-report may not carry raises `EvidenceRefused`, and nothing is stored.

        Hashing up to 10 MB takes some milliseconds; it runs in a thread (hashlib lets go of
        the GIL), not on the event loop that other requests share."""
        evidence = await asyncio.to_thread(evidence_of, data, declared_name)
        await self._store_once(evidence, data)
        return evidence

    async def _store_once(self, evidence: Evidence, data: bytes) -> None:
        """Store `data` under `evidence.sha256` unless it is stored already: two puts of the
        same file at the same moment store it once, and neither fails."""
        ...

    async def get(self, sha256: str) -> bytes:
        """The bytes stored under `sha256` (lowercase hex), or `NotFound`."""
        ...

    async def check(self) -> str | None:
        """The key of the first stored file (in key order) that no longer hashes to its key,
        or whose size or type is not the one recorded; None when every file is intact."""
        ...
