"""`claims`: claims as rows, and each provider's timeliness (SPEC 11), from the log alone.

* A claim's row is written when it is filed (AttendanceClaimed) and updated when it is
  fulfilled or disputed.  Its `programs` (the activity's) and `overdue_on` (the shortest
  `claim_window_days` of those programs in force on the day it was filed, by the domain's
  `overdue_day`) are fixed then: a rule version takes effect today or later, so every
  version in force on the filing day is already in the log before the filing.
* Timeliness is a histogram: for each program, provider and number of days between a
  completion's `completed_on` and its posting (the UTC day it was recorded), how many
  postings.  A posting adds one to each of its programs' counts; the median of a provider is
  read off its counts (projections/claims_queries.py), whatever the number of postings.
* What it needs of the catalogue (activities' programs, programs' rule versions) it keeps in
  its own tables, from the same log: a rebuild reads nothing of another projection.

Every row depends only on the events folded so far, applied in log order inside the engine's
batch transaction (projections/engine.py): a batch killed midway leaves nothing, and a
rebuild gives the same rows as the projector that followed the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from events.catalog import (
    ActivityRegistered,
    AttendanceClaimed,
    ClaimDisputed,
    ClaimFulfilled,
    CompletionRecorded,
    ProgramDefined,
    ProgramRulesRevised,
)
from events.codec import decode
from events.timeouts import WORKER_STATEMENT_TIMEOUT
from ledger.domain.catalogue import Program, evolve_program
from ledger.domain.workshops.claims import overdue_day

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    import asyncpg

    from events.store import RecordedEvent

__all__ = ["ClaimsProjection"]

_encode = msgspec.json.Encoder(decimal_format="string").encode
_decode_program = msgspec.json.Decoder(Program).decode
_TIMEOUT = WORKER_STATEMENT_TIMEOUT

_CLAIM_COLUMNS = (
    "claim_id", "manager_id", "activity_id", "provider_id", "programs", "completed_on", "note",
    "filed_at", "overdue_on", "state", "decided_at", "completion_id", "reason", "position",
)  # fmt: skip


class _Batch:
    """What one batch changes, gathered in log order, written by `_save`."""

    def __init__(self, programs: dict[str, Program], activities: dict[str, list[str]]) -> None:
        self.programs = programs
        self.activities = activities
        self.changed_programs: set[str] = set()
        self.new_activities: list[tuple[str, str, list[str], str]] = []
        self.filed: dict[UUID, list[Any]] = {}
        """Claims filed in this batch: their rows, as `_CLAIM_COLUMNS`."""
        self.decided: dict[UUID, tuple[str, Any, UUID | None, str]] = {}
        """Claims of earlier batches decided in this one: (state, at, completion, reason)."""
        self.postings: dict[tuple[str, str, int], int] = {}

    def apply(self, event: object, recorded: RecordedEvent) -> None:
        match event:
            case ProgramDefined() | ProgramRulesRevised():
                self.programs[event.program] = evolve_program(
                    self.programs.get(event.program), event
                )
                self.changed_programs.add(event.program)
            case ActivityRegistered(activity_id=aid, provider_id=pid, programs=programs):
                self.activities[aid] = list(programs)
                self.new_activities.append((aid, pid, list(programs), event.title))
            case AttendanceClaimed():
                self._filed(event, recorded)
            case ClaimFulfilled(claim_id=cid, completion_id=completion_id):
                self._decide(cid, ("fulfilled", recorded.recorded_at, completion_id, ""))
            case ClaimDisputed(claim_id=cid, reason=reason):
                self._decide(cid, ("disputed", recorded.recorded_at, None, reason))
            case CompletionRecorded(provider_id=pid, completed_on=on, programs=programs):
                days = (recorded.recorded_at.date() - on).days
                for code in sorted(set(programs)):
                    key = (code, pid, days)
                    self.postings[key] = self.postings.get(key, 0) + 1

    def _filed(self, event: AttendanceClaimed, recorded: RecordedEvent) -> None:
        programs = self.activities.get(event.activity_id, [])
        filed_on = recorded.recorded_at.date()
        self.filed[event.claim_id] = [
            event.claim_id, event.manager_id, event.activity_id, event.provider_id, programs,
            event.completed_on, event.note, recorded.recorded_at,
            overdue_day(filed_on, programs, self.programs), "open", None, None, "",
            recorded.position,
        ]  # fmt: skip

    def _decide(self, claim_id: UUID, decision: tuple[str, Any, UUID | None, str]) -> None:
        row = self.filed.get(claim_id)
        if row is None:
            self.decided[claim_id] = decision
        else:
            row[9], row[10], row[11], row[12] = decision


class ClaimsProjection:
    name = "claims"
    handles: frozenset[str] | None = frozenset(
        {
            "program_defined",
            "program_rules_revised",
            "activity_registered",
            "attendance_claimed",
            "claim_fulfilled",
            "claim_disputed",
            "completion_recorded",
        }
    )
    tables: tuple[str, ...] = (
        "claims",
        "provider_timeliness",
        "claim_activities",
        "claim_programs",
    )
    """Not `association_notices`: like the notices' outbox, a record of what was told, kept
    through a rebuild (the reminder scheduler finds each again and adds nothing)."""

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        decoded = [(decode(r), r) for r in events]
        claimed = sorted({e.activity_id for e, _ in decoded if isinstance(e, AttendanceClaimed)})
        batch = _Batch(await _programs(conn), await _activities(conn, claimed))
        for event, recorded in decoded:
            batch.apply(event, recorded)
        await _save(conn, batch)


async def _programs(conn: asyncpg.Connection) -> dict[str, Program]:
    rows = await conn.fetch("SELECT code, program FROM claim_programs", timeout=_TIMEOUT)
    return {row[0]: _decode_program(row[1]) for row in rows}


async def _activities(conn: asyncpg.Connection, ids: list[str]) -> dict[str, list[str]]:
    rows = await conn.fetch(
        "SELECT activity_id, programs FROM claim_activities WHERE activity_id = ANY($1::text[])",
        ids,
        timeout=_TIMEOUT,
    )
    return {row[0]: list(row[1]) for row in rows}


async def _save(conn: asyncpg.Connection, batch: _Batch) -> None:
    if batch.changed_programs:
        await conn.executemany(
            "INSERT INTO claim_programs (code, program) VALUES ($1, $2)"
            " ON CONFLICT (code) DO UPDATE SET program = EXCLUDED.program",
            [(code, _encode(batch.programs[code])) for code in sorted(batch.changed_programs)],
            timeout=_TIMEOUT,
        )
    if batch.new_activities:
        await conn.executemany(
            "INSERT INTO claim_activities (activity_id, provider_id, programs, title)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (activity_id) DO NOTHING",
            batch.new_activities,
            timeout=_TIMEOUT,
        )
    if batch.filed:
        await conn.copy_records_to_table(
            "claims",
            records=[tuple(row) for row in batch.filed.values()],
            columns=_CLAIM_COLUMNS,
            timeout=_TIMEOUT,
        )
    if batch.decided:
        await conn.executemany(
            "UPDATE claims SET state = $2, decided_at = $3, completion_id = $4, reason = $5"
            " WHERE claim_id = $1",
            [(cid, *decision) for cid, decision in batch.decided.items()],
            timeout=_TIMEOUT,
        )
    if batch.postings:
        await conn.executemany(
            "INSERT INTO provider_timeliness (program, provider_id, days, postings)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (program, provider_id, days)"
            " DO UPDATE SET postings = provider_timeliness.postings + EXCLUDED.postings",
            [(*key, n) for key, n in sorted(batch.postings.items())],
            timeout=_TIMEOUT,
        )
