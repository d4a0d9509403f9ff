"""An approved renewal's Open Badges 3.0 credential, checked the way a stranger would check it:
fetched without an account, its signature verified by jwcrypto (another JOSE implementation
than joserfc, which signed it) against the key its `kid` URL dereferences to, its status read
from the program's Bitstring Status List with nothing but gzip and base64.  (openbadgeslib,
PyJWT and 1EdTech's schema: test_verifiers.py.)"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import asyncpg
import pytest
from jwcrypto import jwk, jws

from tests.api.world import World, assert_problem
from tests.builders import SteppingClock
from tests.credentials.given import (
    approved_cmom_renewal,
    credential_of,
    decide,
    filed_cmom_renewal,
)

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


def b64url(raw: str) -> bytes:
    return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))


async def dereferenced(world: World, kid: str) -> jwk.JWK:
    """The JWK a `kid` URL names, fetched without an account."""
    assert kid.startswith("http://testserver.local/v1/issuers/"), kid
    response = await world.api.get(kid.removeprefix("http://testserver.local"), None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jwk+json")
    assert response.json()["kid"] == kid
    return jwk.JWK(**response.json())


async def verified(world: World, token: str) -> dict[str, Any]:
    """The payload of a compact JWS whose signature the key its `kid` URL names verifies
    (jwcrypto raises InvalidJWSSignature otherwise)."""
    header = json.loads(b64url(token.split(".")[0]))
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": header["kid"]}, header
    checked = jws.JWS()
    checked.deserialize(token)
    checked.verify(await dereferenced(world, header["kid"]), alg="EdDSA")
    return json.loads(checked.payload)


async def status_bit(world: World, url: str, index: int) -> bool:
    """Bit `index` of the status list credential at `url`, verified first."""
    response = await world.api.get(url.removeprefix("http://testserver.local"), None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    status_list = await verified(world, response.text)
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    bits = gzip.decompress(b64url(encoded[1:]))
    assert len(bits) * 8 >= 131_072
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


async def test_an_approved_renewal_has_an_open_badge_that_an_independent_library_verifies(
    world: World,
) -> None:
    renewal_id = await approved_cmom_renewal(world)
    issued = await credential_of(world, renewal_id)

    public = await world.api.get(f"/v1/credentials/{issued['credential_id']}", None)
    assert public.status_code == 200
    assert public.headers["content-type"].startswith("text/plain")
    assert public.text == issued["vc_jwt"]

    vc = await verified(world, public.text)
    assert vc["@context"] == CONTEXTS
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["id"] == f"urn:uuid:{issued['credential_id']}"
    assert vc["issuer"]["type"] == ["Profile"]
    assert vc["issuer"]["name"] == "PMI"
    assert vc["validFrom"] == "2026-06-15T14:30:00Z"  # the approval, on the fixed clock
    assert vc["validUntil"] == "2027-09-30T00:00:00Z"  # the end of the cycle it opens
    subject = vc["credentialSubject"]
    assert subject["id"].startswith("urn:uuid:")
    assert subject["identifier"][0]["hashed"] is True
    assert subject["achievement"]["achievementType"] == "Certification"
    assert subject["creditsEarned"] == 12
    assert (subject["activityStartDate"], subject["activityEndDate"]) == (
        "2025-09-30T00:00:00Z",
        "2026-09-30T00:00:00Z",
    )
    assert vc["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert vc["credentialStatus"]["statusPurpose"] == "suspension"

    again = await credential_of(world, renewal_id, world.cmom_auditor)
    assert again["vc_jwt"] == issued["vc_jwt"], "one credential per renewal"


async def test_a_credential_with_one_field_changed_fails_verification(world: World) -> None:
    issued = await credential_of(world, await approved_cmom_renewal(world))
    header, payload, signature = issued["vc_jwt"].split(".")
    vc = json.loads(b64url(payload))
    vc["validUntil"] = "2037-09-30T00:00:00Z"
    forged = base64.urlsafe_b64encode(json.dumps(vc).encode()).decode().rstrip("=")
    with pytest.raises(jws.InvalidJWSSignature):
        await verified(world, f"{header}.{forged}.{signature}")
    assert (await verified(world, issued["vc_jwt"]))["validUntil"] == "2027-09-30T00:00:00Z"


REVOCATION = "http://testserver.local/v1/status-lists/CMOM/revocation"


async def test_revoking_the_certification_sets_the_credentials_status_bit_for_good(
    world: World,
) -> None:
    """Issue 22 item 3: the one entry a credential has is set for ever by a revocation (and
    the revocation list, which credentials signed before name, sets the same index)."""
    issued = await credential_of(world, await approved_cmom_renewal(world))
    vc = await verified(world, issued["vc_jwt"])
    entry = vc["credentialStatus"]
    index = int(entry["statusListIndex"])
    assert not await status_bit(world, entry["statusListCredential"], index)
    assert not await status_bit(world, REVOCATION, index)

    revoked = await world.api.revoke_certification(world.cmom_auditor, "m-1", "CMOM")
    assert revoked.status_code == 201, revoked.text

    assert await status_bit(world, entry["statusListCredential"], index)
    assert await status_bit(world, REVOCATION, index)
    assert not await status_bit(world, entry["statusListCredential"], (index + 1) % 131_072)
    verify = await world.api.ok(
        await world.api.get(f"/verify/{issued['credential_id']}.json", None), 200
    )
    assert (verify["revoked"], verify["status"], verify["valid"]) == (True, "revoked", False)

    # Reinstating the certification does not un-revoke a credential (revocation is final).
    reinstated = await world.api.reinstate_certification(world.cmom_auditor, "m-1", "CMOM")
    assert reinstated.status_code == 201, reinstated.text
    assert await status_bit(world, entry["statusListCredential"], index)
    assert await status_bit(world, REVOCATION, index)
    verify = await world.api.ok(
        await world.api.get(f"/verify/{issued['credential_id']}.json", None), 200
    )
    assert (verify["revoked"], verify["status"]) == (True, "active")


async def test_a_lapsed_certification_sets_the_suspension_bit(
    world: World, clock: SteppingClock
) -> None:
    issued = await credential_of(world, await approved_cmom_renewal(world))
    vc = await verified(world, issued["vc_jwt"])
    suspension = vc["credentialStatus"]
    index = int(suspension["statusListIndex"])
    assert not await status_bit(world, suspension["statusListCredential"], index)

    clock.advance(days=365 + 107 + 31)  # past 2027-09-30 and its 30 days of grace
    assert (await world.api.certification(world.m1, "m-1", "CMOM"))["status"] == "lapsed"
    assert await status_bit(world, suspension["statusListCredential"], index)
    assert not await status_bit(world, REVOCATION, index), "a lapse is not a revocation"
    verify = await world.api.ok(
        await world.api.get(f"/verify/{issued['credential_id']}.json", None), 200
    )
    assert (verify["lapsed"], verify["expired"], verify["valid"]) == (True, True, False)


async def test_only_an_approved_renewal_has_a_credential(world: World) -> None:
    renewal_id = await filed_cmom_renewal(world)
    path = f"/v1/renewals/{renewal_id}/credential"
    assert_problem(await world.api.get(path, world.m1), 409)
    await decide(world, renewal_id, "deny")
    assert_problem(await world.api.get(path, world.m1), 409)
    unknown = "/v1/renewals/00000000-0000-4000-8000-000000000000/credential"
    assert_problem(await world.api.get(unknown, world.admin), 404)
    unknown_credential = "/v1/credentials/00000000-0000-4000-8000-000000000000"
    assert_problem(await world.api.get(unknown_credential, None), 404)


async def test_a_renewals_credential_is_its_holders_their_associations_and_the_admins(
    world: World,
) -> None:
    path = f"/v1/renewals/{await approved_cmom_renewal(world)}/credential"
    for token in (world.m1, world.cmom_auditor, world.admin):
        assert (await world.api.get(path, token)).status_code == 200
    for token in (world.m2, world.cmm_auditor, world.tma):
        assert_problem(await world.api.get(path, token), 403)
    assert_problem(await world.api.get(path, None), 401)


async def test_the_signing_key_is_stored_encrypted(world: World, dsn: str) -> None:
    await credential_of(world, await approved_cmom_renewal(world))
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT * FROM credential_keys WHERE program = 'CMOM'")
    finally:
        await conn.close()
    assert row is not None
    assert b"PRIVATE KEY" not in row["private_key_enc"]
    public = json.loads(row["public_jwk"])
    assert set(public) == {"kty", "crv", "x", "kid", "alg", "use"}, "no private part ('d')"
    assert public["alg"] == "EdDSA"
