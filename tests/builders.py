"""Intent-named builders for test data."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

import msgspec

from events.store import NewEvent

_counter = itertools.count(1)


def fact(
    type: str = "thing_happened",
    *,
    event_id: uuid.UUID | None = None,
    schema_version: int = 1,
    request_id: str = "req-1",
    **data: object,
) -> NewEvent:
    """A new event with a JSON payload; each call is a distinct fact unless ids are given."""
    payload = data or {"n": next(_counter)}
    return NewEvent(
        event_id=event_id or uuid.uuid4(),
        type=type,
        schema_version=schema_version,
        data=msgspec.json.encode({"type": type, **payload}),
        metadata=msgspec.json.encode(
            {"actor": {"role": "admin", "id": "t"}, "request_id": request_id}
        ),
    )


def facts(count: int, type: str = "thing_happened") -> list[NewEvent]:
    return [fact(type) for _ in range(count)]


class SteppingClock:
    """A clock that the test moves by hand."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def run_cli(dsn: str, *args: str) -> tuple[int, str, str]:
    """`ceu-ledger ARGS` in a subprocess against the database at `dsn`: (status, out, err)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ledger.cli",
        *args,
        env={**os.environ, "DATABASE_URL": dsn},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
