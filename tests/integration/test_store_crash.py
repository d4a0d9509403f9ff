"""kill -9 of a process in the middle of coalesced appends loses nothing it acknowledged."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid

import pytest

from events.chain import verify

# A writer process: 32 concurrent appenders on one store (so their appends coalesce), each
# printing an event id only once its append has returned, i.e. after COMMIT.
_WRITER = r"""
import asyncio, sys, uuid
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from events.store import NewEvent

async def appender(store, n):
    version = 0
    while True:
        events = [
            NewEvent(event_id=uuid.uuid4(), type="thing_happened", schema_version=1,
                     data=b'{"n":%d}' % n, metadata=b"{}")
            for _ in range(1 + version % 3)
        ]
        await store.append(f"writer-{n}", events, expected_version=version)
        version += len(events)
        sys.stdout.write("".join(f"{e.event_id}\n" for e in events))
        sys.stdout.flush()

async def main():
    async with create_pool(sys.argv[1], min_size=1, max_size=4) as pool:
        store = PostgresEventStore(pool)
        await asyncio.gather(*(appender(store, n) for n in range(32)))

asyncio.run(main())
"""


@pytest.mark.slow
async def test_killing_a_writer_mid_batch_loses_no_acknowledged_event(dsn, pool, pg_store):
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WRITER, dsn, stdout=asyncio.subprocess.PIPE
    )
    acknowledged: list[uuid.UUID] = []
    try:
        while len(acknowledged) < 600:
            line = await asyncio.wait_for(writer.stdout.readline(), timeout=60)
            assert line, "the writer stopped on its own"
            acknowledged.append(uuid.UUID(line.decode().strip()))
    finally:
        os.kill(writer.pid, signal.SIGKILL)
    # Whatever it managed to print before it died was acknowledged too.
    rest = await asyncio.wait_for(writer.stdout.read(), timeout=60)
    acknowledged += [uuid.UUID(line) for line in rest.decode().split()]
    assert await asyncio.wait_for(writer.wait(), timeout=60) == -signal.SIGKILL

    stored = {
        r[0]
        for r in await pool.fetch(
            "SELECT event_id FROM events WHERE event_id = ANY($1)", acknowledged
        )
    }
    assert set(acknowledged) <= stored
    count, batches = await pool.fetchrow("SELECT count(*), count(DISTINCT recorded_at) FROM events")
    assert batches < count / 4, "the appends were coalesced"
    report = await verify(pg_store)
    assert report.ok, report
    assert report.events_checked == count == report.head_position
