"""The Open Badges 3.0 credential of an approved renewal, as a plain JSON-LD document.

Pure: every value comes in as an argument (the ledger as it was when the renewal was
approved, the credential's id, status slot, holder id and salt, the service's public
address), so the same inputs always give the same document.

* `issuer`: the association, as an OB 3.0 `Profile` whose id is its page on this service.
* `credentialSubject`: an `AchievementSubject` whose `id` is a random `urn:uuid:` drawn for
  this credential (so the JWT can carry `sub`, and nothing links two credentials of one
  holder), identified by an `IdentityObject`: the salted SHA-256 of the holder's email, as
  OB 3.0 provides (`sha256$` + hex of sha256(email + salt)); a verifier told the email by
  the holder can check it, nobody else learns it.  With the CEUs of the renewed cycle and
  that cycle's dates as the activity's, and the `achievement`: the program's credential.
* `validFrom`: the approval; `validUntil`: the end of the cycle the renewal opens.
* `credentialStatus`: one `BitstringStatusListEntry` (OB 3.0 allows at most one), of purpose
  `suspension`: its bit is set while the certification does not stand behind the credential,
  for ever once revoked, while lapsed (docs/credentials.md, "Status").
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

__all__ = [
    "CONTEXTS",
    "BadgeFacts",
    "identity_hash",
    "instant",
    "issuer_id",
    "issuer_profile",
    "jwt_claims",
    "key_url",
    "renewal_badge",
]

CONTEXTS = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
)


def instant(at: datetime | date) -> str:
    """An XML Schema dateTimeStamp in UTC, to the second (`2026-06-15T14:30:00Z`)."""
    if not isinstance(at, datetime):
        at = datetime.combine(at, time(), tzinfo=UTC)
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def issuer_id(base_url: str, program: str) -> str:
    return f"{base_url}/v1/issuers/{program}"


def key_url(base_url: str, program: str, thumbprint: str) -> str:
    """The JOSE `kid` of a program's key: a URL that dereferences to the JWK (OB 3.0 8.2)."""
    return f"{issuer_id(base_url, program)}/keys/{thumbprint}"


def issuer_profile(base_url: str, program: str, association: str) -> dict[str, Any]:
    """The association as the credential embeds it (the published one adds `@context`)."""
    return {
        "id": issuer_id(base_url, program),
        "type": ["Profile"],
        "name": association,
        "url": base_url,
    }


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0's hashed identity: `sha256$` + the hex SHA-256 of the email and the salt (the
    email lower-cased and trimmed first, as verifiers are told to do with what they hold)."""
    digest = hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()
    return f"sha256${digest}"


class BadgeFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a renewal credential says, gathered from the ledger by the caller."""

    credential_id: UUID
    subject_id: UUID
    """The holder as this credential's subject: random, one per credential."""
    program: str
    program_name: str
    association: str
    holder_email: str
    salt: str
    ceus: Decimal
    required_ceus: Decimal
    cycle_starts_on: date
    """The renewed cycle: the one whose CEUs the renewal counted."""
    cycle_ends_on: date
    approved_at: datetime
    valid_until: date
    """The end of the cycle the renewal opens."""
    status_index: int


def _status(base_url: str, program: str, index: int) -> dict[str, Any]:
    list_url = f"{base_url}/v1/status-lists/{program}/suspension"
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def renewal_badge(facts: BadgeFacts, base_url: str) -> dict[str, Any]:
    issuer = issuer_profile(base_url, facts.program, facts.association)
    return {
        "@context": list(CONTEXTS),
        "id": f"urn:uuid:{facts.credential_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{facts.program_name} ({facts.program}), renewed",
        "issuer": issuer,
        "validFrom": instant(facts.approved_at),
        "validUntil": instant(facts.valid_until),
        "credentialSubject": {
            "id": f"urn:uuid:{facts.subject_id}",
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(facts.holder_email, facts.salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": facts.salt,
                }
            ],
            "creditsEarned": float(facts.ceus),
            "activityStartDate": instant(facts.cycle_starts_on),
            "activityEndDate": instant(facts.cycle_ends_on),
            "achievement": {
                "id": f"{base_url}/v1/programs/{facts.program}#credential",
                "type": ["Achievement"],
                "achievementType": "Certification",
                "name": f"{facts.program_name} ({facts.program})",
                "description": f"The {facts.program} credential of {facts.association}.",
                "criteria": {
                    "narrative": (
                        f"Renewed: {facts.required_ceus} CEUs of continuing education in the "
                        f"cycle {facts.cycle_starts_on} to {facts.cycle_ends_on}, and the fee."
                    )
                },
                "creator": issuer,
            },
        },
        "credentialStatus": _status(base_url, facts.program, facts.status_index),
    }


def _epoch(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp())


def jwt_claims(document: dict[str, Any]) -> dict[str, Any]:
    """The registered JWT claims OB 3.0 (8.2.4.1) asks of a VC-JWT, from the credential
    itself: `iss` the issuer's id, `sub` the subject's id (when it has one), `nbf` validFrom,
    `exp` validUntil (when present), and `jti` the credential's id when that id names this
    one document (a `urn:uuid:`), not a status list's URL, which every version shares."""
    issuer = document["issuer"]
    claims: dict[str, Any] = {"iss": issuer if isinstance(issuer, str) else issuer["id"]}
    if document["id"].startswith("urn:uuid:"):
        claims["jti"] = document["id"]
    subject = document.get("credentialSubject", {})
    if isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]
    claims["nbf"] = _epoch(document["validFrom"])
    if "validUntil" in document:
        claims["exp"] = _epoch(document["validUntil"])
    return claims
