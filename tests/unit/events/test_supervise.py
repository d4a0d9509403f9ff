"""The one supervise-and-reconnect loop (events/supervise.py): every error counted, kept and
followed by the policy's pause; the outage logged once and the recovery once.  The pause and
the clocks are the test's own: nothing here waits."""

from __future__ import annotations

import asyncio
import logging

import pytest

from events.backoff import Backoff
from events.supervise import Supervisor, sleep_unless

LOG = logging.getLogger("tests.supervise")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _supervisor(clock: Clock) -> Supervisor:
    return Supervisor(
        "worker w", Backoff(first=0.5, cap=2.0), logger=LOG, clock=clock, monotonic=clock
    )


def _log(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOG.name]


async def test_errors_are_retried_after_growing_pauses_until_the_worker_works(caplog):
    caplog.set_level(logging.DEBUG, logger=LOG.name)
    clock, stop = Clock(), asyncio.Event()
    supervisor = _supervisor(clock)
    pauses: list[float] = []
    cleanups: list[int] = []
    attempts = 0

    async def serve() -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= 4:
            raise ConnectionError(f"refused {attempts}")
        supervisor.working()
        stop.set()  # worked, then was stopped

    async def wait(pause: float) -> None:
        pauses.append(pause)
        clock.now += pause

    async def cleanup() -> None:
        cleanups.append(supervisor.failures)

    await supervisor.run(serve, stop, cleanup=cleanup, wait=wait)

    assert attempts == 5
    assert pauses == [0.5, 1.0, 2.0, 2.0]
    assert cleanups == [1, 2, 3, 4], "the worker's clean-up runs after each error"
    assert supervisor.failures == 0
    assert supervisor.last_error == "ConnectionError: refused 4"
    assert supervisor.last_error_at == 1000.0 + 0.5 + 1.0 + 2.0
    assert _log(caplog) == [
        (logging.WARNING, "worker w stopped: ConnectionError: refused 1; retrying with backoff"),
        (logging.DEBUG, "worker w: still failing: ConnectionError: refused 2"),
        (logging.DEBUG, "worker w: still failing: ConnectionError: refused 3"),
        (logging.DEBUG, "worker w: still failing: ConnectionError: refused 4"),
        (logging.INFO, "worker w recovered after 4 failed attempts in 5.5 s"),
    ]


async def test_a_second_outage_is_logged_again_and_counted_from_one(caplog):
    caplog.set_level(logging.INFO, logger=LOG.name)
    clock = Clock()
    supervisor = _supervisor(clock)
    assert supervisor.failed(OSError("a")) == 0.5
    supervisor.working()
    assert supervisor.failed(OSError("b")) == 0.5
    assert [level for level, _ in _log(caplog)] == [logging.WARNING, logging.INFO, logging.WARNING]


async def test_a_stopped_supervisor_serves_no_more():
    stop = asyncio.Event()
    stop.set()
    served = 0

    async def serve() -> None:
        nonlocal served
        served += 1

    await _supervisor(Clock()).run(serve, stop)
    assert served == 0


async def test_a_stop_during_the_pause_ends_the_loop_without_another_attempt():
    stop = asyncio.Event()
    supervisor = Supervisor("worker w", Backoff(first=3600.0, cap=3600.0), logger=LOG)
    served = 0

    async def serve() -> None:
        nonlocal served
        served += 1
        asyncio.get_running_loop().call_soon(stop.set)  # stopped while it pauses an hour
        raise ConnectionError("gone")

    await asyncio.wait_for(supervisor.run(serve, stop), timeout=60)
    assert served == 1
    assert supervisor.failures == 1


async def test_sleep_unless_says_whether_it_was_stopped():
    stop = asyncio.Event()
    assert await sleep_unless(stop, 0) is False
    stop.set()
    assert await sleep_unless(stop, 3600) is True


async def test_cancellation_is_not_an_error_to_retry():
    stop = asyncio.Event()
    supervisor = _supervisor(Clock())
    started = asyncio.Event()

    async def serve() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(supervisor.run(serve, stop))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert supervisor.failures == 0
