"""The credentials' tables: the programs' signing keys and the credentials issued.

A program's key is made the first time it signs anything: an Ed25519 key from `joserfc`,
its private half kept as PKCS#8 PEM encrypted with the key-encryption key (kek.py), its
public half as a JWK whose RFC 7638 thumbprint is its `kid`.  Two processes making the first
key at once both INSERT ... ON CONFLICT DO NOTHING and then read back the one that won.

A credential is issued once per renewal: under a transaction-level advisory lock on the
program, the renewal's row is looked up, and if absent a free random slot of the program's
status list is drawn and the row inserted with its signed VC-JWT.  The lock makes the
"look, draw, insert" of two concurrent requests for the same program one after the other, so
the second finds the first's row (or another free slot) instead of a unique violation.
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
from joserfc.jwk import OKPKey

from ledger.credentials.status_list import LIST_SIZE

if TYPE_CHECKING:
    import asyncpg

    from ledger.credentials.kek import KeyEncryption

__all__ = ["ALGORITHM", "Issued", "ProgramKey", "Registry"]

ALGORITHM = "Ed25519"
"""RFC 9864's fully specified name for EdDSA over Ed25519 (`EdDSA` is deprecated by it)."""


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


_COLUMNS = (
    "credential_id, renewal_id, program, manager_id, status_index, holder_name, approved_at, "
    "valid_from, valid_until, vc_jwt, issued_at"
)


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
    async def _key_row(conn: asyncpg.Connection, program: str) -> asyncpg.Record | None:
        return await conn.fetchrow(
            "SELECT kid, public_jwk, private_key_enc FROM credential_keys WHERE program = $1",
            program,
        )

    async def _make_key(self, conn: asyncpg.Connection, program: str) -> None:
        made = OKPKey.generate_key("Ed25519")
        kid = made.thumbprint()
        public = made.as_dict(private=False) | {"kid": kid, "alg": ALGORITHM, "use": "sig"}
        await conn.execute(
            "INSERT INTO credential_keys (program, kid, public_jwk, private_key_enc)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (program) DO NOTHING",
            program, kid, json.dumps(public), self.kek.encrypt(made.as_pem(private=True)),
        )  # fmt: skip

    async def sign(self, program: str, document: dict[str, Any]) -> str:
        """`document` as a compact JWS: VC-JOSE-COSE's `application/vc+jwt`."""
        key = await self.key(program)
        header = {"alg": ALGORITHM, "typ": "vc+jwt", "cty": "vc", "kid": key.kid}
        payload = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        return jws.serialize_compact(header, payload, key.private, algorithms=[ALGORITHM])

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
    ) -> Issued:
        """The renewal's credential: the one issued before, or a new one whose row `make`
        (credential id, status index) -> (row fields, unsigned document) describes."""
        await self.key(program)  # the credentials row refers to it
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('credentials:' || $1, 0))",
                program,
            )
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM credentials WHERE renewal_id = $1", renewal_id
            )
            if row is not None:
                return _issued(row)
            credential_id, index = uuid.uuid4(), await _free_slot(conn, program)
            fields, document = make(credential_id, index)
            vc_jwt = await self.sign(program, document)
            row = await conn.fetchrow(
                "INSERT INTO credentials (credential_id, renewal_id, program, manager_id,"
                " status_index, holder_name, approved_at, valid_from, valid_until, vc_jwt)"
                f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {_COLUMNS}",
                credential_id, renewal_id, program, fields["manager_id"], index,
                fields["holder_name"], fields["approved_at"], fields["valid_from"],
                fields["valid_until"], vc_jwt,
            )  # fmt: skip
        return _issued(row)


async def _free_slot(conn: asyncpg.Connection, program: str) -> int:
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
