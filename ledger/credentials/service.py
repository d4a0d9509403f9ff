"""Credentials from the ledger's facts: issue one per approved renewal, say where each
stands, and publish the programs' status lists.

Issued on first request (the holder's, the certificate PDF's), not by a projector when the
renewal is approved: everything a credential says is read from the ledger *as it was known at
the approval* (`known_at = decided_at`), so it is the same whenever it is first asked for,
and nothing is signed for renewals nobody ever asks about.  Where a credential stands now
(revoked, lapsed) is read from the manager's current record by the same `Reads` the API
answers with, on every request: no second copy of the rules to keep in step.  The status
lists' bits are computed the same way on each request, and signed only when they change
(Registry.status_list).
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import msgspec

from ledger.commands.loaders import find_renewal
from ledger.credentials.badge import (
    CONTEXTS,
    BadgeFacts,
    issuer_id,
    issuer_profile,
    key_url,
    renewal_badge,
)
from ledger.credentials.registry import ALGORITHM
from ledger.credentials.standing import renewed_and_next, revoked_at
from ledger.credentials.status_list import Purpose, encode_list, status_list
from ledger.domain.errors import NotFound, WrongState
from ledger.domain.values import shown

if TYPE_CHECKING:
    from ledger.credentials.registry import Issued, Registry, SignedList
    from ledger.domain.assess import Status
    from ledger.domain.record import ManagerRecord
    from ledger.queries.reads import Reads

__all__ = ["CredentialService", "HeldCredential", "Verification"]


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
    format: int
    """1: signed before issue 22 (verifies with its key, but OB 3.0 verifiers refuse it);
    2: the OB 3.0 VC-JWT."""
    reissued_as: UUID | None
    """The credential that replaced a format-1 one, once its holder asked for it again."""
    reissued_url: str | None


class HeldCredential(msgspec.Struct, frozen=True, kw_only=True):
    """An approved renewal's documents, for its holder's page: the certificate PDF, the signed
    credential and the public link to share."""

    program: str
    renewal_id: UUID
    cycle: int
    approved_at: datetime
    credential_id: UUID
    valid_until: datetime
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
                credential_id=credential_id, subject_id=uuid4(), program=program.code,
                program_name=program.name, association=program.association,
                holder_email=then.email, salt=secrets.token_hex(16), ceus=renewal.ceus,
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

        return await self.registry.issue(renewal_id, program.code, make, self.public_url)

    async def held(self, record: ManagerRecord, held: tuple[str, ...]) -> list[HeldCredential]:
        """Every approved renewal's credential among the programs `held` (issued on first
        ask, as GET /v1/renewals/{id}/credential does), newest first."""
        found = []
        for code in held:
            for renewal in record.certifications[code].renewals:
                if renewal.state != "approved" or renewal.decided_at is None:
                    continue
                issued = await self.for_renewal(renewal.renewal_id)
                found.append(
                    HeldCredential(
                        program=code,
                        renewal_id=renewal.renewal_id,
                        cycle=renewal.cycle,
                        approved_at=renewal.decided_at,
                        credential_id=issued.credential_id,
                        valid_until=issued.valid_until,
                        verify_url=f"{self.public_url}/verify/{issued.credential_id}",
                    )
                )
        return sorted(found, key=lambda c: c.approved_at, reverse=True)

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
            verify_url=f"{self.public_url}/verify/{credential_id}", format=issued.format,
            reissued_as=issued.reissued_as,
            reissued_url=None if issued.reissued_as is None
            else f"{self.public_url}/verify/{issued.reissued_as}",
        )  # fmt: skip

    async def _standing(self, issued: Issued) -> tuple[Status, datetime | None]:
        """The certification's status now, and when the credential was revoked (if it was)."""
        _, found = await self.reads.assessments(issued.manager_id)
        status = next(a.status for a in found if a.program == issued.program)
        record = await self.reads.record(issued.manager_id)
        return status, revoked_at(record.certifications[issued.program], issued.approved_at)

    async def status_list(self, code: str, purpose: Purpose) -> SignedList:
        """The program's status list for `purpose` as signed, its bits as of now: the
        `revocation` bit of a credential revoked since its approval; the `suspension` bit (the
        one a credential of format 2 names) of one revoked, or whose certification is lapsed.
        """
        await self.reads.catalogue.program(code)
        marked = []
        for issued in await self.registry.of_program(code):
            status, revoked = await self._standing(issued)
            if revoked is not None or (purpose == "suspension" and status == "lapsed"):
                marked.append(issued.status_index)
        list_url = f"{self.public_url}/v1/status-lists/{code}/{purpose}"

        def make(encoded: str, now: datetime) -> dict[str, Any]:
            return status_list(
                list_url=list_url, issuer=issuer_id(self.public_url, code), purpose=purpose,
                encoded_list=encoded, valid_from=now,
            )  # fmt: skip

        return await self.registry.status_list(
            code, purpose, encode_list(marked), self.reads.clock(), make, self.public_url
        )

    async def issuer(self, code: str) -> dict[str, Any]:
        """The association's OB 3.0 Profile for the program (its keys: `jwks`)."""
        program = await self.reads.catalogue.program(code)
        return (
            {"@context": list(CONTEXTS)}
            | issuer_profile(self.public_url, code, program.association)
            | {"description": f"Issuer of the {program.name} ({code}) credential."}
        )

    async def jwks(self, code: str) -> dict[str, Any]:
        """The program's key twice: under its `kid` URL (what credentials name now), and as
        stored, under its bare thumbprint (what format-1 credentials name)."""
        await self.reads.catalogue.program(code)
        key = await self.registry.key(code)
        return {"keys": [await self.key_jwk(code, key.kid), key.public_jwk]}

    async def key_jwk(self, code: str, thumbprint: str) -> dict[str, Any]:
        """The JWK a credential's `kid` URL dereferences to."""
        await self.reads.catalogue.program(code)
        key = await self.registry.key(code)
        if thumbprint != key.kid:
            raise NotFound("key", f"{code}/{thumbprint}")
        kid = key_url(self.public_url, code, key.kid)
        return key.public_jwk | {"kid": kid, "alg": ALGORITHM, "use": "sig"}

    @classmethod
    def document(cls, issued: Issued) -> dict[str, Any]:
        """The credential inside the VC-JWT (the JWS payload, which the signature covers)."""
        return cls.payload(issued.vc_jwt)

    @staticmethod
    def payload(vc_jwt: str) -> dict[str, Any]:
        """The payload of a compact JWS."""
        payload = vc_jwt.split(".")[1]
        document: dict[str, Any] = json.loads(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        )
        return document
