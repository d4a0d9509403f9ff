"""The one retry policy (events/backoff.py): its delays, its attempts, which errors it
retries.  The sleep and the random source are the test's own: nothing here waits."""

from __future__ import annotations

import pytest

from events.backoff import (
    CONFLICTS,
    KNOWN_HEAD_SKIPS,
    NOTICE_RETRY,
    PROJECTION_RECONNECT,
    Backoff,
)
from events.store import ConcurrencyConflict


class Sleeps:
    """A sleep that only notes how long it was asked to sleep."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def test_exponential_delays_double_from_the_first_and_stop_at_the_cap():
    policy = Backoff(first=0.25, cap=5.0)
    assert [policy.delay(n) for n in range(8)] == [0, 0.25, 0.5, 1, 2, 4, 5, 5]
    assert policy.delay(10_000) == 5.0, "no overflow however long the outage"


def test_linear_delays_grow_by_the_first_and_stop_at_the_cap():
    policy = Backoff(first=0.002, cap=0.005, growth="linear")
    assert [policy.delay(n) for n in range(5)] == [0, 0.002, 0.004, 0.005, 0.005]


def test_jitter_is_a_uniform_part_of_the_delay():
    policy = Backoff(first=1.0, cap=8.0, jitter=True, rand=lambda: 0.25)
    assert [policy.delay(n) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert Backoff(first=1.0, cap=8.0, jitter=True, rand=lambda: 0.0).delay(3) == 0.0


def test_the_named_policies_keep_the_figures_they_replaced():
    assert [KNOWN_HEAD_SKIPS.delay(n) for n in (1, 2, 3, 6, 7, 20)] == [2, 4, 8, 64, 64, 64]
    assert [NOTICE_RETRY.delay(n) for n in (1, 2, 3, 4, 7, 8, 20)] == [
        30, 60, 120, 240, 1920, 3600, 3600,
    ]  # fmt: skip
    assert [PROJECTION_RECONNECT.delay(n) for n in (1, 2, 5, 6)] == [0.25, 0.5, 4, 5]
    top = CONFLICTS.with_(rand=lambda: 1.0)
    assert [top.delay(n) for n in (1, 2, 3)] == pytest.approx([0.002, 0.004, 0.006])
    assert CONFLICTS.attempts == 20
    assert CONFLICTS.retry_on == (ConcurrencyConflict,)


def test_attempts_bound_the_retries_and_none_is_forever():
    bounded = Backoff(first=1, cap=1, attempts=3)
    assert [bounded.gives_up(n) for n in (1, 2, 3, 4)] == [False, False, True, True]
    forever = Backoff(first=1, cap=1)
    assert not forever.gives_up(10**9)


def test_only_the_errors_it_names_are_retried():
    policy = Backoff(first=1, cap=1, attempts=5, retry_on=(ConcurrencyConflict,))
    assert policy.retries(ConcurrencyConflict("s", 1, 2), 1)
    assert not policy.retries(ValueError("no"), 1)
    assert not policy.retries(ConcurrencyConflict("s", 1, 2), 5)


async def test_call_retries_a_named_error_with_a_pause_after_each_failure():
    sleeps = Sleeps()
    policy = Backoff(first=0.1, cap=1, attempts=5, retry_on=(ConcurrencyConflict,), sleep=sleeps)
    tries = 0

    async def attempt() -> str:
        nonlocal tries
        tries += 1
        if tries < 3:
            raise ConcurrencyConflict("s", tries, tries + 1)
        return "stored"

    assert await policy.call(attempt) == "stored"
    assert tries == 3
    assert sleeps.asked == [0.1, 0.2]


async def test_call_raises_the_last_error_once_the_attempts_are_used_up():
    sleeps = Sleeps()
    policy = Backoff(first=0.1, cap=1, attempts=3, sleep=sleeps)
    tries = 0

    async def attempt() -> None:
        nonlocal tries
        tries += 1
        raise ConcurrencyConflict("s", tries, tries + 1)

    with pytest.raises(ConcurrencyConflict) as raised:
        await policy.call(attempt)
    assert (tries, raised.value.expected) == (3, 3)
    assert sleeps.asked == [0.1, 0.2], "no pause after the last attempt"


async def test_call_raises_an_error_it_does_not_retry_at_once():
    sleeps = Sleeps()
    policy = Backoff(first=0.1, cap=1, retry_on=(ConcurrencyConflict,), sleep=sleeps)

    async def attempt() -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        await policy.call(attempt)
    assert sleeps.asked == []


def test_a_policy_must_make_sense():
    with pytest.raises(ValueError, match="first <= cap"):
        Backoff(first=2, cap=1)
    with pytest.raises(ValueError, match="attempts"):
        Backoff(first=1, cap=1, attempts=0)
