"""The sender: delivers the outbox's notices by SMTP (aiosmtplib), each once, with retries.

Claiming.  A sender takes due rows in one statement: `SELECT ... FOR UPDATE SKIP LOCKED` picks
pending rows whose next attempt is due and whose lease (if any) has ended, and the same
statement's UPDATE writes `claimed_by` and `claimed_until = now + lease` and counts the
attempt, then commits.  SKIP LOCKED makes concurrent claims disjoint: a row another sender is
claiming at that moment is skipped, not waited for; and a row it has just claimed and
committed is re-checked by PostgreSQL (READ COMMITTED re-evaluates the WHERE on the newest
row version of a row it locks), so its fresh lease excludes it.  Between claim and mark no
transaction is open and no row lock is held: the lease alone keeps other senders away while
this one talks to the SMTP server, which may take seconds.  Every SMTP exchange is bounded by
`send_timeout`, so that a whole batch's SMTP work takes at most half the lease: a live sender
does not outlast its own lease.

Exactly once, and its one window.  SMTP is outside the database, so no transaction can cover
both "the server accepted the message" and "the row says sent".  The sender marks a row sent
right after the server's 250 to the message's DATA, in its own short transaction.  If the
process dies, or loses the database, after that 250 and before that COMMIT, the row is still
pending under an expired lease, and the next sender (this one restarted, or another) sends it
again.  So delivery is at least once, and a duplicate can happen only in that window (a few
milliseconds per message, widened only by a database outage at that very moment); it carries
the same `Message-ID` (`<notice_id@ceu-ledger>`, the notice id being a name-based UUID of its
key), so a mail store or client that deduplicates by Message-ID shows it once.  A death at
any other moment loses nothing and duplicates nothing: before the 250 the message was not
accepted (the next attempt is the first delivery), after the COMMIT it is marked sent.

Retries.  A failed attempt (connection refused, timeout, a 4xx answer) puts the row back with
`next_attempt_at = now + backoff`, 30 s doubled per attempt and capped at one hour; a 5xx
answer to the recipient or the message is final (`failed`) at once, as is the last of
`max_attempts`.  Rows whose manager is not yet in the `ceu` read model (which gives the
address) wait for it.

One notice's fault is its own.  A notice whose message cannot even be built (a name or an
address with a line break, written before SPEC 6 refused them) is marked `failed` at once,
inside the same handling as a refused one; the rest of its batch is sent as usual.  Before,
the error escaped the batch and left every notice claimed with it pending, claimed again and
again behind the same bad one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

import aiosmtplib
import msgspec

from events.backoff import NOTICE_RETRY, SENDER_RECONNECT
from events.postgres.connection import connect
from events.store import utc_now
from events.supervise import Supervisor, sleep_unless
from events.timeouts import CONNECT_TIMEOUT, WORKER_STATEMENT_TIMEOUT

if TYPE_CHECKING:
    import asyncpg

    from ledger.settings import Settings

__all__ = ["Claimed", "Mailer", "ProviderClaimed", "Smtp", "backoff", "compose", "compose_provider"]

N = TypeVar("N")
"""A claimed notice (of the managers' outbox or the providers')."""

_log = logging.getLogger(__name__)


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: 30, 60, 120, ... at most 3600
    (events/backoff.py `NOTICE_RETRY`)."""
    return NOTICE_RETRY.delay(max(attempts, 1))


class Smtp(msgspec.Struct, frozen=True, kw_only=True):
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    sender: str
    public_url: str | None = None
    """LEDGER_PUBLIC_URL: the base of the link in every notice (a path alone if unset)."""

    @classmethod
    def of(cls, settings: Settings) -> Smtp | None:
        """The server from the settings, or None when LEDGER_SMTP_HOST is unset."""
        if settings.smtp_host is None:
            return None
        password = None if settings.smtp_password is None else str(settings.smtp_password)
        return cls(
            host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user,
            password=password, sender=settings.smtp_from, public_url=settings.public_url,
        )  # fmt: skip


class Claimed(msgspec.Struct, frozen=True, kw_only=True):
    """A notice this sender holds the lease of, with the address it goes to."""

    notice_id: UUID
    manager_id: str
    program: str
    cycle: int
    kind: str
    due_on: date
    deadline: date | None
    grace_ends_on: date | None
    reason: str
    attempts: int
    name: str
    email: str

    @property
    def message_id(self) -> str:
        return f"<{self.notice_id}@ceu-ledger>"


_SUBJECTS = {
    "deadline_90": "Your {program} renewal is due in 90 days ({deadline})",
    "deadline_45": "Your {program} renewal is due in 45 days ({deadline})",
    "deadline_15": "Your {program} renewal is due in 15 days ({deadline})",
    "deadline_1": "Your {program} renewal is due tomorrow ({deadline})",
    "grace_started": "Your {program} deadline has passed: grace period until {grace_ends_on}",
    "lapsed": "Your {program} certification has lapsed",
    "renewal_approved": "Your {program} renewal is approved",
    "renewal_denied": "Your {program} renewal was denied",
    "audit_selected": "Your {program} renewal was selected for audit",
    "claim_overdue": "Your claim for {reason} is still unanswered",
}
_BODIES = {
    "deadline_90": "Your {program} cycle {cycle} ends on {deadline}.",
    "deadline_45": "Your {program} cycle {cycle} ends on {deadline}.",
    "deadline_15": "Your {program} cycle {cycle} ends on {deadline}.",
    "deadline_1": "Your {program} cycle {cycle} ends on {deadline}.",
    "grace_started": "The deadline of your {program} cycle {cycle} was {deadline}. You can"
    " still renew until {grace_ends_on}; after that the certification lapses.",
    "lapsed": "Your {program} cycle {cycle} was not renewed by {grace_ends_on}.",
    "renewal_approved": "The association approved your {program} renewal for cycle {cycle}.",
    "renewal_denied": "The association denied your {program} renewal for cycle {cycle}: {reason}",
    "audit_selected": "Your {program} renewal for cycle {cycle} was drawn in a random audit."
    " The association will ask you for evidence of the completions it counted.",
    "claim_overdue": "You claimed that you attended {reason}. Its provider has neither posted"
    " it nor disputed it, and the claim is overdue since {due_on}; the association has been"
    " told.",
}


def compose(
    notice: Claimed, sender: str, at: datetime, public_url: str | None = None
) -> EmailMessage:
    """The message of a notice; the same Message-ID on every attempt.  ValueError if a
    header cannot hold it (a line break in the name or address)."""
    fields = msgspec.structs.asdict(notice)
    return _message(
        sender, (notice.name, notice.email), _SUBJECTS[notice.kind].format(**fields),
        notice.message_id, at, f"{notice.kind} {notice.program} cycle {notice.cycle}",
        f"Dear {notice.name},\n\n{_BODIES[notice.kind].format(**fields)}\n\n"
        f"See where you stand: {public_url or ''}/managers/{notice.manager_id}\n",
    )  # fmt: skip


def _message(
    sender: str, to: tuple[str, str], subject: str, message_id: str, at: datetime, tag: str,
    body: str,
) -> EmailMessage:  # fmt: skip
    """One notice's mail: `tag` its X-CEU-Notice header; ValueError if a header cannot hold
    a value (a line break in a name or an address)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr(to)
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(at)
    message["X-CEU-Notice"] = tag
    message.set_content(body)
    return message


_CLAIM = """
WITH due AS (
    SELECT notice_id FROM notice_outbox
    WHERE status = 'pending' AND next_attempt_at <= $2
      AND (claimed_until IS NULL OR claimed_until <= $2)
    ORDER BY next_attempt_at, notice_id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE notice_outbox o
SET claimed_by = $1, claimed_until = $4, attempts = o.attempts + 1
FROM due, ceu_manager_index m
WHERE o.notice_id = due.notice_id AND m.manager_id = o.manager_id
RETURNING o.notice_id, o.manager_id, o.program, o.cycle, o.kind, o.due_on, o.deadline,
    o.grace_ends_on, o.reason, o.attempts, m.name, m.email
"""

_SENT = """
UPDATE notice_outbox
SET status = 'sent', sent_at = $2, recipient = $3, claimed_by = NULL, claimed_until = NULL,
    last_error = NULL
WHERE notice_id = $1 AND status = 'pending'
"""

_FAILED = """
UPDATE notice_outbox
SET status = CASE WHEN $5 OR attempts >= $6 THEN 'failed' ELSE 'pending' END,
    next_attempt_at = $3, last_error = $4, claimed_by = NULL, claimed_until = NULL
WHERE notice_id = $1 AND claimed_by = $2 AND status = 'pending'
"""


def _final(exc: Exception) -> bool:
    """An answer that another try will not change: a 5xx to the recipient or the message."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(e.code >= 500 for e in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500


class Mailer:
    def __init__(
        self,
        dsn: str,
        smtp: Smtp,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        lease: float = 300.0,
        batch_size: int = 10,
        poll_interval: float = 5.0,
        max_attempts: int = 12,
    ) -> None:
        self.dsn, self.smtp, self.clock = dsn, smtp, clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.lease = lease
        self.send_timeout = lease / (2 * (batch_size + 1))
        """Seconds one SMTP exchange may take, so that a batch's (connect, log in, one
        message each) takes at most half the lease."""
        self.batch_size, self.poll_interval, self.max_attempts = (
            batch_size,
            poll_interval,
            max_attempts,
        )
        self.sent = 0
        self.supervisor = Supervisor(f"notice sender {self.name}", SENDER_RECONNECT, logger=_log)

    async def claim(self, conn: asyncpg.Connection) -> list[Claimed]:
        now = self.clock()
        rows = await conn.fetch(
            _CLAIM, self.name, now, self.batch_size, now + timedelta(seconds=self.lease),
            timeout=WORKER_STATEMENT_TIMEOUT,
        )  # fmt: skip
        return [Claimed(**dict(row)) for row in rows]

    async def send_due(self, conn: asyncpg.Connection) -> int:
        """One round: claim a batch, deliver it over one SMTP session, mark each notice.
        How many were sent."""

        async def sent(notice: Claimed) -> None:
            await conn.execute(
                _SENT, notice.notice_id, self.clock(), notice.email,
                timeout=WORKER_STATEMENT_TIMEOUT,
            )  # fmt: skip

        async def failed(notice: Claimed, exc: Exception, final: bool) -> None:
            await self._failed(conn, notice, exc, final=final)

        return await self.deliver(
            await self.claim(conn),
            lambda n: compose(n, self.smtp.sender, self.clock(), self.smtp.public_url),
            sent,
            failed,
        )

    async def deliver(
        self,
        claimed: Sequence[N],
        compose: Callable[[N], EmailMessage],
        sent: Callable[[N], Awaitable[None]],
        failed: Callable[[N, Exception, bool], Awaitable[None]],
    ) -> int:
        """Deliver claimed notices over one SMTP session: each `compose`d, sent and marked
        `sent`, or marked `failed` (final when its message will never build); how many were
        sent.  The managers' and the providers' outboxes both go this way."""
        if not claimed:
            return 0
        try:
            async with asyncio.timeout(self.send_timeout):
                client = aiosmtplib.SMTP(
                    hostname=self.smtp.host, port=self.smtp.port, timeout=self.send_timeout
                )
                await client.connect()
                if self.smtp.user is not None:
                    await client.login(self.smtp.user, self.smtp.password or "")
        except Exception as exc:
            for notice in claimed:
                await failed(notice, exc, False)
            return 0
        count = 0
        try:
            for notice in claimed:
                count += await self._deliver_one(client, notice, compose, sent, failed)
        finally:
            with contextlib.suppress(Exception):
                await client.quit()
        return count

    async def _deliver_one(
        self,
        client: aiosmtplib.SMTP,
        notice: N,
        compose: Callable[[N], EmailMessage],
        sent: Callable[[N], Awaitable[None]],
        failed: Callable[[N, Exception, bool], Awaitable[None]],
    ) -> int:
        try:
            message = compose(notice)
        except Exception as exc:  # it will never build: failed now, the others go on
            await failed(notice, exc, True)
            return 0
        try:
            async with asyncio.timeout(self.send_timeout):
                await client.send_message(message)
        except Exception as exc:
            await failed(notice, exc, False)
            return 0
        # The window: accepted by the server, not yet marked (see the module's docstring).
        await sent(notice)
        self.sent += 1
        return 1

    async def _failed(
        self, conn: asyncpg.Connection, notice: Claimed, exc: Exception, *, final: bool = False
    ) -> None:
        retry_at, error, final = self.failure(notice.attempts, exc, final)
        _log.warning("notice %s to %s: %s", notice.notice_id, notice.manager_id, error)
        await conn.execute(
            _FAILED, notice.notice_id, self.name, retry_at, error, final, self.max_attempts,
            timeout=WORKER_STATEMENT_TIMEOUT,
        )  # fmt: skip

    def failure(self, attempts: int, exc: Exception, final: bool) -> tuple[datetime, str, bool]:
        """A failed delivery: when to try again, the error as kept, and whether it is final."""
        retry_at = self.clock() + timedelta(seconds=backoff(attempts))
        return retry_at, f"{type(exc).__name__}: {exc}"[:500], final or _final(exc)

    async def send_due_providers(self, conn: asyncpg.Connection) -> int:
        """One round of the providers' notices (their approvals lapsing): how many were sent."""
        return await send_due_providers(self, conn)

    async def run(self, stop: asyncio.Event) -> None:
        """Send what is due every `poll_interval` seconds until `stop`; any error (the
        database gone, a bug) is logged and retried with a capped pause (events/supervise.py)."""
        await self.supervisor.run(lambda: self._serve(stop), stop)

    async def _serve(self, stop: asyncio.Event) -> None:
        conn = await connect(
            self.dsn, timeout=CONNECT_TIMEOUT, command_timeout=WORKER_STATEMENT_TIMEOUT
        )
        try:
            while not stop.is_set():
                while await self.send_due(conn) or await self.send_due_providers(conn):
                    pass
                self.supervisor.working()
                await sleep_unless(stop, self.poll_interval)
        finally:
            conn.terminate()


# -- notices to providers (SPEC 12: their approvals lapsing; migration 0021) -------------------
# The same claiming, lease, retries and Message-ID as the managers' notices, over the table
# provider_notices; the address is the one the notice was queued with.


class ProviderClaimed(msgspec.Struct, frozen=True, kw_only=True):
    notice_id: UUID
    provider_id: str
    program: str
    kind: str
    approval_number: str
    valid_until: date
    attempts: int
    email: str
    name: str

    @property
    def message_id(self) -> str:
        return f"<{self.notice_id}@ceu-ledger>"


_PROVIDER_SUBJECTS = {
    "approval_lapses_120": "Your {program} approval {approval_number} lapses in 120 days",
    "approval_lapses_30": "Your {program} approval {approval_number} lapses in 30 days",
}


def compose_provider(
    notice: ProviderClaimed, sender: str, at: datetime, public_url: str | None = None
) -> EmailMessage:
    """The message of a provider's notice; ValueError if a header cannot hold it."""
    fields = msgspec.structs.asdict(notice)
    return _message(
        sender, (notice.name, notice.email), _PROVIDER_SUBJECTS[notice.kind].format(**fields),
        notice.message_id, at, f"{notice.kind} {notice.program} {notice.provider_id}",
        f"Dear {notice.name},\n\nYour approval {notice.approval_number} for {notice.program}"
        f" lapses on {notice.valid_until:%d %B %Y}. Apply again to renew it:"
        f" {public_url or ''}/providers/{notice.provider_id}#approvals\n",
    )  # fmt: skip


_CLAIM_PROVIDERS = """
WITH due AS (
    SELECT notice_id FROM provider_notices
    WHERE status = 'pending' AND next_attempt_at <= $2
      AND (claimed_until IS NULL OR claimed_until <= $2)
    ORDER BY next_attempt_at, notice_id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE provider_notices o
SET claimed_by = $1, claimed_until = $4, attempts = o.attempts + 1
FROM due
WHERE o.notice_id = due.notice_id
RETURNING o.notice_id, o.provider_id, o.program, o.kind, o.approval_number, o.valid_until,
    o.attempts, o.email
"""

_PROVIDER_NAMES = """
SELECT DISTINCT ON (stream_id) data->>'provider_id', data->>'name' FROM events
WHERE type = 'provider_registered' AND data->>'provider_id' = ANY($1::text[])
ORDER BY stream_id, position
"""

_PROVIDER_SENT = """
UPDATE provider_notices
SET status = 'sent', sent_at = $2, claimed_by = NULL, claimed_until = NULL, last_error = NULL
WHERE notice_id = $1 AND status = 'pending'
"""

_PROVIDER_FAILED = """
UPDATE provider_notices
SET status = CASE WHEN $5 OR attempts >= $6 THEN 'failed' ELSE 'pending' END,
    next_attempt_at = $3, last_error = $4, claimed_by = NULL, claimed_until = NULL
WHERE notice_id = $1 AND claimed_by = $2 AND status = 'pending'
"""


async def _claim_providers(mailer: Mailer, conn: asyncpg.Connection) -> list[ProviderClaimed]:
    now = mailer.clock()
    rows = await conn.fetch(
        _CLAIM_PROVIDERS, mailer.name, now, mailer.batch_size,
        now + timedelta(seconds=mailer.lease), timeout=WORKER_STATEMENT_TIMEOUT,
    )  # fmt: skip
    ids = sorted({row["provider_id"] for row in rows})
    names: dict[str, str] = {}
    if ids:
        found = await conn.fetch(_PROVIDER_NAMES, ids, timeout=WORKER_STATEMENT_TIMEOUT)
        names = {r[0]: r[1] for r in found}
    return [
        ProviderClaimed(**dict(row), name=names.get(row["provider_id"], row["provider_id"]))
        for row in rows
    ]


async def _provider_failed(
    mailer: Mailer, conn: asyncpg.Connection, notice: ProviderClaimed, exc: Exception,
    final: bool,
) -> None:  # fmt: skip
    retry_at, error, final = mailer.failure(notice.attempts, exc, final)
    _log.warning("notice %s to provider %s: %s", notice.notice_id, notice.provider_id, error)
    await conn.execute(
        _PROVIDER_FAILED, notice.notice_id, mailer.name, retry_at, error, final,
        mailer.max_attempts, timeout=WORKER_STATEMENT_TIMEOUT,
    )  # fmt: skip


async def send_due_providers(mailer: Mailer, conn: asyncpg.Connection) -> int:
    """One round of the providers' notices, as `Mailer.send_due` is of the managers'."""

    async def sent(notice: ProviderClaimed) -> None:
        await conn.execute(
            _PROVIDER_SENT, notice.notice_id, mailer.clock(), timeout=WORKER_STATEMENT_TIMEOUT
        )

    async def failed(notice: ProviderClaimed, exc: Exception, final: bool) -> None:
        await _provider_failed(mailer, conn, notice, exc, final)

    return await mailer.deliver(
        await _claim_providers(mailer, conn),
        lambda n: compose_provider(n, mailer.smtp.sender, mailer.clock(), mailer.smtp.public_url),
        sent,
        failed,
    )
