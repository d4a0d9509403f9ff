"""kill -9 of the API server while it writes a 3,000-line attendance roster (SPEC 11): the
roster is one transaction on the workshop's stream, so after the restart the store holds all
of its lines or none, and posting the same roster again gives the exact result (every line
created or unchanged, the totals exact, no attendance twice)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import asyncpg
import httpx
import pytest

from tests.faults.harness import ADMIN_TOKEN, Server, figures, head_held, seed, wait_for

MANAGERS = 150
SESSIONS = 20
LINES = MANAGERS * SESSIONS
WORKSHOP = "fault-workshop"
STREAM = f"workshop-{WORKSHOP}"
CDT = timezone(timedelta(hours=-5))
FIRST_DAY = date(2026, 1, 5)


def _sessions() -> list[dict[str, str]]:
    """Four one-hour sessions a day, Monday to Friday, half a CEU each (10 in all)."""
    agenda = []
    for n in range(SESSIONS):
        day, slot = divmod(n, 4)
        starts = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), CDT)
        starts += timedelta(hours=9 + 2 * slot)
        agenda.append({
            "session_id": f"s-{n:02d}", "title": f"Session {n}", "ceus": "0.5",
            "category": "core", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
        })  # fmt: skip
    return agenda


def _roster(agenda: list[dict[str, str]]) -> bytes:
    lines = ["manager_id,session_id,checked_in_at,checked_out_at"]
    for m in range(MANAGERS):
        for s in agenda:
            lines.append(f"m-{m},{s['session_id']},{s['starts_at']},{s['ends_at']}")
    return ("\n".join(lines) + "\n").encode()


async def _workshop(client: httpx.AsyncClient, token: str) -> list[dict[str, str]]:
    """The provider's workshop activity with its agenda."""
    provider = {"Authorization": f"Bearer {token}"}
    activity = {
        "activity_id": WORKSHOP, "title": "Practice management week", "format": "workshop",
        "ceus": "10", "category": "core", "programs": ["CMM"],
        "starts_on": "2026-01-05", "ends_on": "2026-01-09",
    }  # fmt: skip
    created = await client.post("/v1/providers/fp/activities", json=activity, headers=provider)
    assert created.status_code == 201, created.text
    agenda = _sessions()
    scheduled = await client.put(
        f"/v1/activities/{WORKSHOP}/sessions", json=agenda, headers=provider
    )
    assert scheduled.status_code == 201, scheduled.text
    return agenda


async def _attendance(dsn: str) -> tuple[int, int, int]:
    """The workshop's attendance events: how many, how many (manager, session) pairs, and
    how many distinct instants they were recorded at (one per transaction)."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT ((data::jsonb)->>'manager_id',"
            " (data::jsonb)->>'session_id')), count(DISTINCT recorded_at) FROM events"
            " WHERE stream_id = $1 AND type = 'attendance_recorded'",
            STREAM,
        )
    finally:
        await conn.close()
    return row[0], row[1], row[2]


@pytest.mark.no_projectors
@pytest.mark.parametrize(
    "restarted",
    [
        pytest.param(False, id="its store knows the head: the roster's append is one call"),
        pytest.param(True, id="just restarted: the roster's append is a locked transaction"),
    ],
)
async def test_a_server_killed_during_a_3000_line_attendance_roster_keeps_all_or_none(
    server: Server, ledger_dsn: str, restarted: bool
):
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        token = await seed(client, managers=MANAGERS)
        roster = _roster(await _workshop(client, token))
    if restarted:  # a new process knows no head: its first append takes the locked path
        await server.stop()
        await server.start()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    path = f"/v1/activities/{WORKSHOP}/attendance"

    # The kill must land inside the roster's write, not race it: the test holds the log's
    # head lock, so the server's append waits there, its transaction (or its one-call append)
    # begun, until the kill.  Count once every session of the server is gone.
    async with head_held(ledger_dsn) as head:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            first = asyncio.create_task(client.post(path, content=roster, headers=headers))
            await wait_for(lambda: first.done() or head.waiting(), 60, step=0.005)
            await server.kill()
            await head.release()
            interrupted = await asyncio.gather(first, return_exceptions=True)
        await wait_for(head.gone, 30)
    stored_at_kill, _, _ = await _attendance(ledger_dsn)

    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        again = await client.post(path, content=roster, headers=headers)
        verified = await client.get(
            "/v1/ledger/verify", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
    assert again.status_code == 200, again.text
    result = again.json()
    stored, pairs, transactions = await _attendance(ledger_dsn)
    figures(
        f"kill -9 server during a 3,000-line attendance roster (restarted={restarted})",
        stored_at_kill=stored_at_kill,
        repost_created=result["created"],
        repost_unchanged=result["unchanged"],
        repost_rejected=result["rejected"],
        stored=stored,
        transactions=transactions,
    )
    assert isinstance(interrupted[0], httpx.TransportError), "the kill cut the first post"
    assert stored_at_kill in (0, LINES), "a roster is all or nothing"
    assert (result["created"], result["unchanged"], result["rejected"]) == (
        LINES - stored_at_kill,
        stored_at_kill,
        0,
    )
    statuses = {"created" if stored_at_kill == 0 else "unchanged"}
    assert {r["status"] for r in result["results"]} == statuses
    assert [r["line"] for r in result["results"]] == list(range(1, LINES + 1))
    assert (stored, pairs, transactions) == (LINES, LINES, 1), "once each, in one transaction"
    assert verified.json()["ok"] is True
