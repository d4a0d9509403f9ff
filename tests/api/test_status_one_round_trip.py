"""GET status is one round trip (SPEC 10): the token is checked and the manager's tail (after
the snapshot the process keeps) read in one statement (ledger/access/tokens.py
`principal_with_stream`, ledger/http/authn.py), and the token is judged as before: a revoked
or unknown token is a 401, a token of another manager a 403, an unknown manager a 404, and a
posting is seen by the next status at once.  The world: m-1 holds CMM and CMOM."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg

from tests.api.world import World


@contextmanager
def statements(world: World) -> Iterator[list[str]]:
    """The statements the app's pool sends while the block runs, through every connection it
    has opened (the app runs on the test client's own loop: its pool is not used from here,
    only its connections' query loggers are set).  asyncpg's pool hands out the connection
    released last first, so a request made after another uses a connection already open."""
    pool: asyncpg.Pool = world.api.client.app.state.pool
    connections = [h._con for h in pool._holders if h._con is not None]
    assert connections, "make a request first"
    sent: list[str] = []

    def log(record: Any) -> None:
        # The catalogue's refresh follows the log's head (a NOTIFY), not the request: it
        # runs once after a catalogue event, whichever request comes first.
        if "ORDER BY type, position" not in record.query:
            sent.append(record.query)

    for conn in connections:
        conn.add_query_logger(log)
    try:
        yield sent
    finally:
        for conn in connections:
            conn.remove_query_logger(log)


async def status(world: World, token: str, manager_id: str = "m-1") -> Any:
    return await world.api.get(f"/v1/managers/{manager_id}/status", token)


async def test_status_is_one_statement(world):
    first = await world.api.ok(await status(world, world.admin), 200)  # the snapshot is kept

    with statements(world) as sent:
        again = await world.api.ok(await status(world, world.admin), 200)

    assert again == first
    assert len(sent) == 1, sent
    assert "api_tokens" in sent[0]
    assert "events" in sent[0]


async def test_a_manager_not_yet_kept_is_read_in_the_same_statement(world):
    await world.api.ok(await status(world, world.admin), 200)  # m-1's, not m-2's
    # m-2's token once (a 403 for m-1: m-2 is not read), so its first use is noted before.
    assert (await status(world, world.m2)).status_code == 403

    with statements(world) as sent:
        answer = await world.api.ok(await status(world, world.m2, "m-2"), 200)

    assert [c["program"] for c in answer["certifications"]] == ["CMM"]
    assert len(sent) == 1, "\n---\n".join(sent)


async def test_a_posting_is_seen_by_the_next_status(world):
    before = await world.api.ok(await status(world, world.m1), 200)
    await world.api.ok(await world.api.post_completion(world.tma, "one-trip-1"))

    after = await world.api.ok(await status(world, world.m1), 200)

    earned = {c["program"]: c["ceus_earned"] for c in after["certifications"]}
    assert earned != {c["program"]: c["ceus_earned"] for c in before["certifications"]}


async def test_a_revoked_token_is_refused_at_once(world):
    created = await world.api.ok(
        await world.api.post("/v1/tokens", world.admin, {"role": "manager", "manager_id": "m-1"})
    )
    await world.api.ok(await status(world, created["token"]), 200)
    revoke = f"/v1/tokens/{created['token_id']}/revoke"
    await world.api.ok(await world.api.post(revoke, world.admin), 200)

    refused = await status(world, created["token"])

    assert refused.status_code == 401


async def test_the_refusals_are_unchanged(world):
    assert (await status(world, "ceu_not-a-token")).status_code == 401
    assert (await status(world, "")).status_code == 401
    assert (await status(world, world.m2)).status_code == 403  # m-2's token, m-1's status
    assert (await status(world, world.admin, "nobody")).status_code == 404
