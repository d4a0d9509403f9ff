"""The chain verifier on hand-made logs: what it reports for each kind of damage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
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


def _row(e):
    """An event as `ChainVerifier.feed_rows` takes it (the columns verify reads)."""
    micros = int((e.recorded_at - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    return (
        e.position, e.event_id.bytes, e.stream_id, e.version, e.type, e.schema_version,
        e.data, e.metadata, micros, e.prev_hash, e.hash,
    )  # fmt: skip


def _damaged_logs():
    log = _log(5)
    yield "intact", log
    yield "changed data", [*log[:2], replace(log[2], data=b'{"n":9}'), *log[3:]]
    yield "wrong prev_hash", [*log[:3], replace(log[3], prev_hash=bytes(32)), log[4]]
    yield "missing position", [*log[:1], *log[2:]]


@pytest.mark.parametrize("log", [log for _, log in _damaged_logs()], ids=dict(_damaged_logs()))
def test_rows_are_checked_as_events_are(log):
    by_event, by_row = ChainVerifier(), ChainVerifier()
    for event in log:
        if not by_event.feed(event):
            break
    by_row.feed_rows([_row(e) for e in log[:2]])
    by_row.feed_rows([_row(e) for e in log[2:]])
    head = Head(position=5, hash=log[-1].hash)
    assert by_row.report(head) == by_event.report(head)


def test_a_range_checked_apart_joins_onto_the_one_before():
    log = _log(6)
    first, second = ChainVerifier(), ChainVerifier(after=3, prev_hash=log[2].hash)
    first.feed_rows([_row(e) for e in log[:3]])
    second.feed_rows([_row(e) for e in log[3:]])

    assert first.join(second.summary())
    assert first.report(Head(position=6, hash=log[-1].hash)).events_checked == 6


def test_a_range_that_does_not_start_where_the_one_before_stopped_is_not_joined():
    log = _log(6)
    first, third = ChainVerifier(), ChainVerifier(after=4, prev_hash=log[3].hash)
    first.feed_rows([_row(e) for e in log[:3]])
    third.feed_rows([_row(e) for e in log[4:]])

    assert not first.join(third.summary())
    first.missing_next()
    report = first.report(Head(position=6, hash=log[-1].hash))
    assert (report.first_bad_position, report.problem) == (4, "position 4 is missing")
