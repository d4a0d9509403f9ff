"""An evidence store in memory, for unit tests of the commands.  It passes the same contract
suite as the PostgreSQL store (tests/contract/test_evidence_store.py).  Nothing awaits between
looking a key up and storing it, so concurrent puts of one file store it once."""

from __future__ import annotations

import hashlib

from ledger.domain.evidence import HEAD, Evidence
from ledger.evidence.store import EvidenceStore, evidence_not_found, stored_intact

__all__ = ["InMemoryEvidenceStore"]


class InMemoryEvidenceStore(EvidenceStore):
    def __init__(self) -> None:
        self._files: dict[str, tuple[Evidence, bytes]] = {}

    async def _store_once(self, evidence: Evidence, data: bytes) -> None:
        self._files.setdefault(evidence.sha256, (evidence, data))

    async def get(self, sha256: str) -> bytes:
        if (found := self._files.get(sha256)) is None:
            raise evidence_not_found(sha256)
        return found[1]

    async def check(self) -> str | None:
        for key in sorted(self._files):
            evidence, data = self._files[key]
            if evidence.sha256 != key or not stored_intact(
                evidence, hashlib.sha256(data).hexdigest(), len(data), data[:HEAD]
            ):
                return key
        return None
