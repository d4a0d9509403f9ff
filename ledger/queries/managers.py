"""What a manager's page reads beside the API's views: who revoked a certification still
revoked, and the association of each program."""

from __future__ import annotations

from datetime import datetime

import msgspec

from ledger.access.policy import WHOLE, ManagerScope, scope_of
from ledger.access.principals import Principal
from ledger.domain.errors import NotFound
from ledger.domain.record import ManagerRecord
from ledger.queries.reads import Reads

__all__ = ["Standing", "associations", "seen_by", "standing_of"]


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


async def seen_by(
    reads: Reads, principal: Principal, manager_id: str, *, unknown_holds_nothing: bool
) -> ManagerScope:
    """What `principal` sees of the manager (`policy.scope_of`): all of it for the manager and
    an admin; for an auditor, the programs it audits that the manager holds now.  An unknown
    manager is NotFound (the API's 404), or holds nothing if `unknown_holds_nothing` (a page
    answers "you cannot see this" rather than tell who exists)."""
    if principal.is_admin() or principal.is_manager(manager_id):
        return WHOLE
    held: tuple[str, ...] = ()
    if principal.role == "auditor":
        if not unknown_holds_nothing:
            held = tuple((await reads.profile(manager_id)).certifications)
        else:
            try:
                held = tuple((await reads.record(manager_id)).certifications)
            except NotFound:
                held = ()
    return scope_of(principal, manager_id, held)
