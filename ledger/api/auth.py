"""Bearer tokens and who they stand for.

Four roles: `admin` (everything), `provider` (one provider_id), `manager` (one manager_id) and
`auditor` (one or more program codes).  No token, or an unknown, revoked or expired one, is a
401; a valid token outside its scope is a 403.  Tokens are 256-bit random strings shown once;
the database keeps their SHA-256 only (migrations/0005_api_tokens.sql, 0006 for their life).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Literal

import asyncpg
import msgspec
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from events.codec import Actor
from events.postgres import connect
from events.store import utc_now
from ledger.commands.streams import manager_stream, program_stream, provider_stream
from ledger.domain.errors import FieldError

__all__ = [
    "CHANNEL",
    "LISTENER_NAME",
    "Created",
    "Principal",
    "Role",
    "TokenEntry",
    "TokenStore",
    "forbid",
    "hash_token",
    "new_token",
]

_log = logging.getLogger(__name__)
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

    def may_read_manager(self, manager_id: str) -> bool:
        """Managers read themselves; auditors and admins read anyone (auditors need a
        manager's whole record to audit a renewal, whatever programs the manager holds)."""
        return self.is_admin() or self.role == "auditor" or self.is_manager(manager_id)


def forbid(detail: str) -> PermissionDeniedException:
    return PermissionDeniedException(detail=detail)


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


class _Known(msgspec.Struct, kw_only=True):
    """A cached look-up: who the token stands for, until when, and when its use was last
    written."""

    principal: Principal
    expires_at: datetime | None
    last_used_at: datetime | None


_ENTRY = (
    "token_id, role, provider_id, manager_id, programs, created_at, created_by,"
    " last_used_at, expires_at, revoked_at"
)
_LAST_USED_EVERY = timedelta(minutes=1)
CHANNEL = "ledger_tokens"
"""Where migrations/0006_token_lifecycle.sql announces a revoked or changed token."""
LISTENER_NAME = "ceu-ledger tokens"
"""The application_name of each process's LISTEN connection (seen in pg_stat_activity)."""


def _entry(row: asyncpg.Record) -> TokenEntry:
    return TokenEntry(**{**dict(row), "programs": tuple(row["programs"])})


class TokenStore:
    """Tokens in PostgreSQL, with an in-process cache of look-ups that a revocation empties at
    once in every process.

    Why a cache: a look-up is a primary-key SELECT (about 125 us here), as much as the whole
    query of the cheapest read, and SPEC 10 measures GET status against an endpoint of one
    such SELECT.  Why it is safe: a trigger on api_tokens NOTIFYs `ledger_tokens` when a token
    is revoked or changed (at COMMIT), and each process LISTENs on a connection of its own
    (`listening`) and drops its whole cache on each notification.  A notification can only be
    missed while that connection is down, so the cache is trusted only while it is up: before
    it is (re)established, and whenever it is lost, every request reads the table.  A store
    that is not listening (the CLI, the demo seed) never caches.

    Time is the app's clock: expiry and last_used_at are judged by it, like everything else.
    """

    _MAX_CACHED = 10_000

    def __init__(self, pool: asyncpg.Pool, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._pool = pool
        self._clock = clock
        self._cache: dict[bytes, _Known] = {}
        self._generation = 0
        """Bumped whenever the cache is emptied, so a look-up that raced a notification is
        not cached."""
        self._listening = False

    @property
    def hears_revocations(self) -> bool:
        """Whether revocations reach this process now (and so whether the cache is used)."""
        return self._listening

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
        """Who the Authorization header speaks for; NotAuthorizedException (401) if nobody."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException(detail="send Authorization: Bearer <token>")
        digest = hash_token(token.strip())
        now = self._clock()
        known = self._cache.get(digest) if self._listening else None
        if known is None:
            known = await self._look_up(digest)
        if known.expires_at is not None and known.expires_at <= now:
            raise NotAuthorizedException(detail="this token has expired")
        if known.last_used_at is None or now - known.last_used_at >= _LAST_USED_EVERY:
            await self._pool.execute(
                "UPDATE api_tokens SET last_used_at = $2"
                " WHERE token_hash = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
                digest,
                now,
                now - _LAST_USED_EVERY,
            )
            known.last_used_at = now
        return known.principal

    async def _look_up(self, digest: bytes) -> _Known:
        # A notification may arrive while the row is read (the row may be older than the
        # revocation it announces): then the generation moved, and the row is not cached.
        generation = self._generation
        row = await self._pool.fetchrow(
            "SELECT token_id, role, provider_id, manager_id, programs, expires_at, last_used_at"
            " FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            digest,
        )
        if row is None:
            raise NotAuthorizedException(detail="unknown or revoked token")
        known = _Known(
            principal=Principal(
                token_id=row["token_id"],
                role=row["role"],
                provider_id=row["provider_id"],
                manager_id=row["manager_id"],
                programs=tuple(row["programs"]),
            ),
            expires_at=row["expires_at"],
            last_used_at=row["last_used_at"],
        )
        if self._listening and generation == self._generation:
            if len(self._cache) >= self._MAX_CACHED:
                self._cache.clear()
            self._cache[digest] = known
        return known

    # -- hearing about revocations ----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def listening(self, dsn: str, *, retry: float = 1.0) -> AsyncIterator[None]:
        """LISTEN for revocations while the app runs (the app's lifespan); the connection is
        re-established after any loss, and the cache is unused until it is."""
        stop = asyncio.Event()
        task = asyncio.create_task(self._listen(dsn, stop, retry), name="tokens:listen")
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
            self._listening = False

    async def _listen(self, dsn: str, stop: asyncio.Event, retry: float) -> None:
        while not stop.is_set():
            try:
                await self._listen_once(dsn, stop, retry)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                _log.warning("token listener: %r; reconnecting", exc)
            self._forget()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), retry)

    async def _listen_once(self, dsn: str, stop: asyncio.Event, retry: float) -> None:
        """One connection's life: listen, then check every `retry` seconds that it is still
        there (a connection can die without saying so), until it is lost or `stop`."""
        lost = asyncio.Event()
        conn = await connect(dsn, server_settings={"application_name": LISTENER_NAME})
        try:
            conn.add_termination_listener(lambda _: lost.set())
            await conn.add_listener(CHANNEL, lambda *_: self._forget())
            self._forget()  # what was cached while nobody listened may be stale
            self._listening = True
            while not (stop.is_set() or lost.is_set() or conn.is_closed()):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, lost), retry)
                if not (stop.is_set() or lost.is_set()):
                    await conn.execute("SELECT 1", timeout=retry)
        finally:
            self._listening = False
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.close(timeout=retry))

    def _forget(self) -> None:
        self._generation += 1
        self._cache.clear()


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
