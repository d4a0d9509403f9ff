"""Log lines are JSON objects, and an outage is logged once, not once per failure."""

from __future__ import annotations

import json
import logging

import pytest

from ledger.infra.logs import Outage, RequestFilter, json_formatter, request_id_var


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("ledger.test", logging.WARNING, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def test_a_record_is_one_json_line_with_time_level_logger_message_and_extras():
    record = _record('a "quoted"\nmessage', route="/health", request_id=None)

    text = json_formatter().format(record)

    assert "\n" not in text
    line = json.loads(text)
    assert line["level"] == "WARNING"
    assert line["logger"] == "ledger.test"
    assert line["message"] == 'a "quoted"\nmessage'
    assert line["route"] == "/health"
    assert line["time"].endswith("+00:00")


def test_the_request_filter_adds_the_current_request_id():
    record = _record("inside a request")
    token = request_id_var.set("req-42")
    try:
        RequestFilter().filter(record)
    finally:
        request_id_var.reset(token)

    assert json.loads(json_formatter().format(record))["request_id"] == "req-42"


def test_an_outage_writes_one_line_when_it_starts_and_one_when_it_ends(caplog):
    caplog.set_level(logging.INFO, logger="ledger.outage")
    outage = Outage("database")

    outage.up()  # nothing was down: nothing to say
    for _ in range(50):
        outage.down(ConnectionRefusedError("refused"))
    assert outage.is_down
    for _ in range(3):
        outage.up()
    outage.down(OSError("socket gone"))

    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        ("WARNING", "database unavailable"),
        ("INFO", "database back"),
        ("WARNING", "database unavailable"),
    ]
    assert caplog.records[0].error == "ConnectionRefusedError: refused"
    assert caplog.records[1].down_seconds >= 0


@pytest.mark.parametrize("exc", [ConnectionError("x"), TimeoutError()])
def test_down_accepts_any_exception(exc):
    outage = Outage("database")
    outage.down(exc)
    assert outage.is_down
