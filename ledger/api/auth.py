"""Bearer tokens and who they stand for.

Four roles: `admin` (everything), `provider` (one provider_id), `manager` (one manager_id) and
`auditor` (one or more program codes).  No token or an unknown one is a 401; a valid token
outside its scope is a 403.  Tokens are 256-bit random strings shown once; the database keeps
their SHA-256 only (migrations/0005_api_tokens.sql).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Literal

import asyncpg
import msgspec
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from events.codec import Actor
from ledger.api.views import ProfileView

__all__ = [
    "Principal",
    "Role",
    "TokenStore",
    "forbid",
    "hash_token",
    "new_token",
]

Role = Literal["admin", "provider", "manager", "auditor"]
_PREFIX = "ceu_"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    token_id: uuid.UUID
    role: Role
    provider_id: str | None = None
    manager_id: str | None = None
    programs: tuple[str, ...] = ()

    @property
    def actor(self) -> Actor:
        subject = self.provider_id or self.manager_id or str(self.token_id)
        return Actor(role=self.role, id=subject)

    def is_admin(self) -> bool:
        return self.role == "admin"

    def audits(self, program: str) -> bool:
        return self.role == "auditor" and program in self.programs

    def is_provider(self, provider_id: str) -> bool:
        return self.role == "provider" and self.provider_id == provider_id

    def is_manager(self, manager_id: str) -> bool:
        return self.role == "manager" and self.manager_id == manager_id

    def may_read_manager(self, manager_id: str, certified_in: Collection[str] = ()) -> bool:
        """Whether this caller may read the manager's record and personal data (name, email):
        a manager itself; an admin; an auditor only of a manager certified (`certified_in`,
        the programs the manager holds) in one of the auditor's programs: an auditor sees the
        whole record of such a manager, whatever else the manager holds, since an audit of a
        renewal needs it."""
        if self.is_admin() or self.is_manager(manager_id):
            return True
        return self.role == "auditor" and any(p in self.programs for p in certified_in)

    def may_read_profile(self, profile: ProfileView) -> bool:
        return self.may_read_manager(profile.manager_id, profile.certifications)


def forbid(detail: str) -> PermissionDeniedException:
    return PermissionDeniedException(detail=detail)


def new_token() -> str:
    return _PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Created(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    token_id: uuid.UUID
    role: Role
    provider_id: str | None
    manager_id: str | None
    programs: tuple[str, ...]
    created_at: datetime


class TokenStore:
    """Tokens in PostgreSQL, with a short in-process cache of successful look-ups."""

    _TTL = 10.0

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._cache: dict[bytes, tuple[float, Principal]] = {}

    async def create(
        self,
        *,
        role: Role,
        created_by: str,
        provider_id: str | None = None,
        manager_id: str | None = None,
        programs: tuple[str, ...] = (),
        token: str | None = None,
    ) -> Created:
        token = token or new_token()
        token_id = uuid.uuid4()
        created_at = await self._pool.fetchval(
            "INSERT INTO api_tokens"
            " (token_hash, token_id, role, provider_id, manager_id, programs, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at",
            hash_token(token),
            token_id,
            role,
            provider_id,
            manager_id,
            list(programs),
            created_by,
        )
        return Created(
            token=token,
            token_id=token_id,
            role=role,
            provider_id=provider_id,
            manager_id=manager_id,
            programs=programs,
            created_at=created_at,
        )

    async def ensure_admin(self, token: str) -> None:
        """Make `token` a valid admin token (LEDGER_ADMIN_TOKEN at start); idempotent."""
        await self._pool.execute(
            "INSERT INTO api_tokens (token_hash, token_id, role, created_by)"
            " VALUES ($1, $2, 'admin', 'environment')"
            " ON CONFLICT (token_hash) DO UPDATE SET revoked_at = NULL",
            hash_token(token),
            uuid.uuid4(),
        )

    async def principal(self, authorization: str | None) -> Principal:
        """Who the Authorization header speaks for; NotAuthorizedException (401) if nobody."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException(detail="send Authorization: Bearer <token>")
        digest = hash_token(token.strip())
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        row = await self._pool.fetchrow(
            "SELECT token_id, role, provider_id, manager_id, programs FROM api_tokens"
            " WHERE token_hash = $1 AND revoked_at IS NULL",
            digest,
        )
        if row is None:
            raise NotAuthorizedException(detail="unknown or revoked token")
        principal = Principal(
            token_id=row["token_id"],
            role=row["role"],
            provider_id=row["provider_id"],
            manager_id=row["manager_id"],
            programs=tuple(row["programs"]),
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic() + self._TTL, principal)
        return principal
