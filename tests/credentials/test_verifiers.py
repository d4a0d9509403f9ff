"""Issue 22: the credentials and status lists, checked by verifiers no one here wrote.

* openbadgeslib (the OB 3.0 verifier an Open Badges consumer reaches for): signature, the
  JWT claims, the OB 3.0 structure, and the status (each list's own signature too);
* 1EdTech's OB 3.0 JSON Schemas (tests/credentials/schema, README there): every payload;
* PyJWT, a third JOSE implementation (not joserfc, the signer; not jwcrypto): the JWS and
  its registered claims.

On the API tests' world (one CMOM credential, moved through its states), and on the demo
ledger (`seed_demo`): every credential it issues and every program's status lists.

Those verifiers read the wall clock; here they read the test's clock instead (`verifiers_at`),
so that moving the clock moves them too and no test depends on the day it runs.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import uuid
from collections.abc import AsyncIterator, Callable
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
from openbadgeslib.ob3 import IdentityObject, Issuer, OB3VerificationError, OB3Verifier
from openbadgeslib.ob3.status import check_credential_status, decode_encoded_list, set_indices

from events.postgres.connection import create_pool
from ledger.access.tokens import TokenStore
from ledger.cli import SYSTEM
from ledger.demo import demo_ledger, seed_demo
from tests.api.conftest import running_app
from tests.api.world import ADMIN_TOKEN, Api, World
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


REVOKED = "cy-revoked"
"""The demo's manager whose CMM certification a failed audit revoked after its approval."""


@pytest.fixture
async def demo(dsn: str, clock: SteppingClock) -> AsyncIterator[tuple[World, dict[str, str]]]:
    """The demo ledger (`seed_demo`, recorded before the app starts, as `serve --demo` and
    tests/web do), at the test's clock, served by the API tests' app.  The helpers above take
    a World for its client: its roles are filled with demo identities of the same role.  And
    every demo identity's token, by its id (PAHCOM and PMI: the auditors of CMM and CMOM)."""
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        identities = await seed_demo(demo_ledger(pool, clock), TokenStore(pool), SYSTEM)
    tokens = {subject: token for _, subject, token in identities}
    async with running_app(dsn, clock) as client:
        yield World(
            api=Api(client), admin=ADMIN_TOKEN, tma=tokens["tma"], mgma=tokens["pmi-online"],
            m1=tokens["ben-approved"], m2=tokens[REVOKED], cmm_auditor=tokens["PAHCOM"],
            cmom_auditor=tokens["PMI"],
        ), tokens  # fmt: skip


async def verdict(world: World, verifier: OB3Verifier, token: str) -> str | None:
    """openbadgeslib's whole check of a credential (signature, claims, structure, validity,
    recipient, and status on the list it names as served now, with that list's own
    signature): None if it verifies, else why it refuses."""
    try:
        verifier.verify(
            token, expected_recipient=part(token, 1)["credentialSubject"]["id"],
            check_status=True, verify_status_list=True, download=await status_lists(world, token),
        )  # fmt: skip
    except OB3VerificationError as refused:
        return str(refused)
    return None


def list_verdict(credential: Any, url: str, served: str, pem: bytes) -> str | None:
    """openbadgeslib's status check of `credential` on the list `served` at `url`: the list's
    signature under `pem`, its issuer the credential's, its window, its purpose, the bit."""
    try:
        check_credential_status(
            credential, {url: served.encode()}.__getitem__, verify_list=True, list_pubkey_pem=pem
        )
    except OB3VerificationError as refused:
        return str(refused)
    return None


async def test_every_credential_of_the_demo_passes_the_outside_verifiers(
    demo: tuple[World, dict[str, str]], verifiers_at: None
) -> None:
    """Must show, to the letter: openbadgeslib verifies every credential the demo issues
    (each approved renewal in each program's register, asked for by the program's auditor)
    and every program's status lists; 1EdTech's schemas validate every payload and issuer;
    PyJWT verifies every JWS.  The revoked manager's credential verifies as a signature, and
    openbadgeslib's status check reports it suspended; nothing else is refused."""
    world, tokens = demo
    api = world.api
    listed_programs = await api.ok(await api.get("/v1/programs", world.admin), 200)
    auditors = {p["code"]: tokens[p["association"]] for p in listed_programs}  # PAHCOM, PMI
    programs = list(auditors)
    issuers = {code: f"{BASE}/v1/issuers/{code}" for code in programs}
    checked: list[str] = []
    credentials: list[Any] = []
    set_bits: dict[str, set[int]] = {code: set() for code in programs}
    for code in programs:
        issuer_id, auditor = issuers[code], auditors[code]
        issuer = (await fetch(world, f"/v1/issuers/{code}")).json()
        assert list(PROFILE.iter_errors(issuer)) == [], code
        register = f"/v1/programs/{code}/renewals"
        for row in await api.ok(await api.get(register, auditor, state="approved"), 200):
            manager = row["manager_id"]
            issued = await credential_of(world, row["renewal_id"], auditor)
            token = issued["vc_jwt"]
            assert (await fetch(world, issued["credential_url"])).text == token
            header, payload = part(token, 0), part(token, 1)
            assert header == {"alg": "EdDSA", "typ": "JWT", "kid": header["kid"]}, manager
            assert list(ACHIEVEMENT_CREDENTIAL.iter_errors(payload)) == [], manager

            key = jwt.PyJWK(json.loads((await dereferenced(world, header["kid"])).export()))
            claims = jwt.decode(
                token, key, algorithms=["EdDSA"], issuer=issuer_id,
                options={"require": ["iss", "jti", "sub", "nbf", "exp"]},
            )  # fmt: skip
            assert claims["jti"] == payload["id"]
            assert claims["sub"] == payload["credentialSubject"]["id"]
            assert claims["nbf"] == int(datetime.fromisoformat(payload["validFrom"]).timestamp())
            assert claims["exp"] == int(datetime.fromisoformat(payload["validUntil"]).timestamp())

            verifier = OB3Verifier(await key_pem(world, token))
            credential = verifier.verify(token)  # signature, claims, structure, validity
            assert (credential.id, credential.issuer.id) == (payload["id"], issuer_id)
            status = payload["credentialStatus"]
            expected = None
            if manager == REVOKED:
                expected = (
                    f"Credential status 'suspension' is set at index "
                    f"{status['statusListIndex']} in {status['statusListCredential']}"
                )
                set_bits[code].add(int(status["statusListIndex"]))
            assert await verdict(world, verifier, token) == expected, manager
            checked.append(manager)
            credentials.append(credential)
    assert REVOKED in checked, checked
    assert len(checked) > 1, checked  # and at least one that verifies with its status

    # Every program's two lists, whether or not a credential of the demo names them: PyJWT,
    # openbadgeslib's reading of the bits set, and its status check of a credential of the
    # program naming each bit set and one clear (the demo's first credential, re-pointed).
    for code in programs:
        for purpose in ("revocation", "suspension"):
            url = f"{BASE}/v1/status-lists/{code}/{purpose}"
            served = (await fetch(world, url)).text
            assert part(served, 0)["kid"].startswith(f"{issuers[code]}/keys/"), url
            pem = await key_pem(world, served)  # the issuer's key, as its kid names it
            listed = jwt.decode(
                served, pem, algorithms=["EdDSA"], issuer=issuers[code],
                options={"require": ["iss", "nbf", "exp"]},
            )  # fmt: skip
            bits = set_indices(decode_encoded_list(listed["credentialSubject"]["encodedList"]))
            assert bits == set_bits[code], (url, sorted(bits))
            for index in sorted({*bits, max(bits, default=0) + 1}):
                entry = {
                    "type": "BitstringStatusListEntry", "statusPurpose": purpose,
                    "statusListIndex": str(index), "statusListCredential": url,
                }  # fmt: skip
                named = dataclasses.replace(
                    credentials[0], issuer=Issuer(id=issuers[code], name=code),
                    credential_status=[entry],
                )  # fmt: skip
                refused = f"Credential status '{purpose}' is set at index {index} in {url}"
                expected = refused if index in bits else None
                assert list_verdict(named, url, served, pem) == expected
