"""kill -9 of the API server under load: nothing acknowledged is lost or stored twice."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.faults.harness import (
    Server,
    Tally,
    completion_counts,
    figures,
    head_held,
    post_until_acknowledged,
    posting,
    seed,
    wait_for,
)

CLIENTS = 16
PER_CLIENT = 20
MANAGERS = 50
ROSTER_LINES = 1000


async def test_a_server_killed_while_16_clients_post_stores_every_acknowledged_completion_once(
    server: Server, ledger_dsn: str
):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        token = await seed(client, managers=CLIENTS)
    acknowledged: dict[str, dict] = {}
    tally = Tally()

    async def provider_system(c: int) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            for i in range(PER_CLIENT):
                external_id = f"k{c}-{i}"
                body = posting(external_id, manager=c)
                acknowledged[external_id] = await post_until_acknowledged(
                    client, token, body, tally
                )

    async def kill_and_restart() -> int:
        await wait_for(lambda: len(acknowledged) >= CLIENTS * PER_CLIENT // 3, 60)
        at_kill = len(acknowledged)
        await server.kill()
        await asyncio.sleep(0.5)
        await server.start()
        return at_kill

    async with asyncio.timeout(120):
        at_kill, *_ = await asyncio.gather(
            kill_and_restart(), *(provider_system(c) for c in range(CLIENTS))
        )

    counts = await completion_counts(ledger_dsn)
    duplicates = sum(n - 1 for n in counts.values())
    figures(
        "kill -9 server, 16 posting clients",
        acknowledged=len(acknowledged),
        acknowledged_before_kill=at_kill,
        found=len(counts),
        duplicates=duplicates,
        http_5xx_not_503=tally.server_errors,
        http_503=tally.statuses[503],
        no_answer=tally.transport_errors,
    )
    assert len(acknowledged) == CLIENTS * PER_CLIENT
    assert set(counts) == set(acknowledged), "every acknowledged completion is stored"
    assert duplicates == 0
    assert tally.server_errors == 0
    assert tally.transport_errors > 0, "the kill did interrupt the clients"


def _roster() -> bytes:
    lines = ["external_id,manager_id,activity_id,completed_on,ceus"]
    for i in range(ROSTER_LINES):
        p = posting(f"r-{i:04d}", manager=i % MANAGERS)
        lines.append(",".join((p["external_id"], p["manager_id"], p["activity_id"],
                               p["completed_on"], p["ceus"])))  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.no_projectors
async def test_a_server_killed_during_a_1000_line_roster_then_sent_it_again_holds_1000(
    server: Server, ledger_dsn: str
):
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        token = await seed(client, managers=MANAGERS)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    roster = _roster()

    async def post_roster(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post("/v1/completions/batch", content=roster, headers=headers)

    # A roster is one transaction: the kill must land inside its write, not race it (an
    # unloaded server could answer first).  The test holds the log's head lock, so the
    # roster's append waits there, begun, until the kill; count once the server's sessions
    # are gone (one may still commit the roster: all or nothing).
    async with head_held(ledger_dsn) as head:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            first = asyncio.create_task(post_roster(client))
            await wait_for(lambda: first.done() or head.waiting(), 30, step=0.005)
            await server.kill()
            await head.release()
            interrupted = await asyncio.gather(first, return_exceptions=True)
        await wait_for(head.gone, 30)
    stored_at_kill = sum((await completion_counts(ledger_dsn)).values())

    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        again = await post_roster(client)
    assert again.status_code == 200, again.text
    result = again.json()

    counts = await completion_counts(ledger_dsn)
    figures(
        "kill -9 server during a 1,000-line CSV roster",
        stored_at_kill=stored_at_kill,
        repost_created=result["created"],
        repost_duplicate=result["duplicate"],
        repost_rejected=result["rejected"],
        found=len(counts),
        duplicates=sum(n - 1 for n in counts.values()),
    )
    assert isinstance(interrupted[0], httpx.TransportError), "the kill cut the first post"
    assert stored_at_kill in (0, ROSTER_LINES), "a roster is all or nothing"
    assert (result["created"], result["duplicate"], result["rejected"]) == (
        ROSTER_LINES - stored_at_kill,
        stored_at_kill,
        0,
    )
    assert len(counts) == ROSTER_LINES
    assert set(counts.values()) == {1}
