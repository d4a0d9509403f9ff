"""The scope policy (ledger/access/policy.py) at work on the API's requests and the event feed.

The policy decides; this module gathers what it decides from (the programs a manager holds,
the programs a completion counts for) and turns "no" into a 403.

The feed's rule.  An auditor holds programs P.  An event is inside its scope when
  1. it names a manager (`manager_id`: everything in a manager's stream does) whom the auditor
     sees (`ManagerScope.any`: the manager holds, or held, one of P), and
     a. it names a program (certifications, fees, renewals, decisions, standing, findings):
        that program is one of P; or
     b. it is about a completion (`programs`, or a `completion_id` whose recording names
        them): the completion's activity counts for a program of P that the manager holds; or
     c. it names neither (the enrolment, a profile change): the manager is in scope;
  2. it names no manager and
     a. names a program (a program's definition and rules, an audit draw): one of P; or
     b. names programs (providers, activities: the public catalogue): one of them is in P.
Anything else is outside, so a new kind of event is private until a rule says otherwise.  An
event outside keeps its position, stream, version, type, time and hashes (so an auditor can
still see that positions are dense and that each `prev_hash` is the hash before it), and loses
`data` and `metadata`.  A manager's CMM fee is therefore hidden from a CMOM auditor even when
the manager also holds CMOM; and a CMM-only manager's completions stay hidden from it even when
the activity also counts for CMOM.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from uuid import UUID

import msgspec

from events.connections import Conn
from ledger.access.errors import Forbidden
from ledger.access.policy import Caller, ManagerScope, scope_of

__all__ = [
    "held_programs",
    "inside",
    "names",
    "require_program",
]

_HELD = """
SELECT DISTINCT data->>'manager_id' AS manager_id, data->>'program' AS program
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
    completion_id: UUID | None = None


_names = msgspec.json.Decoder(_Names)


def names(data: bytes) -> _Names:
    try:
        return _names.decode(data)
    except msgspec.ValidationError:  # a member of another type: decide by nothing, so private
        return _Names()


async def held_programs(
    conn: Conn, programs: Collection[str], manager_ids: Iterable[str]
) -> dict[str, set[str]]:
    """Of `programs`, those each of `manager_ids` holds or ever held (absent: none)."""
    held: dict[str, set[str]] = {}
    for row in await conn.fetch(_HELD, list(programs), sorted(set(manager_ids))):
        held.setdefault(row["manager_id"], set()).add(row["program"])
    return held


def inside(
    event: _Names,
    caller: Caller,
    held: Mapping[str, Collection[str]],
    counts: Mapping[UUID, Collection[str]],
) -> bool:
    """The rule of the module docstring, for one event's names; `held`: the programs of the
    caller each manager holds; `counts`: the programs each corrected completion counts for."""
    if event.manager_id is not None:
        scope = scope_of(caller, event.manager_id, held.get(event.manager_id, ()))
        if event.program is not None:
            return scope.program(event.program)
        if event.programs is not None:
            return scope.completion(event.programs)
        if event.completion_id is not None:
            return scope.completion(counts.get(event.completion_id, ()))
        return scope.any
    if event.program is not None:
        return event.program in caller.programs
    if event.programs is not None:
        return any(p in caller.programs for p in event.programs)
    return False


def require_program(scope: ManagerScope, caller: Caller, program: str | None) -> None:
    """403 when the caller asks for a program of the manager outside its view.  A program it
    audits but the manager does not hold is left to the read (a 404, as for the manager)."""
    if program is not None and not scope.program(program) and program not in caller.programs:
        raise Forbidden(f"outside your programs: {program}")
