"""The credentials' tables: the programs' signing keys, the credentials issued and the status
lists as last signed.

A program's key is made the first time it signs anything: an Ed25519 key from `joserfc`,
its private half kept as PKCS#8 PEM encrypted with the key-encryption key (kek.py), its
public half as a JWK whose RFC 7638 thumbprint is its `kid`.  Two processes making the first
key at once both INSERT ... ON CONFLICT DO NOTHING and then read back the one that won.

A credential is issued once per renewal: under a transaction-level advisory lock on the
program, the renewal's row is looked up, and if absent a free random slot of the program's
status list is drawn and the row inserted with its signed VC-JWT.  The lock makes the
"look, draw, insert" of two concurrent requests for the same program one after the other, so
the second finds the first's row (or another free slot) instead of a unique violation.  A
credential of format 1 (signed before issue 22) is kept, and a format-2 one is issued in its
place: the old row names the new one in `reissued_as`.

Signing is a compact JWS, `alg: EdDSA`: the JOSE name every OB 3.0 verifier knows (RFC 8037).
RFC 9864 deprecates it for the fully specified `Ed25519`, which joserfc prefers and warns
about; but openbadgeslib and PyJWT refuse `Ed25519` before they look at the signature, and
OB 3.0 names `EdDSA`, so it is signed as `EdDSA` (the same Ed25519 signature) through a
registry that knows the choice was made.

A status list is signed once per change: under an advisory lock on (program, purpose), the
bits just computed are compared with the stored list's, and the stored JWS is served as long
as they are the same and less than half its validity has passed; otherwise it is re-signed
and stored.  Every request between two changes gets the same bytes, so one ETag.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from joserfc import jws
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jwk import OKPKey

from ledger.credentials.badge import jwt_claims, key_url
from ledger.credentials.status_list import LIST_SIZE, VALIDITY

if TYPE_CHECKING:
    import asyncpg

    from events.connections import Conn
    from ledger.credentials.kek import KeyEncryption

__all__ = ["ALGORITHM", "FORMAT", "TYP", "Issued", "ProgramKey", "Registry", "SignedList"]

ALGORITHM = "EdDSA"
"""RFC 8037's name for EdDSA (here over Ed25519), the one OB 3.0 verifiers accept."""
TYP = "JWT"
"""OB 3.0 8.2.4.1: `typ`, if present, MUST be `JWT` (VC-JOSE-COSE's `vc+jwt` is a SHOULD)."""
FORMAT = 2
"""The format credentials are issued in now (migrations/0015_credentials_ob3.sql)."""


class _EdDSA(EdDSAAlgorithm):
    security_warning = ""  # none: chosen knowingly, see the module docstring


class _Signing(jws.JWSRegistry):
    algorithms = {**jws.JWSRegistry.algorithms, ALGORITHM: _EdDSA()}  # noqa: RUF012


_SIGNING = _Signing(algorithms=[ALGORITHM])


class ProgramKey(msgspec.Struct, frozen=True, kw_only=True):
    program: str
    kid: str
    public_jwk: dict[str, Any]
    private: Any  # joserfc OKPKey


class Issued(msgspec.Struct, frozen=True, kw_only=True):
    credential_id: uuid.UUID
    renewal_id: uuid.UUID
    program: str
    manager_id: str
    status_index: int
    holder_name: str
    approved_at: datetime
    valid_from: datetime
    valid_until: datetime
    vc_jwt: str
    issued_at: datetime
    format: int
    reissued_as: uuid.UUID | None


class SignedList(msgspec.Struct, frozen=True, kw_only=True):
    """A status list as last signed."""

    encoded_list: str
    vc_jwt: str
    valid_from: datetime
    valid_until: datetime


_COLUMNS = (
    "credential_id, renewal_id, program, manager_id, status_index, holder_name, approved_at, "
    "valid_from, valid_until, vc_jwt, issued_at, format, reissued_as"
)


_STORE_LIST = """
    INSERT INTO status_lists (program, purpose, encoded_list, vc_jwt, valid_from, valid_until)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (program, purpose) DO UPDATE SET encoded_list = EXCLUDED.encoded_list,
        vc_jwt = EXCLUDED.vc_jwt, valid_from = EXCLUDED.valid_from,
        valid_until = EXCLUDED.valid_until
    RETURNING encoded_list, vc_jwt, valid_from, valid_until
"""


def _issued(row: asyncpg.Record) -> Issued:
    return Issued(**dict(row.items()))


class Registry:
    def __init__(self, pool: asyncpg.Pool, kek: KeyEncryption) -> None:
        self.pool = pool
        self.kek = kek
        self._keys: dict[str, ProgramKey] = {}

    # -- keys --------------------------------------------------------------------------

    async def key(self, program: str) -> ProgramKey:
        """The program's signing key, made on first use."""
        if (known := self._keys.get(program)) is not None:
            return known
        async with self.pool.acquire() as conn:
            row = await self._key_row(conn, program)
            if row is None:
                await self._make_key(conn, program)
                row = await self._key_row(conn, program)
        assert row is not None
        private = OKPKey.import_key(self.kek.decrypt(row["private_key_enc"]))
        key = ProgramKey(
            program=program, kid=row["kid"], public_jwk=json.loads(row["public_jwk"]),
            private=private,
        )  # fmt: skip
        self._keys[program] = key
        return key

    @staticmethod
    async def _key_row(conn: Conn, program: str) -> asyncpg.Record | None:
        return await conn.fetchrow(
            "SELECT kid, public_jwk, private_key_enc FROM credential_keys WHERE program = $1",
            program,
        )

    async def _make_key(self, conn: Conn, program: str) -> None:
        made = OKPKey.generate_key("Ed25519")
        kid = made.thumbprint()
        public = made.as_dict(private=False) | {"kid": kid, "alg": ALGORITHM, "use": "sig"}
        await conn.execute(
            "INSERT INTO credential_keys (program, kid, public_jwk, private_key_enc)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (program) DO NOTHING",
            program, kid, json.dumps(public), self.kek.encrypt(made.as_pem(private=True)),
        )  # fmt: skip

    async def sign(self, program: str, document: dict[str, Any], base_url: str) -> str:
        """`document` as an OB 3.0 VC-JWT: a compact JWS whose payload is the credential with
        the registered JWT claims beside it, its `kid` the URL of the key's JWK."""
        key = await self.key(program)
        header = {"alg": ALGORITHM, "typ": TYP, "kid": key_url(base_url, program, key.kid)}
        claims = document | jwt_claims(document)
        payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
        return jws.serialize_compact(header, payload, key.private, registry=_SIGNING)

    # -- credentials -------------------------------------------------------------------

    async def find(self, credential_id: uuid.UUID) -> Issued | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM credentials WHERE credential_id = $1", credential_id
            )
        return None if row is None else _issued(row)

    async def of_program(self, program: str) -> list[Issued]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM credentials WHERE program = $1"
                " ORDER BY manager_id, status_index",
                program,
            )
        return [_issued(r) for r in rows]

    async def issue(
        self,
        renewal_id: uuid.UUID,
        program: str,
        make: Callable[[uuid.UUID, int], Any],
        base_url: str,
    ) -> Issued:
        """The renewal's credential: the one issued before in the current format, or a new
        one whose row `make` (credential id, status index) -> (row fields, unsigned document)
        describes, which replaces a format-1 one if there was one."""
        await self.key(program)  # the credentials row refers to it
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('credentials:' || $1, 0))",
                program,
            )
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM credentials WHERE renewal_id = $1 AND reissued_as IS NULL",
                renewal_id,
            )
            if row is not None and row["format"] == FORMAT:
                return _issued(row)
            credential_id, index = uuid.uuid4(), await _free_slot(conn, program)
            fields, document = make(credential_id, index)
            vc_jwt = await self.sign(program, document, base_url)
            if row is not None:  # format 1: replaced, kept as it was signed (the foreign
                # key is checked at commit, once the new row is there)
                await conn.execute(
                    "UPDATE credentials SET reissued_as = $2 WHERE credential_id = $1",
                    row["credential_id"], credential_id,
                )  # fmt: skip
            new = await conn.fetchrow(
                "INSERT INTO credentials (credential_id, renewal_id, program, manager_id,"
                " status_index, holder_name, approved_at, valid_from, valid_until, vc_jwt,"
                " format)"
                f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {_COLUMNS}",
                credential_id, renewal_id, program, fields["manager_id"], index,
                fields["holder_name"], fields["approved_at"], fields["valid_from"],
                fields["valid_until"], vc_jwt, FORMAT,
            )  # fmt: skip
        assert new is not None, "INSERT ... RETURNING returns the row it inserted"
        return _issued(new)

    # -- status lists ------------------------------------------------------------------

    async def status_list(
        self,
        program: str,
        purpose: str,
        encoded_list: str,
        now: datetime,
        make: Callable[[str, datetime], dict[str, Any]],
        base_url: str,
    ) -> SignedList:
        """The list of `encoded_list`'s bits as signed: the stored one if its bits are these
        and less than half its validity has passed, else `make(encoded_list, now)` signed
        now and stored."""
        await self.key(program)  # the status_lists row refers to it
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('status-list:' || $1, 0))",
                f"{program}/{purpose}",
            )
            row = await conn.fetchrow(
                "SELECT encoded_list, vc_jwt, valid_from, valid_until FROM status_lists"
                " WHERE program = $1 AND purpose = $2",
                program, purpose,
            )  # fmt: skip
            if (
                row is not None
                and row["encoded_list"] == encoded_list
                and now < row["valid_from"] + VALIDITY / 2
            ):
                return SignedList(**dict(row.items()))
            document = make(encoded_list, now)
            vc_jwt = await self.sign(program, document, base_url)
            row = await conn.fetchrow(
                _STORE_LIST,
                program, purpose, encoded_list, vc_jwt,
                datetime.fromisoformat(document["validFrom"]),
                datetime.fromisoformat(document["validUntil"]),
            )  # fmt: skip
        assert row is not None, "the upsert returns the row it stored"
        return SignedList(**dict(row.items()))


async def _free_slot(conn: Conn, program: str) -> int:
    """A random index not yet given in the program's list (the advisory lock is held)."""
    taken = await conn.fetchval("SELECT count(*) FROM credentials WHERE program = $1", program)
    if taken >= LIST_SIZE:
        raise RuntimeError(f"the {program} status list is full")
    while True:
        index = secrets.randbelow(LIST_SIZE)
        if not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM credentials WHERE program = $1 AND status_index = $2)",
            program, index,
        ):  # fmt: skip
            return index
