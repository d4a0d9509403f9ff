"""Issue 22: the credentials and status lists, checked by verifiers no one here wrote.

* openbadgeslib (the OB 3.0 verifier an Open Badges consumer reaches for): signature, the
  JWT claims, the OB 3.0 structure, and the status (each list's own signature too);
* 1EdTech's OB 3.0 JSON Schemas (tests/credentials/schema, README there): every payload;
* PyJWT, a third JOSE implementation (not joserfc, the signer; not jwcrypto): the JWS and
  its registered claims.

Those verifiers read the wall clock; here they read the test's clock instead (`verifiers_at`),
so that moving the clock moves them too and no test depends on the day it runs.
"""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import asyncpg
import jwt
import jwt.api_jwt
import openbadgeslib.ob3.status
import openbadgeslib.ob3.verifier
import pytest
from joserfc import jws as joserfc_jws
from joserfc.jwk import OKPKey
from jsonschema import Draft201909Validator
from jwcrypto import jwk
from jwcrypto import jws as jwcrypto_jws
from openbadgeslib.ob3 import IdentityObject, OB3VerificationError, OB3Verifier

from tests.api.world import World
from tests.builders import SteppingClock
from tests.credentials.given import approved_cmom_renewal, credential_of
from tests.credentials.test_credentials_api import dereferenced

BASE = "http://testserver.local"
SCHEMAS = Path(__file__).parent / "schema"


def schema(name: str) -> Draft201909Validator:
    return Draft201909Validator(json.loads((SCHEMAS / f"{name}.json").read_text()))


ACHIEVEMENT_CREDENTIAL = schema("achievementcredential")
PROFILE = schema("profile")


def part(token: str, index: int) -> dict[str, Any]:
    raw = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


@pytest.fixture
def verifiers_at(clock: SteppingClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """openbadgeslib and PyJWT check validity windows at the test's clock."""

    class At(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> At:
            moment = clock().astimezone(tz)
            return cls.combine(moment.date(), moment.timetz())

    for module in (jwt.api_jwt, openbadgeslib.ob3.verifier, openbadgeslib.ob3.status):
        monkeypatch.setattr(module, "datetime", At)


async def fetch(world: World, url: str, **headers: str) -> Any:
    response = await world.api.client.get(url.removeprefix(BASE), headers=headers)
    assert response.status_code == 200, response.text
    return response


async def key_pem(world: World, token: str) -> bytes:
    """The PEM of the key the token's `kid` URL dereferences to."""
    key: bytes = (await dereferenced(world, part(token, 0)["kid"])).export_to_pem()
    return key


async def status_lists(world: World, token: str) -> Callable[[str], bytes]:
    """openbadgeslib's `download`: the status list the credential names, fetched now."""
    url = part(token, 1)["credentialStatus"]["statusListCredential"]
    served = {url: (await fetch(world, url)).content}
    return served.__getitem__


async def check_status(world: World, verifier: OB3Verifier, credential: Any, token: str) -> None:
    """openbadgeslib's status check of `credential`, on the list it names as served now."""
    download = await status_lists(world, token)
    verifier.check_status(credential, verify_list=True, download=download)


def bit(token: str, index: int) -> bool:
    encoded = part(token, 1)["credentialSubject"]["encodedList"]
    body = encoded.removeprefix("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


async def test_openbadgeslib_pyjwt_and_the_ob3_schema_accept_the_credential_and_its_list(
    world: World, verifiers_at: None
) -> None:
    """Must show: openbadgeslib verifies the credential (signature, claims, structure, status
    with the list's own signature), 1EdTech's schema validates it, PyJWT verifies the JWS
    (items 1-6)."""
    issued = await credential_of(world, await approved_cmom_renewal(world))
    token = issued["vc_jwt"]
    payload = part(token, 1)
    pem = await key_pem(world, token)

    credential = OB3Verifier(pem).verify(
        token, expected_recipient=payload["credentialSubject"]["id"], check_status=True,
        verify_status_list=True, download=await status_lists(world, token),
    )  # fmt: skip
    assert credential.id == f"urn:uuid:{issued['credential_id']}"
    assert credential.issuer.id == f"{BASE}/v1/issuers/CMOM"

    assert list(ACHIEVEMENT_CREDENTIAL.iter_errors(payload)) == []
    issuer = (await fetch(world, "/v1/issuers/CMOM")).json()
    assert list(PROFILE.iter_errors(issuer)) == []
    assert issuer["@context"] == payload["@context"]
    assert "publicKeyJwk" not in issuer

    claims = jwt.decode(
        token, jwt.PyJWK(json.loads((await dereferenced(world, part(token, 0)["kid"])).export())),
        algorithms=["EdDSA"], issuer=f"{BASE}/v1/issuers/CMOM",
        options={"require": ["iss", "jti", "sub", "nbf", "exp"]},
    )  # fmt: skip
    assert claims["jti"] == payload["id"]
    assert claims["sub"] == payload["credentialSubject"]["id"]
    assert claims["nbf"] == int(datetime.fromisoformat(payload["validFrom"]).timestamp())
    assert claims["exp"] == int(datetime.fromisoformat(payload["validUntil"]).timestamp())

    header = part(token, 0)
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": header["kid"]}  # item 4: no cty
    assert isinstance(payload["credentialStatus"], dict)  # item 3: one entry

    status_list = (await fetch(world, payload["credentialStatus"]["statusListCredential"])).text
    assert part(status_list, 1)["issuer"] == f"{BASE}/v1/issuers/CMOM"  # item 6: no OB terms
    assert jwt.decode(status_list, pem, algorithms=["EdDSA"])["iss"] == credential.issuer.id


async def test_the_holder_is_named_by_a_salted_hash_of_their_email_only(world: World) -> None:
    """Item 9: openbadgeslib's own IdentityObject.create gives the same hash from the email
    and the credential's salt; neither the name nor the email is in the credential."""
    issued = await credential_of(world, await approved_cmom_renewal(world))
    identity = part(issued["vc_jwt"], 1)["credentialSubject"]["identifier"][0]
    assert (identity["hashed"], identity["identityType"]) == (True, "emailAddress")
    assert len(identity["salt"]) == 32
    expected = IdentityObject.create("m-1@example.org", salt=identity["salt"])
    assert identity["identityHash"] == expected.identity_hash
    assert "m-1" not in json.dumps(part(issued["vc_jwt"], 1)["credentialSubject"])


async def test_openbadgeslib_refuses_a_credential_once_revoked_and_once_lapsed(
    world: World, clock: SteppingClock, verifiers_at: None
) -> None:
    """Must show: the status bit flips on revocation, and on a lapse (the clock moved)."""
    issued = await credential_of(world, await approved_cmom_renewal(world))
    token = issued["vc_jwt"]
    verifier = OB3Verifier(await key_pem(world, token))
    credential = verifier.verify(
        token, check_status=True, download=await status_lists(world, token)
    )

    clock.advance(days=365 + 107 + 31)  # past 2027-09-30 and its 30 days of grace: lapsed
    with pytest.raises(OB3VerificationError, match="status 'suspension' is set"):
        verifier.check_status(
            credential, verify_list=True, download=await status_lists(world, token)
        )

    extended = await world.api.extend_certification(world.cmom_auditor, "m-1", "CMOM", "2027-12-31")
    assert extended.status_code == 201, extended.text
    await check_status(world, verifier, credential, token)

    revoked = await world.api.revoke_certification(world.cmom_auditor, "m-1", "CMOM")
    assert revoked.status_code == 201, revoked.text
    with pytest.raises(OB3VerificationError, match="status 'suspension' is set"):
        verifier.check_status(
            credential, verify_list=True, download=await status_lists(world, token)
        )


async def test_a_replayed_status_list_older_than_its_validity_is_refused(
    world: World, clock: SteppingClock, verifiers_at: None
) -> None:
    """Item 7 / must show: a list signed before a revocation hides it at most one day."""
    issued = await credential_of(world, await approved_cmom_renewal(world))
    token = issued["vc_jwt"]
    url = part(token, 1)["credentialStatus"]["statusListCredential"]
    index = int(part(token, 1)["credentialStatus"]["statusListIndex"])
    verifier = OB3Verifier(await key_pem(world, token))
    credential = verifier.verify(token)
    old_list = (await fetch(world, url)).content

    clock.advance(hours=1)
    revoked = await world.api.revoke_certification(world.cmom_auditor, "m-1", "CMOM")
    assert revoked.status_code == 201, revoked.text
    assert bit((await fetch(world, url)).text, index)

    def replayed(_: str) -> bytes:
        return old_list

    # Within its day the old list is still believed: the window the validity bounds.
    verifier.check_status(credential, verify_list=True, download=replayed)

    clock.advance(hours=23, minutes=2)  # the old list's validUntil (+ 60 s leeway) has passed
    with pytest.raises(OB3VerificationError, match="expired"):
        verifier.check_status(credential, verify_list=True, download=replayed)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(old_list, await key_pem(world, token), algorithms=["EdDSA"])
    with pytest.raises(OB3VerificationError, match="status 'suspension' is set"):
        verifier.check_status(
            credential, verify_list=True, download=await status_lists(world, token)
        )


async def test_a_status_list_is_signed_once_per_change_and_cached(
    world: World, clock: SteppingClock
) -> None:
    """Item 7: the same bytes and ETag until a bit changes or half its day has passed;
    `If-None-Match` answers 304; caches keep it 5 minutes."""
    issued = await credential_of(world, await approved_cmom_renewal(world))
    url = part(issued["vc_jwt"], 1)["credentialStatus"]["statusListCredential"]

    first = await fetch(world, url)
    assert first.headers["cache-control"] == "public, max-age=300"
    etag = first.headers["etag"]
    listed = part(first.text, 1)
    assert listed["validFrom"] == "2026-06-15T14:30:00Z"
    assert listed["validUntil"] == "2026-06-16T14:30:00Z"
    assert listed["credentialSubject"]["ttl"] == 300_000

    clock.advance(hours=1)
    again = await fetch(world, url)
    assert (again.text, again.headers["etag"]) == (first.text, etag), "not re-signed"
    cached = await world.api.client.get(url.removeprefix(BASE), headers={"If-None-Match": etag})
    assert (cached.status_code, cached.content) == (304, b"")

    revoked = await world.api.revoke_certification(world.cmom_auditor, "m-1", "CMOM")
    assert revoked.status_code == 201, revoked.text
    changed = await fetch(world, url)
    assert changed.headers["etag"] != etag
    assert part(changed.text, 1)["validFrom"] == "2026-06-15T15:30:00Z"
    stale = await world.api.client.get(url.removeprefix(BASE), headers={"If-None-Match": etag})
    assert stale.status_code == 200

    clock.advance(hours=11, minutes=59)
    assert (await fetch(world, url)).text == changed.text, "same bits, under half its day"
    clock.advance(minutes=2)
    renewed = part((await fetch(world, url)).text, 1)
    assert renewed["validFrom"] == "2026-06-16T03:31:00Z", "re-signed: half its day had passed"


async def test_a_compact_jws_is_text_plain_unless_vc_jwt_or_json_is_asked_for(
    world: World,
) -> None:
    """Item 8: OB 3.0 says text/plain; VC-JOSE-COSE's media type and the JSON on request."""
    issued = await credential_of(world, await approved_cmom_renewal(world))
    path = f"/v1/credentials/{issued['credential_id']}"
    for accept, media in (
        ("*/*", "text/plain"),
        ("text/plain", "text/plain"),
        ("application/vc+jwt", "application/vc+jwt"),
        ("application/json", "application/json"),
    ):
        response = await fetch(world, path, Accept=accept)
        assert response.headers["content-type"].split(";")[0] == media, accept
        assert response.headers["vary"] == "Accept"
        if media != "application/json":
            assert response.text == issued["vc_jwt"]
    as_json = await world.api.get(path, None, format="json")
    assert as_json.json() == part(issued["vc_jwt"], 1)
    for purpose in ("revocation", "suspension"):
        listed = await fetch(world, f"/v1/status-lists/CMOM/{purpose}", Accept="application/vc+jwt")
        assert listed.headers["content-type"].startswith("application/vc+jwt")


async def test_a_credential_signed_before_the_change_still_verifies_and_is_reissued(
    world: World, dsn: str, verifiers_at: None
) -> None:
    """Issue 22: a credential of format 1 (as signed before: `alg: Ed25519`, a thumbprint
    `kid`, two status entries, the name in clear) keeps verifying with the key it was signed
    with; asking for the renewal's credential again reissues it as OB 3.0; /verify says
    which."""
    renewal_id = await approved_cmom_renewal(world)
    await fetch(world, "/v1/issuers/CMOM/jwks")  # the program's key, made on first use
    kek = world.api.client.app.state.credentials.registry.kek
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT * FROM credential_keys WHERE program = 'CMOM'")
    finally:
        await conn.close()
    thumbprint, private = row["kid"], OKPKey.import_key(kek.decrypt(row["private_key_enc"]))
    old_id = uuid.uuid4()
    old_document = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": f"urn:uuid:{old_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": f"{BASE}/v1/issuers/CMOM", "type": ["Profile"], "name": "PMI"},
        "validFrom": "2026-06-15T14:30:00Z",
        "validUntil": "2027-09-30T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityHash": "m-1",
                            "identityType": "name", "hashed": False}],
            "achievement": {"id": f"{BASE}/v1/programs/CMOM#credential",
                            "type": ["Achievement"], "name": "CMOM"},
        },
        "credentialStatus": [
            {"id": f"{BASE}/v1/status-lists/CMOM/{p}#7", "type": "BitstringStatusListEntry",
             "statusPurpose": p, "statusListIndex": "7",
             "statusListCredential": f"{BASE}/v1/status-lists/CMOM/{p}"}
            for p in ("revocation", "suspension")
        ],
    }  # fmt: skip
    old_jwt = joserfc_jws.serialize_compact(
        {"alg": "Ed25519", "typ": "vc+jwt", "cty": "vc", "kid": thumbprint},
        json.dumps(old_document), private, algorithms=["Ed25519"],
    )  # fmt: skip
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO credentials (credential_id, renewal_id, program, manager_id,"
            " status_index, holder_name, approved_at, valid_from, valid_until, vc_jwt, format)"
            " VALUES ($1, $2, 'CMOM', 'm-1', 7, 'm-1', $3, $3, $4, $5, 1)",
            old_id, uuid.UUID(renewal_id), datetime.fromisoformat("2026-06-15T14:30:00Z"),
            datetime.fromisoformat("2027-09-30T00:00:00Z"), old_jwt,
        )  # fmt: skip
    finally:
        await conn.close()

    before = await world.api.ok(await world.api.get(f"/verify/{old_id}.json", None), 200)
    assert (before["format"], before["reissued_as"], before["valid"]) == (1, None, True)
    keys = (await fetch(world, "/v1/issuers/CMOM/jwks")).json()
    by_thumbprint = jwk.JWKSet.from_json(json.dumps(keys)).get_key(thumbprint)
    assert by_thumbprint is not None, "the key set still lists the key under its old kid"
    old = jwcrypto_jws.JWS()
    old.deserialize((await fetch(world, f"/v1/credentials/{old_id}")).text)
    old.verify(by_thumbprint, alg="Ed25519")  # still verifies with the key it was signed with
    with pytest.raises(OB3VerificationError):
        OB3Verifier(by_thumbprint.export_to_pem()).verify(old_jwt)  # why it is reissued

    issued = await credential_of(world, renewal_id)
    assert issued["credential_id"] != str(old_id)
    OB3Verifier(await key_pem(world, issued["vc_jwt"])).verify(issued["vc_jwt"])
    assert await credential_of(world, renewal_id) == issued, "reissued once"

    after = await world.api.ok(await world.api.get(f"/verify/{old_id}.json", None), 200)
    assert (after["format"], after["reissued_as"]) == (1, issued["credential_id"])
    page = await world.api.client.get(f"/verify/{old_id}", headers={"Accept": "text/html"})
    assert f'href="{BASE}/verify/{issued["credential_id"]}"' in page.text
    assert "reissued in the Open Badges 3.0 format" in page.text
    assert (await fetch(world, f"/v1/credentials/{old_id}")).text == old_jwt, "kept as signed"


async def test_a_kid_names_a_key_url_and_an_unknown_key_is_a_404(world: World) -> None:
    """Item 5: the `kid` dereferences to the JWK with no set-up; nothing else does."""
    issued = await credential_of(world, await approved_cmom_renewal(world))
    kid = part(issued["vc_jwt"], 0)["kid"]
    assert kid.startswith(f"{BASE}/v1/issuers/CMOM/keys/")
    assert (await dereferenced(world, kid)).thumbprint() == kid.rsplit("/", 1)[1]
    missing = await world.api.get("/v1/issuers/CMOM/keys/not-a-key", None)
    assert missing.status_code == 404
