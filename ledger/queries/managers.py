"""What a manager's page reads beside the API's views: who revoked a certification still
revoked, and the association of each program."""

from __future__ import annotations

from datetime import datetime

import msgspec

from ledger.domain.record import ManagerRecord
from ledger.queries.reads import Reads

__all__ = ["Standing", "associations", "standing_of"]


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    """The last revocation of a certification still revoked: when, by whom, why."""

    at: datetime
    association: str
    reason: str


async def associations(reads: Reads) -> dict[str, str]:
    """Program code -> its association's name (who revokes, who issues)."""
    return {p.code: p.association for p in await reads.programs()}


def standing_of(record: ManagerRecord, program: str, association: str) -> Standing | None:
    """The revocation that holds now, if the certification is revoked."""
    cert = record.certifications.get(program)
    if cert is None or not cert.revoked:
        return None
    last = cert.standing[-1]
    return Standing(at=last.at, association=association, reason=last.reason)
