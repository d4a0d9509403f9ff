"""Which events of the log an auditor may read in full (GET /v1/events).

The rule.  An auditor holds programs P.  An event is inside its scope when
  1. it names a program (`program`, as fees, renewals, audits, certifications and program
     definitions do) and that program is in P; else
  2. it names programs (`programs`, as providers, activities and completions do) and one of
     them is in P; else
  3. it names a manager (`manager_id`, as enrolments and profile changes do) who holds, or
     ever held, a certification in one of P (a `certification_granted` anywhere in the log:
     an association sees the enrolment of a manager it certified later too).
Anything else is outside, so a new kind of event is private until a rule says otherwise.  An
event outside keeps its position, stream, version, type, time and hashes (so an auditor can
still see that positions are dense and that each `prev_hash` is the hash before it), and loses
`data` and `metadata`.  A manager's CMM fee is therefore hidden from a CMOM auditor even when
the manager also holds CMOM: rule 1 decides by the program alone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import asyncpg
import msgspec

__all__ = ["certified_managers", "inside", "names"]

_CERTIFIED_IN = """
SELECT DISTINCT data->>'manager_id' AS manager_id
FROM events
WHERE type = 'certification_granted'
  AND data->>'program' = ANY($1::text[])
  AND data->>'manager_id' = ANY($2::text[])
"""
"""The index on (type, position) keeps this to the grants; only the page's managers asked."""


class _Names(msgspec.Struct):
    """The members of an event's data that decide its scope (every other member ignored)."""

    program: str | None = None
    programs: list[str] | None = None
    manager_id: str | None = None


_names = msgspec.json.Decoder(_Names)


def names(data: bytes) -> _Names:
    try:
        return _names.decode(data)
    except msgspec.ValidationError:  # a member of another type: decide by nothing, so private
        return _Names()


async def certified_managers(
    conn: asyncpg.Connection, programs: Collection[str], manager_ids: Iterable[str]
) -> set[str]:
    """Those of `manager_ids` ever certified in one of `programs`."""
    rows = await conn.fetch(_CERTIFIED_IN, list(programs), sorted(set(manager_ids)))
    return {row["manager_id"] for row in rows}


def inside(event: _Names, programs: Collection[str], certified: Collection[str]) -> bool:
    """The rule of the module docstring, for one event's names."""
    if event.program is not None:
        return event.program in programs
    if event.programs is not None:
        return any(p in programs for p in event.programs)
    return event.manager_id is not None and event.manager_id in certified
