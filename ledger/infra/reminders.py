"""The reminder scheduler: the date-driven notices of a day, into the outbox.

A projection cannot read a clock (a rebuild has to give the same rows), so the notices that
time calls for (deadline in 90/45/15/1 days, grace started, lapsed, a claim overdue) are
found here: `remind`
asks `ledger.domain.notices.on_date` about every certification whose deadline is at most 90
days away (or past), for the day given, and `enqueue`s the answers with the projection's own
idempotent insert.  It depends only on the day it is given and the `ceu` read model, so a
clock moved through a certification's life, with `remind` run once a day (or once an hour,
or twice at the same time in two processes), enqueues exactly the notices of that life, once
each.  `ReminderScheduler.run` calls it every `interval` seconds with the clock's day; runs in
several processes are harmless, and a transaction-level advisory lock lets only one do the
work at a time.  A lapsed certification whose lapse notice is out is not looked at again.

It also runs as soon as the `ceu` read model has moved on: the notices of data recorded after
start-up (the demo's, an import, a new certification) are queued within moments, not at the
next hourly run (the first `make run` records the demo data after this job has started, and
showed no reminder for an hour).  It learns of new data as the projectors do, by LISTEN on the
store's channel (every append's commit sends NOTIFY with the new head), on one connection it
keeps: a notification makes it look at the `ceu` checkpoint (one small query), again after a
short pause while the projector has not yet reached the announced head, and otherwise only
every `fallback` seconds (a connection lost and made again also makes it look).  Nothing is
queried while nothing is stored: it used to open a connection every 5 s to look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from events.backoff import REMINDER_RECONNECT
from events.codec import decode
from events.postgres.connection import connect
from events.postgres.reads import NOTIFY_CHANNEL, fetch_head
from events.store import RecordedEvent, utc_now
from events.supervise import Supervisor
from events.timeouts import (
    CLOSE_TIMEOUT,
    CONNECT_TIMEOUT,
    SHUTDOWN_TIMEOUT,
    WORKER_STATEMENT_TIMEOUT,
)
from ledger.domain.approvals import ProviderApprovals, evolve_provider_approvals, lapse_reminders
from ledger.domain.notices import REMINDER_DAYS, on_date, on_overdue_claim
from ledger.infra.mailer import Mailer, Smtp
from projections.ceu import decode_record
from projections.ceu_queries import programs
from projections.claims_queries import enqueue_association, overdue_unnoticed
from projections.engine import read_checkpoint
from projections.notices import enqueue
from projections.provider_notices import enqueue_provider_notices

if TYPE_CHECKING:
    import asyncpg

    from events.connections import Conn
    from ledger.settings import Settings

__all__ = ["ReminderScheduler", "remind", "running_notices"]

_log = logging.getLogger(__name__)
_LOCK = int.from_bytes(b"ceu-rmnd", "big") >> 1
PAGE = 500

_CANDIDATES = """
SELECT m.manager_id, m.record FROM ceu_managers m
WHERE m.manager_id > $3 AND EXISTS (
    SELECT 1 FROM ceu_certifications c
    WHERE c.manager_id = m.manager_id AND NOT c.revoked AND c.deadline <= $1::date + $2::int
      AND NOT EXISTS (
          SELECT 1 FROM notice_outbox o
          WHERE o.manager_id = c.manager_id AND o.program = c.program
            AND o.cycle = c.open_cycle AND o.kind = 'lapsed'))
ORDER BY m.manager_id
LIMIT $4
"""


_APPROVAL_FACTS = """
SELECT position, event_id, stream_id, version, type, schema_version, data, metadata,
    recorded_at, prev_hash, hash
FROM events WHERE type = ANY($1::text[]) ORDER BY position
"""
_APPROVAL_TYPES = [
    "provider_registered", "provider_approval_requested", "provider_approved",
    "provider_approval_denied",
]  # fmt: skip


async def remind_providers(conn: asyncpg.Connection, today: date, at: datetime) -> int:
    """Enqueue the providers' reminders of `today` (their approvals lapsing in 120 or 30
    days); how many were new."""
    rows = await conn.fetch(_APPROVAL_FACTS, _APPROVAL_TYPES, timeout=WORKER_STATEMENT_TIMEOUT)
    providers: dict[str, ProviderApprovals] = {}
    for row in rows:
        event = decode(RecordedEvent(*row))
        pid = event.provider_id  # type: ignore[attr-defined]
        providers[pid] = evolve_provider_approvals(providers.get(pid), event, row["recorded_at"])
    reminders = [r for p in providers.values() for r in lapse_reminders(p, today)]
    return await enqueue_provider_notices(conn, reminders, at)


async def remind(conn: asyncpg.Connection, today: date, at: datetime) -> int:
    """Enqueue the date-driven notices of `today` (due from `at`); how many were new.  0 at
    once if another process is doing it right now (it finds the same ones)."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _LOCK):
            return 0
        added = await remind_providers(conn, today, at)
        versions = {code: p.versions for code, p in (await programs(conn)).items()}
        after = ""
        while True:
            rows = await conn.fetch(
                _CANDIDATES,
                today,
                max(REMINDER_DAYS),
                after,
                PAGE,
                timeout=WORKER_STATEMENT_TIMEOUT,
            )
            notices = [n for row in rows for n in on_date(decode_record(row[1]), versions, today)]
            added += await enqueue(conn, notices, at)
            if len(rows) < PAGE:
                return added + await _overdue_claims(conn, today, at)
            after = rows[-1][0]


async def _overdue_claims(conn: asyncpg.Connection, today: date, at: datetime) -> int:
    """The notices of claims still open on their overdue day (the `claims` read model): the
    manager's into the outbox, the associations' beside it, in the caller's transaction, each
    at most once (a claim with its manager's notice is not looked at again)."""
    added, after = 0, None
    while True:
        rows = await overdue_unnoticed(conn, today, after=after, limit=PAGE)
        found = [on_overdue_claim(*row) for row in rows]
        added += await enqueue(conn, [mine for mine, _ in found], at)
        await enqueue_association(conn, [n for _, theirs in found for n in theirs], at)
        if len(rows) < PAGE:
            return added
        after = rows[-1][0]


class ReminderScheduler:
    def __init__(
        self,
        dsn: str,
        *,
        clock: Callable[[], datetime] = utc_now,
        interval: float = 3600.0,
        fallback: float = 60.0,
        check: float = 0.2,
    ) -> None:
        self.dsn, self.clock, self.interval = dsn, clock, interval
        self.fallback, self.check = fallback, check
        self.supervisor = Supervisor("reminders", REMINDER_RECONNECT, logger=_log)
        self.seen: int | None = None
        """The `ceu` read model's position at the last run."""
        self.projected = 0
        """The `ceu` read model's position when last looked at."""
        self.heard = 0
        """The highest head position a NOTIFY announced."""
        self.last = -float("inf")
        """When the last run started (time.monotonic)."""
        self.runs = 0
        """How many times `remind` has run (for the tests: they wait on `ran`, not a clock)."""
        self.ran = asyncio.Event()
        self.wake = asyncio.Event()
        self._behind = 0
        self._conn: asyncpg.Connection | None = None

    async def _connection(self) -> asyncpg.Connection:
        """The one connection kept, listening on the store's channel (made again when lost)."""
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        conn = await connect(
            self.dsn, timeout=CONNECT_TIMEOUT, command_timeout=WORKER_STATEMENT_TIMEOUT
        )
        try:
            conn.add_termination_listener(lambda _conn: self.wake.set())
            await conn.add_listener(NOTIFY_CHANNEL, self._announced)
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        return conn

    def _announced(self, _conn: Conn, _pid: int, _channel: str, payload: object) -> None:
        with contextlib.suppress(ValueError):
            self.heard = max(self.heard, int(str(payload)))
        self._behind = 0
        self.wake.set()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.close(timeout=CLOSE_TIMEOUT))
            conn.terminate()

    async def run_once(self) -> int:
        conn = await self._connection()
        self.seen = self.projected = (await read_checkpoint(conn, "ceu")).position
        # What was stored before this process listened (the demo's data, recorded by `serve`
        # before its projector process started) is announced by no NOTIFY: the head says so,
        # and the read model's catching up with it is then looked at soon, not at the fallback.
        self.heard = max(self.heard, (await fetch_head(conn)).position)
        now = self.clock()
        added = await remind(conn, now.date(), now)
        self.runs += 1
        self.ran.set()
        return added

    async def step(self) -> int | None:
        """`run_once` if `interval` has passed since the last run or the read model moved on
        (how many notices were new), else None."""
        if time.monotonic() - self.last < self.interval and not await self.moved():
            return None
        self.last = time.monotonic()
        return await self.run_once()

    async def moved(self) -> bool:
        """Whether the `ceu` read model has new data since the last run."""
        conn = await self._connection()
        self.projected = (await read_checkpoint(conn, "ceu")).position
        return self.projected != self.seen

    def pause(self) -> float:
        """How long to wait for a NOTIFY before looking again: a short pause, doubling, while
        the projector has not reached the announced head (5 s at most); else the fallback (or
        the hour)."""
        left = max(0.0, self.interval - (time.monotonic() - self.last))
        if self.heard > self.projected:
            self._behind += 1
            return min(self.check * 2.0 ** (self._behind - 1), 5.0, self.fallback, left)
        return min(self.fallback, left)

    async def run(self, stop: asyncio.Event) -> None:
        """`run_once` now, every `interval` seconds, and whenever the `ceu` read model has
        moved on (looked at on each NOTIFY, and every `fallback` seconds), until `stop`;
        errors are logged and retried sooner (events/supervise.py; at most a minute later,
        never later than the next run was due)."""

        async def wait(pause: float) -> None:
            await _wait_any(stop, self.wake, min(self.interval, pause))

        try:
            await self.supervisor.run(
                lambda: self._serve(stop), stop, cleanup=self._failed, wait=wait
            )
        finally:
            await self.close()

    async def _serve(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake.clear()
            added = await self.step()
            if added:
                _log.info("reminders: %d notices due", added)
            self.supervisor.working()
            await _wait_any(stop, self.wake, self.pause())

    async def _failed(self) -> None:
        """After an error: run as soon as it works again, on a fresh connection."""
        self.last = -float("inf")
        await self.close()

    @property
    def failures(self) -> int:
        return self.supervisor.failures


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Until `stop` or `wake` is set, or `seconds` have passed."""
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


@contextlib.asynccontextmanager
async def running_notices(
    dsn: str, settings: Settings, *, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[Mailer | None]:
    """The reminder scheduler, and the sender if LEDGER_SMTP_HOST is set, until the block
    ends.  Without SMTP settings (`make run`, the demo) notices are queued and listed
    (GET /v1/managers/{id}/notices, the manager's page) but nobody sends them: they stay
    `pending` until a process with SMTP settings starts."""
    stop = asyncio.Event()
    smtp = Smtp.of(settings)
    mailer = None if smtp is None else Mailer(dsn, smtp, clock=clock)
    workers = [ReminderScheduler(dsn, clock=clock).run(stop)]
    if mailer is None:
        _log.info("notices: LEDGER_SMTP_HOST is unset; notices are queued, not sent")
    else:
        workers.append(mailer.run(stop))
    tasks = [asyncio.create_task(w, name=f"notices:{n}") for n, w in enumerate(workers)]
    try:
        yield mailer
    finally:
        stop.set()
        _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_TIMEOUT)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
