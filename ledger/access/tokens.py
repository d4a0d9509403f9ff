"""Bearer tokens and who they stand for.

Four roles: `admin` (everything), `provider` (one provider_id), `manager` (one manager_id) and
`auditor` (one or more program codes).  No token, or an unknown, revoked or expired one, is a
401; a valid token outside its scope is a 403.  Tokens are 256-bit random strings shown once;
the database keeps their SHA-256 only (migrations/0005_api_tokens.sql, 0006 for their life).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Literal

import asyncpg
import msgspec

from events.postgres.reads import COLUMNS
from events.store import RecordedEvent, utc_now
from ledger.access.errors import Unauthenticated
from ledger.access.principals import Principal, Role
from ledger.commands.streams import manager_stream, program_stream, provider_stream
from ledger.domain.errors import FieldError

__all__ = [
    "Created",
    "TokenEntry",
    "TokenStore",
    "hash_token",
    "new_token",
]

_PREFIX = "ceu_"


def new_token() -> str:
    return _PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A token as the admin's list shows it: who it stands for and its life, never the
    secret or its hash."""

    token_id: uuid.UUID
    role: Role
    provider_id: str | None
    manager_id: str | None
    programs: tuple[str, ...]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class Created(TokenEntry, frozen=True, kw_only=True):
    """A token just issued: its entry and, in this answer only, the token itself."""

    token: str


_ENTRY = (
    "token_id, role, provider_id, manager_id, programs, created_at, created_by,"
    " last_used_at, expires_at, revoked_at"
)
_LAST_USED_EVERY = timedelta(minutes=1)
_LIVE = "token_hash, token_id, role, provider_id, manager_id, programs, expires_at, last_used_at"
"""The columns a live token's principal is made of (`_principal_of`)."""
_TOKEN_COLUMNS = len(_LIVE.split(","))
_WITH_STREAM = (
    f"SELECT {', '.join('t.' + c.strip() for c in _LIVE.split(','))}, e.*"
    " FROM (SELECT) AS one"
    " LEFT JOIN api_tokens AS t ON t.token_hash = $1 AND t.revoked_at IS NULL"
    f" LEFT JOIN LATERAL (SELECT {COLUMNS} FROM events WHERE stream_id = $2 AND version > $3)"
    " AS e ON t.token_id IS NOT NULL"
    " ORDER BY e.version"
)
"""A token's row (NULLs if there is no live one) beside each event of a stream's tail: one
row at least, one per event if there are any (`principal_with_stream`)."""


def _bearer(authorization: str | None) -> str:
    """The token of `Authorization: Bearer <token>`; Unauthenticated if there is none."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <token>")
    return token.strip()


def _entry(row: asyncpg.Record) -> TokenEntry:
    return TokenEntry(**{**dict(row), "programs": tuple(row["programs"])})


class TokenStore:
    """Tokens in PostgreSQL, read on every request: a revocation takes effect at once in every
    API process because no process keeps a copy.

    Why no cache: a look-up is one primary-key SELECT (measured here at about 125 us, against
    about 1.1 ms for the cheapest whole request), and any in-process copy would go stale.  A
    copy emptied by LISTEN/NOTIFY was tried: the notification reaches another process a
    little after the revoking COMMIT, and a request served in between still passed.

    Time is the app's clock: expiry and last_used_at are judged by it, like everything else.
    """

    def __init__(self, pool: asyncpg.Pool, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._pool = pool
        self._clock = clock

    # -- issuing, listing, revoking ---------------------------------------------------------

    async def unknown_scope(
        self,
        *,
        provider_id: str | None = None,
        manager_id: str | None = None,
        programs: Sequence[str] = (),
        expires_at: datetime | None = None,
    ) -> list[FieldError]:
        """What is wrong with a scope, beyond its shape: a provider, manager or program that
        the ledger does not know (one query over their streams), or an expiry not in the
        future."""
        wanted: dict[str, tuple[str, str]] = {}  # stream: (field, what it names)
        if provider_id is not None:
            wanted[provider_stream(provider_id)] = ("provider_id", f"provider {provider_id}")
        if manager_id is not None:
            wanted[manager_stream(manager_id)] = ("manager_id", f"manager {manager_id}")
        for n, code in enumerate(programs):
            wanted[program_stream(code)] = (f"programs[{n}]", f"program {code}")
        rows = await self._pool.fetch(
            "SELECT DISTINCT stream_id FROM events WHERE stream_id = ANY($1::text[])",
            list(wanted),
        )
        known = {row["stream_id"] for row in rows}
        errors = [
            FieldError(field, f"the ledger has no {what}")
            for stream, (field, what) in wanted.items()
            if stream not in known
        ]
        if expires_at is not None and expires_at <= self._clock():
            errors.append(FieldError("expires_at", "must be in the future"))
        return errors

    async def create(
        self,
        *,
        role: Role,
        created_by: str,
        provider_id: str | None = None,
        manager_id: str | None = None,
        programs: tuple[str, ...] = (),
        expires_at: datetime | None = None,
        token: str | None = None,
    ) -> Created:
        token = token or new_token()
        row = await self._pool.fetchrow(
            "INSERT INTO api_tokens (token_hash, token_id, role, provider_id, manager_id,"
            " programs, created_at, created_by, expires_at)"
            f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_ENTRY}",
            hash_token(token),
            uuid.uuid4(),
            role,
            provider_id,
            manager_id,
            list(programs),
            self._clock(),
            created_by,
            expires_at,
        )
        assert row is not None, "INSERT ... RETURNING returns the row it inserted"
        return Created(token=token, **msgspec.structs.asdict(_entry(row)))

    async def entries(self) -> list[TokenEntry]:
        """Every token ever issued, oldest first."""
        rows = await self._pool.fetch(
            f"SELECT {_ENTRY} FROM api_tokens ORDER BY created_at, token_id"
        )
        return [_entry(row) for row in rows]

    async def revoke(self, token_id: uuid.UUID) -> TokenEntry | None:
        """Revoke a token (None if there is none of that id).  Revoking it again changes
        nothing: the entry keeps the first revoked_at."""
        row = await self._pool.fetchrow(
            "WITH revoked AS ("
            "  UPDATE api_tokens SET revoked_at = $2"
            "  WHERE token_id = $1 AND revoked_at IS NULL RETURNING *)"
            f" SELECT {_ENTRY} FROM revoked"
            f" UNION ALL SELECT {_ENTRY} FROM api_tokens"
            "  WHERE token_id = $1 AND revoked_at IS NOT NULL",
            token_id,
            self._clock(),
        )
        return None if row is None else _entry(row)

    async def ensure_admin(self, token: str) -> None:
        """Make `token` a valid admin token (LEDGER_ADMIN_TOKEN at start); idempotent."""
        await self._pool.execute(
            "INSERT INTO api_tokens (token_hash, token_id, role, created_at, created_by)"
            " VALUES ($1, $2, 'admin', $3, 'environment')"
            " ON CONFLICT (token_hash) DO UPDATE SET revoked_at = NULL, expires_at = NULL",
            hash_token(token),
            uuid.uuid4(),
            self._clock(),
        )

    # -- who is calling ---------------------------------------------------------------------

    async def principal(self, authorization: str | None) -> Principal:
        """Who the Authorization header speaks for; Unauthenticated if nobody."""
        principal = await self._live("token_hash", hash_token(_bearer(authorization)))
        if isinstance(principal, str):
            raise Unauthenticated(principal)
        return principal

    async def principal_of(self, token_id: uuid.UUID) -> Principal | None:
        """The principal of a live token by its id (a web session holds only the id), or None
        once it is revoked or expired."""
        principal = await self._live("token_id", token_id)
        return None if isinstance(principal, str) else principal

    async def principal_with_stream(
        self, authorization: str | None, stream_id: str, after_version: int
    ) -> tuple[Principal, list[RecordedEvent]]:
        """`principal`, and the events of `stream_id` after `after_version` in version order,
        in one statement: a request that reads one manager's record now (GET status) costs
        one round trip, not two (SPEC 10).  The token is checked exactly as `principal`
        checks it, on its row as of this statement; the stream is read only for a live
        token, and what it holds is the stream as `read_stream` would have read it then."""
        token = _bearer(authorization)
        now = self._clock()
        rows = await self._pool.fetch(_WITH_STREAM, hash_token(token), stream_id, after_version)
        live = rows[0] if rows[0]["token_id"] is not None else None
        principal = await self._principal_of(live, now)
        if isinstance(principal, str):
            raise Unauthenticated(principal)
        tail = [RecordedEvent(*tuple(row)[_TOKEN_COLUMNS:]) for row in rows]
        return principal, [] if rows[0]["hash"] is None else tail

    async def _live(self, key: Literal["token_hash", "token_id"], value: object) -> Principal | str:
        """The principal of the token whose `key` is `value`, or why there is none."""
        now = self._clock()
        row = await self._pool.fetchrow(
            f"SELECT {_LIVE} FROM api_tokens WHERE {key} = $1 AND revoked_at IS NULL", value
        )
        return await self._principal_of(row, now)

    async def _principal_of(self, row: asyncpg.Record | None, now: datetime) -> Principal | str:
        """The principal of a live token's row (`_LIVE`), or why there is none."""
        if row is None:
            return "unknown or revoked token"
        if row["expires_at"] is not None and row["expires_at"] <= now:
            return "this token has expired"
        if row["last_used_at"] is None or now - row["last_used_at"] >= _LAST_USED_EVERY:
            await self._used(row["token_hash"], now)
        return Principal(
            token_id=row["token_id"],
            role=row["role"],
            provider_id=row["provider_id"],
            manager_id=row["manager_id"],
            programs=tuple(row["programs"]),
        )

    async def _used(self, digest: bytes, now: datetime) -> None:
        """Note a use, at most once a minute per token: the condition makes a second process
        that read the same stale last_used_at write nothing."""
        await self._pool.execute(
            "UPDATE api_tokens SET last_used_at = $2"
            " WHERE token_hash = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
            digest,
            now,
            now - _LAST_USED_EVERY,
        )
