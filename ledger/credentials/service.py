"""Credentials from the ledger's facts: issue one per approved renewal, say where each
stands, and publish the programs' status lists.

Issued on first request (the holder's, the certificate PDF's), not by a projector when the
renewal is approved: everything a credential says is read from the ledger *as it was known at
the approval* (`known_at = decided_at`), so it is the same whenever it is first asked for,
and nothing is signed for renewals nobody ever asks about.  Where a credential stands now
(revoked, lapsed) is read from the manager's current record by the same `Reads` the API
answers with, on every request: no second copy of the rules to keep in step.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from ledger.commands.loaders import find_renewal
from ledger.credentials.badge import BadgeFacts, issuer_profile, renewal_badge
from ledger.credentials.standing import renewed_and_next, revoked_at
from ledger.credentials.status_list import Purpose, status_list
from ledger.domain.errors import NotFound, WrongState
from ledger.domain.values import shown

if TYPE_CHECKING:
    from ledger.api.reads import Reads
    from ledger.credentials.registry import Issued, Registry
    from ledger.domain.assess import Status

__all__ = ["CredentialService", "Verification"]


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    """What anyone may learn of a credential from its id (and nothing more personal)."""

    credential_id: UUID
    holder_name: str
    program: str
    program_name: str
    association: str
    status: Status
    """The certification's status now: active, grace, lapsed or revoked."""
    valid_from: datetime
    valid_until: datetime
    revoked: bool
    revoked_at: datetime | None
    lapsed: bool
    expired: bool
    valid: bool
    """Neither revoked, lapsed nor expired, and already in force."""
    checked_at: datetime
    credential_url: str
    verify_url: str


def _midnight(day: Any) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


class CredentialService:
    def __init__(self, reads: Reads, registry: Registry, public_url: str) -> None:
        self.reads = reads
        self.registry = registry
        self.public_url = public_url.rstrip("/")
        """The service's public address (LEDGER_PUBLIC_URL), the one base of every URL it
        signs or shows: never a request's Host header, which its sender chooses (SPEC 6)."""

    async def for_renewal(self, renewal_id: UUID) -> Issued:
        """The approved renewal's credential (issued now if nobody asked for it before)."""
        filed = await find_renewal(self.reads.store, renewal_id)
        now = await self.reads.record(filed.manager_id)
        renewal = now.certifications[filed.program].renewal(renewal_id)
        if renewal is None or renewal.state != "approved" or renewal.decided_at is None:
            state = "unknown" if renewal is None else renewal.state
            raise WrongState(f"renewal {renewal_id} is {state}: only an approved one is certified")
        approved_at = renewal.decided_at
        then = await self.reads.record(filed.manager_id, known_at=approved_at)
        program = await self.reads.catalogue.program(filed.program, known_at=approved_at)
        renewed, opened = renewed_and_next(
            then.certifications[filed.program], program.versions, renewal.cycle
        )

        def make(credential_id: UUID, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
            facts = BadgeFacts(
                credential_id=credential_id, program=program.code, program_name=program.name,
                association=program.association, holder_name=shown(then.name),
                ceus=renewal.ceus,
                required_ceus=renewed.cycle.rules.required_ceus,
                cycle_starts_on=renewed.counts_from, cycle_ends_on=renewed.deadline,
                approved_at=approved_at, valid_until=opened.deadline, status_index=index,
            )  # fmt: skip
            fields = {
                "manager_id": then.manager_id, "holder_name": shown(then.name),
                "approved_at": approved_at, "valid_from": approved_at,
                "valid_until": _midnight(opened.deadline),
            }  # fmt: skip
            return fields, renewal_badge(facts, self.public_url)

        return await self.registry.issue(renewal_id, program.code, make)

    async def find(self, credential_id: UUID) -> Issued:
        issued = await self.registry.find(credential_id)
        if issued is None:
            raise NotFound("credential", credential_id)
        return issued

    async def verification(self, credential_id: UUID) -> Verification:
        issued = await self.find(credential_id)
        status, revoked = await self._standing(issued)
        program = await self.reads.catalogue.program(issued.program)
        now = self.reads.clock()
        expired = now >= issued.valid_until
        lapsed = status == "lapsed"
        return Verification(
            credential_id=issued.credential_id, holder_name=shown(issued.holder_name),
            program=issued.program, program_name=program.name, association=program.association,
            status=status, valid_from=issued.valid_from, valid_until=issued.valid_until,
            revoked=revoked is not None, revoked_at=revoked, lapsed=lapsed, expired=expired,
            valid=revoked is None and not lapsed and not expired and now >= issued.valid_from,
            checked_at=now, credential_url=f"{self.public_url}/v1/credentials/{credential_id}",
            verify_url=f"{self.public_url}/verify/{credential_id}",
        )  # fmt: skip

    async def _standing(self, issued: Issued) -> tuple[Status, datetime | None]:
        """The certification's status now, and when the credential was revoked (if it was)."""
        _, found = await self.reads.assessments(issued.manager_id)
        status = next(a.status for a in found if a.program == issued.program)
        record = await self.reads.record(issued.manager_id)
        return status, revoked_at(record.certifications[issued.program], issued.approved_at)

    async def status_list(self, code: str, purpose: Purpose) -> dict[str, Any]:
        """The program's status list for `purpose`, unsigned (bits as of now)."""
        program = await self.reads.catalogue.program(code)
        marked = []
        for issued in await self.registry.of_program(code):
            status, revoked = await self._standing(issued)
            if (revoked is not None) if purpose == "revocation" else (status == "lapsed"):
                marked.append(issued.status_index)
        return status_list(
            list_url=f"{self.public_url}/v1/status-lists/{code}/{purpose}",
            issuer=issuer_profile(self.public_url, code, program.association),
            purpose=purpose, set_indices=marked, valid_from=self.reads.clock(),
        )  # fmt: skip

    async def issuer(self, code: str) -> dict[str, Any]:
        """The association's OB 3.0 Profile for the program, with its public key."""
        program = await self.reads.catalogue.program(code)
        key = await self.registry.key(code)
        return issuer_profile(self.public_url, code, program.association) | {
            "description": f"Issuer of the {program.name} ({code}) credential.",
            "publicKeyJwk": key.public_jwk,
        }

    async def jwks(self, code: str) -> dict[str, Any]:
        await self.reads.catalogue.program(code)
        return {"keys": [(await self.registry.key(code)).public_jwk]}

    @staticmethod
    def document(issued: Issued) -> dict[str, Any]:
        """The credential inside the VC-JWT (the JWS payload, which the signature covers)."""
        payload = issued.vc_jwt.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
