"""SPEC 8 read replicas: reads through a replica that applies each commit 200 ms late
(`recovery_min_apply_delay`) never miss the caller's own write when it says `Min-Position`;
without it the same reads do miss it, so the test can tell."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.faults.cluster import Cluster
from tests.faults.harness import Server, Tally, figures, posting, seed

pytestmark = pytest.mark.cluster

PAIRS, CLIENTS, MANAGERS = 1000, 20, 20


@pytest.fixture
def delayed_replica(cluster: Cluster, ledger_dsn: str) -> Iterator[Cluster]:
    replica = cluster.replica()
    replica.start("-c recovery_min_apply_delay=200ms", "-c hot_standby_feedback=on")
    try:
        yield replica
    finally:
        replica.remove()
        shutil.rmtree(replica.data.parent, ignore_errors=True)


async def write_then_read(
    server: Server, token: str, pairs: int, *, min_position: bool, prefix: str
) -> tuple[int, Tally, float]:
    """`pairs` posts, each followed by a GET of the completion it created; how many GETs
    did not find it (404: the replica had not replayed it)."""
    tally = Tally()
    stale = 0
    waits: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}

    async def client(n: int) -> None:
        nonlocal stale
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            for i in range(n, pairs, CLIENTS):
                body = posting(f"{prefix}-{i}", i % MANAGERS)
                posted = await http.post("/v1/completions", json=body, headers=headers)
                tally.saw(posted)
                assert posted.status_code == 201, posted.text
                position = posted.headers["ledger-position"]
                assert int(position) == posted.json()["position"]
                read_headers = {**headers, "Min-Position": position} if min_position else headers
                started = time.monotonic()
                read = await http.get(
                    f"/v1/completions/{posted.json()['id']}", headers=read_headers
                )
                waits.append(time.monotonic() - started)
                tally.saw(read)
                assert read.status_code in (200, 404), read.text
                stale += read.status_code == 404

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return stale, tally, sorted(waits)[len(waits) // 2]


@pytest.mark.no_projectors
async def test_a_read_with_min_position_through_a_delayed_replica_never_misses_its_write(
    ledger_dsn: str, delayed_replica: Cluster, tmp_path
) -> None:
    replica_dsn = delayed_replica.dsn(urlsplit(ledger_dsn).path.lstrip("/"))
    server = Server(ledger_dsn, tmp_path / "server.log", projectors=False, replicas=(replica_dsn,))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            token = await seed(http, MANAGERS)
        stale, tally, median_wait = await write_then_read(
            server, token, PAIRS, min_position=True, prefix="ryw"
        )
        without, _, median_without = await write_then_read(
            server, token, 200, min_position=False, prefix="stale"
        )
    finally:
        await server.close()
    figures(
        "replica_reads",
        pairs=PAIRS,
        stale_with_min_position=stale,
        median_read_s=round(median_wait, 3),
        stale_without_of_200=without,
        median_read_without_s=round(median_without, 3),
    )
    assert stale == 0
    assert tally.server_errors == 0
    assert without > 0, "without Min-Position the delayed replica must be seen behind"


@pytest.fixture
def replica(cluster: Cluster, ledger_dsn: str) -> Iterator[Cluster]:
    replica = cluster.replica()
    replica.start()
    try:
        yield replica
    finally:
        replica.remove()
        shutil.rmtree(replica.data.parent, ignore_errors=True)


@pytest.mark.no_projectors
async def test_reads_go_on_through_the_primary_when_the_replica_is_stopped(
    ledger_dsn: str, replica: Cluster, tmp_path
) -> None:
    replica_dsn = replica.dsn(urlsplit(ledger_dsn).path.lstrip("/"))
    server = Server(ledger_dsn, tmp_path / "server.log", projectors=False, replicas=(replica_dsn,))
    await server.start()
    tally = Tally()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            headers = {"Authorization": f"Bearer {await seed(http, 1)}"}
            posted = await http.post(
                "/v1/completions", json=posting("dead-replica", 0), headers=headers
            )
            assert posted.status_code == 201, posted.text
            path = f"/v1/completions/{posted.json()['id']}"
            at = {**headers, "Min-Position": posted.headers["ledger-position"]}
            tally.saw(await http.get(path, headers=at))
            replica.stop()
            for n in range(50):
                tally.saw(await http.get(path, headers=at if n % 2 else headers))
    finally:
        await server.close()
    figures("dead_replica", answers=dict(tally.statuses))
    assert tally.statuses == {200: 51}, "every read answered, by the primary once the replica died"


async def sign_in(http: httpx.AsyncClient, token: str) -> None:
    page = await http.get("/login")
    answer = await http.post("/login", data={"token": token, "_csrf_token": csrf_of(page)})
    assert answer.status_code == 303, answer.text


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text[:500]
    return found[1]


async def page_write_then_read(
    http: httpx.AsyncClient, pairs: int, *, cookie: bool, prefix: str
) -> int:
    """`pairs` completions posted through the provider page's form, each followed by the
    page itself; how many times the page did not list the posting just made."""
    stale = 0
    for i in range(pairs):
        page = await http.get("/providers/fp/")
        assert page.status_code == 200, page.text
        body = {**posting(f"{prefix}-{i}", i % MANAGERS), "_csrf_token": csrf_of(page)}
        posted = await http.post("/providers/fp/completions", data=body)
        assert posted.status_code == 303, posted.text
        assert "ledger_position" in posted.cookies
        if not cookie:
            http.cookies.delete("ledger_position")
        shown = await http.get("/providers/fp/")
        assert shown.status_code == 200, shown.text
        # Listed: named by more than the flash message ("Posted <id> for <manager>.").
        named = shown.text.count(f"{prefix}-{i}")
        stale += named <= shown.text.count(f"Posted {prefix}-{i} for")
    return stale


async def test_a_page_shows_its_own_write_through_a_delayed_replica(
    ledger_dsn: str, delayed_replica: Cluster, tmp_path
) -> None:
    """A provider posts a completion through its page's form; the page it is sent back to,
    read on a replica 200 ms behind, lists it (the `ledger_position` cookie); without the
    cookie the same page misses it, so the test can tell."""
    replica_dsn = delayed_replica.dsn(urlsplit(ledger_dsn).path.lstrip("/"))
    server = Server(ledger_dsn, tmp_path / "server.log", replicas=(replica_dsn,))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            token = await seed(http, MANAGERS)
            await sign_in(http, token)
            stale = await page_write_then_read(http, 30, cookie=True, prefix="page")
            without = await page_write_then_read(http, 10, cookie=False, prefix="nocookie")
    finally:
        await server.close()
    figures("page_reads", pairs=30, stale_with_cookie=stale, stale_without_of_10=without)
    assert stale == 0
    assert without > 0, "without the cookie the delayed replica must be seen behind"
