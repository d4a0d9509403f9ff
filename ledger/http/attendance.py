"""A roster of attendance's body in, its per-line results out (POST
/v1/activities/{activity_id}/attendance), as a completions roster's (ledger/http/rosters.py).

The body is JSON `{items: [...]}` or CSV with the header
`manager_id,session_id,checked_in_at,checked_out_at`, at most 5,000 lines.  Each line stands
alone: a line that is not even a well-formed attendance is answered `rejected` on its own and
the others go on.  A large body is read in a worker process, off the event loop (SPEC 6).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.exceptions import ClientException, HTTPException
from msgspec import Meta

from ledger.commands.messages import (
    MAX_ATTENDANCE,
    AttendanceRoster,
    Message,
    RecordAttendance,
    convert,
    decoder,
)
from ledger.commands.workshops import Roster
from ledger.csv_io import RosterFormatError, parse_csv_lines
from ledger.domain.errors import Invalid
from ledger.http.problems import status_of
from ledger.http.rosters import csv_refusal, field_of, is_json, read_off_the_loop
from ledger.infra.workers import WorkerPool
from ledger.queries.workshops import RosterLine, RosterResult, positions, roster_line, roster_result

__all__ = ["ATTENDANCE_HEADER", "attendance_items", "read_attendance", "roster_answer"]

ATTENDANCE_HEADER = ("manager_id", "session_id", "checked_in_at", "checked_out_at")

Parsed = RecordAttendance | RosterLine
"""A well-formed line, or its rejection (its `line` set)."""

_workers = WorkerPool("large attendance rosters", waiting=8)


class _WellFormed(Message, frozen=True, kw_only=True):
    items: Annotated[list[RecordAttendance], Meta(min_length=1, max_length=MAX_ATTENDANCE)]


_well_formed = decoder(_WellFormed)


async def read_attendance(body: bytes, content_type: str) -> list[Parsed]:
    """`attendance_items`, off the event loop for a large body."""
    return await read_off_the_loop(_workers, attendance_items, body, content_type)


def attendance_items(body: bytes, content_type: str) -> list[Parsed]:
    """Each line as an attendance, or its rejection if it is not a well-formed one."""
    if is_json(content_type):
        try:
            return list(_well_formed.decode(body).items)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
            pass  # not all well-formed: each item on its own, answered on its own line
    items = _raw_items(body, content_type)
    try:
        return list(convert(items, list[RecordAttendance]))
    except msgspec.ValidationError:
        return [_attendance(n, raw) for n, raw in enumerate(items, start=1)]


def _raw_items(body: bytes, content_type: str) -> list[Any]:
    if content_type.startswith("text/csv"):
        try:
            lines = parse_csv_lines(body, header=ATTENDANCE_HEADER, max_lines=MAX_ATTENDANCE)
        except RosterFormatError as exc:
            raise csv_refusal(exc) from exc
        # An empty check-out cell is a check-in without its check-out.
        return [
            {k: v for k, v in line.items() if v != "" or k != "checked_out_at"} for line in lines
        ]
    if is_json(content_type):
        try:
            return msgspec.json.decode(body, type=AttendanceRoster).items
        except msgspec.ValidationError as exc:
            raise Invalid([field_of(exc, "items")]) from exc
        except msgspec.DecodeError as exc:
            raise ClientException(detail=f"malformed JSON: {exc}") from exc
    raise HTTPException(status_code=415, detail="send application/json or text/csv")


def _text(raw: Any, name: str) -> str | None:
    value = raw.get(name) if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _attendance(n: int, raw: Any) -> Parsed:
    try:
        return convert(raw, RecordAttendance)
    except msgspec.ValidationError as exc:
        return RosterLine(
            line=n, manager_id=_text(raw, "manager_id"), session_id=_text(raw, "session_id"),
            status="rejected",
            error={"status": 422, "errors": [msgspec.to_builtins(field_of(exc, "item"))]},
        )  # fmt: skip


def roster_answer(parsed: list[Parsed], roster: Roster) -> RosterResult:
    """Every line's result, in order: `roster` answers the well-formed lines among `parsed`."""
    outcomes = iter(zip(roster.outcomes, positions(roster.appended, roster.outcomes), strict=True))
    lines: list[RosterLine] = []
    for n, p in enumerate(parsed, start=1):
        if isinstance(p, RosterLine):
            lines.append(p)
            continue
        outcome, position = next(outcomes)
        lines.append(
            roster_line(n, outcome, p.manager_id, p.session_id, position, status_of=status_of)
        )
    return roster_result(lines, roster.derived)
