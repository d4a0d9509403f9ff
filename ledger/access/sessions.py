"""The web pages' sessions, on the server."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg

from events.store import utc_now
from ledger.access.tokens import hash_token

__all__ = ["SESSION_LIFETIME", "WebSessions"]

SESSION_LIFETIME = timedelta(hours=8)


class WebSessions:
    """The web pages' sessions, on the server (migrations/0013_web_sessions.sql).

    The cookie holds a random session id; the table keeps its SHA-256 with the token it signs
    in and a fixed end (`SESSION_LIFETIME` after sign-in, never extended).  Ending a session
    deletes its row, so the saved cookie opens nothing afterwards in any API process: a
    cookie, however it was kept or re-issued, is only a pointer to a row.
    """

    def __init__(self, pool: asyncpg.Pool, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._pool = pool
        self._clock = clock

    async def start(self, token_id: uuid.UUID) -> str:
        """A new session of `token_id`: its id, for the cookie.  Ended sessions' rows past
        their end are cleared on the way."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM web_sessions WHERE expires_at <= $1", now)
            await conn.execute(
                "INSERT INTO web_sessions (session_hash, token_id, created_at, expires_at)"
                " VALUES ($1, $2, $3, $4)",
                hash_token(session_id),
                token_id,
                now,
                now + SESSION_LIFETIME,
            )
        return session_id

    async def token_of(self, session_id: str) -> uuid.UUID | None:
        """The token a live session signs in with, or None (ended, expired, never was)."""
        token_id: uuid.UUID | None = await self._pool.fetchval(
            "SELECT token_id FROM web_sessions WHERE session_hash = $1 AND expires_at > $2",
            hash_token(session_id),
            self._clock(),
        )
        return token_id

    async def end(self, session_id: str) -> None:
        await self._pool.execute(
            "DELETE FROM web_sessions WHERE session_hash = $1", hash_token(session_id)
        )
