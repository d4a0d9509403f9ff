"""The Open Badges 3.0 credential of an approved renewal, as a plain JSON-LD document.

Pure: every value comes in as an argument (the ledger as it was when the renewal was
approved, the credential's id and status slot, the service's public address), so the same
inputs always give the same document.

* `issuer`: the association, as an OB 3.0 `Profile` whose id is its page on this service.
* `credentialSubject`: an `AchievementSubject` naming the holder by an `IdentityObject` of
  type `name` (OB 3.0 has no plain `name` on a subject), with the CEUs of the renewed cycle
  and that cycle's dates as the activity's, and the `achievement`: the program's credential.
* `validFrom`: the approval; `validUntil`: the end of the cycle the renewal opens.
* `credentialStatus`: one `BitstringStatusListEntry` per purpose (revocation, suspension).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

__all__ = ["CONTEXTS", "BadgeFacts", "issuer_profile", "instant", "renewal_badge"]

CONTEXTS = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
)


def instant(at: datetime | date) -> str:
    """An XML Schema dateTimeStamp in UTC, to the second (`2026-06-15T14:30:00Z`)."""
    if not isinstance(at, datetime):
        at = datetime.combine(at, time(), tzinfo=UTC)
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def issuer_profile(base_url: str, program: str, association: str) -> dict[str, Any]:
    return {
        "id": f"{base_url}/v1/issuers/{program}",
        "type": ["Profile"],
        "name": association,
        "url": base_url,
    }


class BadgeFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a renewal credential says, gathered from the ledger by the caller."""

    credential_id: UUID
    program: str
    program_name: str
    association: str
    holder_name: str
    ceus: Decimal
    required_ceus: Decimal
    cycle_starts_on: date
    """The renewed cycle: the one whose CEUs the renewal counted."""
    cycle_ends_on: date
    approved_at: datetime
    valid_until: date
    """The end of the cycle the renewal opens."""
    status_index: int


def _status(base_url: str, program: str, index: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{base_url}/v1/status-lists/{program}/{purpose}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(index),
            "statusListCredential": f"{base_url}/v1/status-lists/{program}/{purpose}",
        }
        for purpose in ("revocation", "suspension")
    ]


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
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": facts.holder_name,
                    "identityType": "name",
                    "hashed": False,
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
