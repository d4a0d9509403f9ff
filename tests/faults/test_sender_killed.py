"""The notice sender as a real process: killed with SIGKILL in the one window where a message
is accepted by the SMTP server but not yet marked sent, then restarted; and two senders at
once.  Nothing is lost; a duplicate happens only in that window, with the same Message-ID."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, date, datetime

import asyncpg

from events.codec import Actor
from events.postgres.connection import connect
from events.postgres.store import PostgresEventStore
from ledger.commands import Context, Ledger
from ledger.commands import managers as enrolment
from ledger.commands.messages import EnrollManager
from ledger.domain.notices import Notice
from projections.ceu import CeuProjection
from projections.engine import ProjectionRunner
from projections.notices import enqueue
from tests.faults.harness import environ_with, wait_for
from tests.smtp import Inbox, smtp_server

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="t")


async def _notices(dsn: str, pool, count: int) -> list[str]:
    """`count` notices due now, for managers enrolled through the ledger; their Message-IDs."""
    ledger = Ledger(PostgresEventStore(pool))
    notices = []
    for n in range(count):
        manager_id = f"m-{n:02d}"
        await enrolment.enroll_manager(
            ledger,
            ADMIN,
            EnrollManager(manager_id=manager_id, name=f"M {n}", email=f"{manager_id}@example.org"),
        )
        notices.append(
            Notice(manager_id=manager_id, program="CMM", cycle=1, kind="deadline_90",
                   due_on=date(2026, 1, 1), deadline=date(2026, 3, 31))
        )  # fmt: skip
    conn = await connect(dsn)
    try:
        await ProjectionRunner(dsn, CeuProjection()).catch_up(conn)
        await enqueue(conn, notices, datetime(2020, 1, 1, tzinfo=UTC))
    finally:
        await conn.close()
    return [f"<{n.notice_id}@ceu-ledger>" for n in notices]


async def _sender(dsn: str, inbox: Inbox, name: str, lease: float, batch: int):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.faults.sender", dsn, name, str(lease), str(batch),
        env=environ_with(LEDGER_SMTP_HOST=inbox.host, LEDGER_SMTP_PORT=str(inbox.port)),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def _states(dsn: str) -> Counter:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT status, claimed_by FROM notice_outbox")
    finally:
        await conn.close()
    return Counter((r[0], r[1]) for r in rows)


async def _all_sent(dsn: str, count: int) -> bool:
    return (await _states(dsn)).get(("sent", None), 0) == count


async def _stop(process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), 30)


async def test_a_sender_killed_between_data_and_the_sent_mark_loses_nothing_when_restarted(
    dsn, pool
):
    ids = await _notices(dsn, pool, 6)
    victim: dict[str, object] = {}

    def kill_on_the_third(message, n: int) -> None:
        if n == 3:  # the server has the message; the sender will never read our 250
            victim["message_id"] = message["Message-ID"]
            os.kill(victim["pid"], signal.SIGKILL)

    with smtp_server(Inbox(answer=kill_on_the_third)) as inbox:
        first = await _sender(dsn, inbox, "first", lease=4, batch=1)
        victim["pid"] = first.pid
        try:
            assert await asyncio.wait_for(first.wait(), 60) == -signal.SIGKILL
        finally:
            if first.returncode is None:
                first.kill()
        assert await _states(dsn) == Counter(
            {("sent", None): 2, ("pending", "first"): 1, ("pending", None): 3}
        ), "two marked sent, the third still claimed by the dead sender, three untouched"

        second = await _sender(dsn, inbox, "second", lease=4, batch=1)
        try:
            await wait_for(lambda: _all_sent(dsn, 6), 60)
        finally:
            await _stop(second)

        received = Counter(inbox.message_ids())
    assert set(received) == set(ids), "no notice lost"
    assert received == Counter({**dict.fromkeys(ids, 1), victim["message_id"]: 2}), (
        "one duplicate, the message in the window, under its same Message-ID"
    )
    conn = await asyncpg.connect(dsn)
    try:
        attempts = dict(await conn.fetch("SELECT notice_id::text, attempts FROM notice_outbox"))
    finally:
        await conn.close()
    assert sorted(attempts.values()) == [1, 1, 1, 1, 1, 2]


async def test_two_senders_at_once_send_each_notice_exactly_once(dsn, pool):
    ids = await _notices(dsn, pool, 30)
    with smtp_server(Inbox(delay=0.02)) as inbox:
        senders = [await _sender(dsn, inbox, name, lease=30, batch=2) for name in ("a", "b")]
        try:
            await wait_for(lambda: _all_sent(dsn, 30), 90)
        finally:
            for sender in senders:
                await _stop(sender)
        received = Counter(inbox.message_ids())
    assert received == Counter(dict.fromkeys(ids, 1))
