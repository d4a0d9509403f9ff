"""The chain verifier on hand-made logs: what it reports for each kind of damage."""

from __future__ import annotations

from msgspec.structs import replace

from events.append import seal
from events.chain import GENESIS_HASH, ChainVerifier
from events.store import Head
from tests.builders import SteppingClock, facts


def _log(count: int):
    return seal(
        "s",
        facts(count),
        head_position=0,
        head_hash=GENESIS_HASH,
        stream_version=0,
        recorded_at=SteppingClock().now,
    )


def _check(log, head):
    verifier = ChainVerifier()
    for event in log:
        if not verifier.feed(event):
            break
    return verifier.report(head)


def test_an_intact_log_verifies():
    log = _log(4)
    report = _check(log, Head(position=4, hash=log[-1].hash))
    assert (report.ok, report.events_checked, report.first_bad_position) == (True, 4, None)


def test_an_empty_log_verifies_against_the_genesis_head():
    assert _check([], Head(position=0, hash=GENESIS_HASH)).ok


def test_a_changed_timestamp_is_caught():
    log = _log(3)
    log[1] = replace(log[1], recorded_at=SteppingClock().advance(seconds=1))
    assert _check(log, Head(position=3, hash=log[-1].hash)).first_bad_position == 2


def test_a_log_shorter_than_its_head_names_the_first_missing_position():
    log = _log(3)
    report = _check(log[:2], Head(position=3, hash=log[-1].hash))
    assert (report.ok, report.first_bad_position) == (False, 3)


def test_events_past_the_head_are_reported():
    log = _log(3)
    report = _check(log, Head(position=2, hash=log[1].hash))
    assert (report.ok, report.first_bad_position) == (False, 3)


def test_a_head_hash_that_is_not_the_last_events_is_reported():
    log = _log(3)
    report = _check(log, Head(position=3, hash=log[0].hash))
    assert (report.ok, report.first_bad_position) == (False, 3)
