"""50 stalled connections, each sending a request a few bytes at a time, do not stop a normal
client from getting its answers."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx

from tests.faults.harness import Server, figures

STALLED = 50
SECONDS = 6.0
NORMAL_REQUESTS = 20


async def _stall(port: int, stop: asyncio.Event, opened: list[int]) -> bool:
    """Open a connection and dribble a request that never ends; True if the server closed it.
    `opened` counts the connections whose request line is sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        await writer.drain()
        opened.append(1)
        n = 0
        while not stop.is_set():
            writer.write(f"X-Slow-{n}: {'a' * 8}\r\n".encode())
            n += 1
            try:
                await writer.drain()
            except ConnectionError:
                return True
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(1), 0.5) == b"":
                    return True
        return False
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_fifty_stalled_connections_do_not_stop_a_normal_client(server: Server):
    stop = asyncio.Event()
    opened: list[int] = []
    stalls = [asyncio.create_task(_stall(server.port, stop, opened)) for _ in range(STALLED)]
    async with asyncio.timeout(30):  # every stalled connection is open before the client comes
        while len(opened) < STALLED:
            await asyncio.sleep(0.01)
    answered, slowest = 0, 0.0
    try:
        async with asyncio.timeout(60):
            for _ in range(NORMAL_REQUESTS):
                started = time.monotonic()
                async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
                    response = await client.get("/health")
                slowest = max(slowest, time.monotonic() - started)
                answered += response.status_code == 200
                await asyncio.sleep(SECONDS / NORMAL_REQUESTS)
    finally:
        stop.set()
        closed_by_server = sum(await asyncio.gather(*stalls))

    figures(
        "50 slowloris connections",
        normal_requests=NORMAL_REQUESTS,
        answered_200=answered,
        slowest_answer_seconds=f"{slowest:.3f}",
        stalled_closed_by_server=closed_by_server,
    )
    assert answered == NORMAL_REQUESTS
