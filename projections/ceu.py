"""`ceu`: the read models of the CEU domain, kept by the same pure folds the commands use.

For each batch: load the snapshots the batch touches (every program, and the managers it
names), fold the events into them with `evolve_program` / `evolve`, then write back the
snapshots and re-derive the rows that depend on them: a manager's certifications, renewals
and findings whenever the manager or one of their programs changed.  Because every derived
row is recomputed from its current inputs whenever an input changes, the tables depend only
on the events folded so far, never on how they were batched: a rebuild gives the same rows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import msgspec

from events.catalog import (
    AuditSampleDrawn,
    CompletionAmended,
    CompletionRecorded,
    CompletionVoided,
    Event,
    ManagerEnrolled,
    ProgramDefined,
    ProgramRulesRevised,
)
from events.codec import EVENT_TYPES, decode
from ledger.domain.catalogue import Program, evolve_program
from ledger.domain.cycles import cycles, open_cycle
from ledger.domain.record import ManagerRecord, evolve
from projections.engine import COMMAND_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from uuid import UUID

    import asyncpg

    from events.catalog import Rules
    from events.store import RecordedEvent
    from ledger.domain.cycles import Cycle
    from ledger.domain.record import Certification

__all__ = ["CeuProjection", "decode_program", "decode_record"]

_encode = msgspec.json.Encoder(decimal_format="string").encode
decode_record = msgspec.json.Decoder(ManagerRecord).decode
decode_program = msgspec.json.Decoder(Program).decode

_TIMEOUT = COMMAND_TIMEOUT
"""Every statement here is bounded, whatever connection it is given: a connection that dies
mid-write must end the batch with an error, not leave `executemany` waiting forever."""


class _Batch:
    def __init__(self, programs: dict[str, Program], managers: dict[str, ManagerRecord]) -> None:
        self.programs = programs
        self.managers: dict[str, ManagerRecord | None] = dict(managers)
        self.changed_programs: set[str] = set()
        self.changed_managers: set[str] = set()
        self.audits: list[tuple[AuditSampleDrawn, RecordedEvent]] = []
        self.enrolled: dict[str, int] = {}
        """Managers enrolled in this batch, with the position of their enrolment."""
        self.postings: dict[UUID, tuple[str, int]] = {}
        """Completions recorded or corrected in this batch: (manager, position recorded)."""

    def apply(self, event: Event, recorded: RecordedEvent) -> None:
        match event:
            case ProgramDefined() | ProgramRulesRevised():
                self.programs[event.program] = evolve_program(
                    self.programs.get(event.program), event
                )
                self.changed_programs.add(event.program)
                return
            case AuditSampleDrawn():
                self.audits.append((event, recorded))
                return
            case ManagerEnrolled(manager_id=manager_id):
                self.enrolled[manager_id] = recorded.position
            case CompletionRecorded(completion_id=cid, manager_id=manager_id):
                self.postings[cid] = (manager_id, recorded.position)
            case (
                CompletionAmended(completion_id=cid, manager_id=manager_id)
                | CompletionVoided(completion_id=cid, manager_id=manager_id)
            ):
                self.postings.setdefault(cid, (manager_id, 0))
        manager_id = event.manager_id  # type: ignore[attr-defined]
        self.managers[manager_id] = evolve(
            self.managers.get(manager_id), event, recorded.recorded_at
        )
        self.changed_managers.add(manager_id)


class CeuProjection:
    name = "ceu"
    # Providers and activities are read from their own streams; nothing here needs them.
    handles: frozenset[str] | None = frozenset(EVENT_TYPES) - {
        "provider_registered",
        "activity_registered",
    }
    tables = (
        "ceu_programs",
        "ceu_managers",
        "ceu_certifications",
        "ceu_renewals",
        "ceu_audits",
        "ceu_findings",
        "ceu_manager_index",
        "ceu_postings",
    )

    def __init__(self) -> None:
        self._records = _Records()

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        decoded = [(decode(recorded), recorded) for recorded in events]
        named = sorted({m for e, _ in decoded if (m := getattr(e, "manager_id", None)) is not None})
        batch = _Batch(await _programs(conn), await self._records.load(conn, named))
        for event, recorded in decoded:
            batch.apply(event, recorded)
        await _save(conn, batch)
        self._records.keep(r for r in batch.managers.values() if r is not None)


class _Records:
    """The managers' records this runner last folded, so that a batch decodes from the table
    only the records another process (or a rolled-back batch) changed.  A kept record is used
    only while the table holds it at the same stream version: the version is the count of
    the stream's events folded, and a stream never changes, so equal versions mean equal
    records, whatever the cache saw of transactions that did not commit."""

    _CAPACITY = 20_000

    def __init__(self) -> None:
        self._kept: dict[str, ManagerRecord] = {}

    async def load(self, conn: asyncpg.Connection, ids: list[str]) -> dict[str, ManagerRecord]:
        kept = [self._kept[m] for m in ids if m in self._kept]
        rows = await conn.fetch(
            "SELECT m.manager_id, CASE WHEN k.version = m.version THEN NULL ELSE m.record END"
            " FROM ceu_managers m"
            " LEFT JOIN unnest($2::text[], $3::int[]) AS k (manager_id, version) USING (manager_id)"
            " WHERE m.manager_id = ANY($1::text[])",
            ids,
            [r.manager_id for r in kept],
            [r.version for r in kept],
            timeout=_TIMEOUT,
        )
        return {m: self._kept[m] if raw is None else decode_record(raw) for m, raw in rows}

    def keep(self, records: Iterable[ManagerRecord]) -> None:
        for record in records:
            self._kept.pop(record.manager_id, None)
            self._kept[record.manager_id] = record
        while len(self._kept) > self._CAPACITY:
            del self._kept[next(iter(self._kept))]


async def _programs(conn: asyncpg.Connection) -> dict[str, Program]:
    return {
        row[0]: decode_program(row[1])
        for row in await conn.fetch("SELECT code, program FROM ceu_programs", timeout=_TIMEOUT)
    }


async def _managers(conn: asyncpg.Connection, ids: list[str]) -> dict[str, ManagerRecord]:
    rows = await conn.fetch(
        "SELECT manager_id, record FROM ceu_managers WHERE manager_id = ANY($1::text[])",
        ids,
        timeout=_TIMEOUT,
    )
    return {row[0]: decode_record(row[1]) for row in rows}


async def _save(conn: asyncpg.Connection, batch: _Batch) -> None:
    await conn.executemany(
        "INSERT INTO ceu_programs (code, program) VALUES ($1, $2)"
        " ON CONFLICT (code) DO UPDATE SET program = EXCLUDED.program",
        [(code, _encode(batch.programs[code])) for code in sorted(batch.changed_programs)],
        timeout=_TIMEOUT,
    )
    records = {
        m: r for m, r in batch.managers.items() if m in batch.changed_managers and r is not None
    }
    await conn.executemany(
        "INSERT INTO ceu_managers (manager_id, version, record) VALUES ($1, $2, $3)"
        " ON CONFLICT (manager_id)"
        " DO UPDATE SET version = EXCLUDED.version, record = EXCLUDED.record",
        [(m, r.version, _encode(r)) for m, r in sorted(records.items())],
        timeout=_TIMEOUT,
    )
    # Managers whose derived rows may have changed: those folded here, and every holder of
    # a program whose rules changed (a revision can move the deadline of a future cycle).
    affected = set(records)
    if batch.changed_programs:
        rows = await conn.fetch(
            "SELECT DISTINCT manager_id FROM ceu_certifications WHERE program = ANY($1::text[])",
            sorted(batch.changed_programs),
            timeout=_TIMEOUT,
        )
        missing = [row[0] for row in rows if row[0] not in records]
        records |= await _managers(conn, missing)
        affected |= set(missing)
    await _derive(conn, sorted(affected), records, batch.programs)
    await _index(conn, batch, records)
    await conn.executemany(
        "INSERT INTO ceu_audits (audit_id, program, drawn_at, drawn) VALUES ($1, $2, $3, $4)",
        [(d.audit_id, d.program, r.recorded_at, r.data) for d, r in batch.audits],
        timeout=_TIMEOUT,
    )


async def _derive(
    conn: asyncpg.Connection,
    ids: list[str],
    records: dict[str, ManagerRecord],
    programs: dict[str, Program],
) -> None:
    for table in ("ceu_certifications", "ceu_renewals", "ceu_findings"):
        await conn.execute(
            f"DELETE FROM {table} WHERE manager_id = ANY($1::text[])", ids, timeout=_TIMEOUT
        )
    certs: list[tuple[object, ...]] = []
    renewals: list[tuple[object, ...]] = []
    findings: list[tuple[object, ...]] = []
    for manager_id in ids:
        record = records[manager_id]
        for cert in record.certifications.values():
            versions = programs[cert.program].versions
            cycle, deadline = open_cycle(cert, versions)
            grace_ends = deadline + timedelta(days=cycle.rules.grace_days)
            certs.append(
                (
                    manager_id,
                    cert.program,
                    cert.certified_on,
                    cycle.number,
                    deadline,
                    grace_ends,
                    cert.revoked,
                )
            )
            renewals += _renewal_rows(manager_id, cert, versions)
            findings += [
                (f.audit_id, r.renewal_id, manager_id, f.outcome, f.note, f.recorded_at)
                for r in cert.renewals
                for f in r.findings
            ]
    await conn.executemany(
        "INSERT INTO ceu_certifications VALUES ($1, $2, $3, $4, $5, $6, $7)",
        certs,
        timeout=_TIMEOUT,
    )
    await conn.executemany(
        "INSERT INTO ceu_renewals"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        renewals,
        timeout=_TIMEOUT,
    )
    await conn.executemany(
        "INSERT INTO ceu_findings VALUES ($1, $2, $3, $4, $5, $6)", findings, timeout=_TIMEOUT
    )


def _renewal_rows(
    manager_id: str, cert: Certification, versions: Sequence[Rules]
) -> Iterator[tuple[object, ...]]:
    by_number: dict[int, Cycle] = {}
    last = max((r.cycle for r in cert.renewals), default=0)
    for cycle in cycles(cert.certified_on, versions):
        if cycle.number > last:
            break
        by_number[cycle.number] = cycle
    for r in cert.renewals:
        cycle = by_number[r.cycle]
        yield (
            r.renewal_id,
            cert.program,
            manager_id,
            r.cycle,
            cycle.starts_on,
            cycle.ends_on,
            r.ceus,
            len(r.completions),
            r.fee_paid_cents,
            r.state,
            r.filed_at,
            r.decided_at,
            r.reason,
            r.findings[-1].outcome if r.findings else None,
        )


async def _index(
    conn: asyncpg.Connection, batch: _Batch, records: dict[str, ManagerRecord]
) -> None:
    """The managers list and the providers' postings, from the records just folded."""
    await conn.executemany(
        "INSERT INTO ceu_manager_index (manager_id, enrolled_position, name, email)"
        " VALUES ($1, $2, '', '')",
        sorted(batch.enrolled.items()),
        timeout=_TIMEOUT,
    )
    await conn.executemany(
        "UPDATE ceu_manager_index SET name = $2, email = $3 WHERE manager_id = $1",
        [(m, r.name, r.email) for m, r in sorted(records.items()) if m in batch.changed_managers],
        timeout=_TIMEOUT,
    )
    rows = []
    for cid, (manager_id, position) in batch.postings.items():
        c = records[manager_id].completions[cid]
        rows.append(
            (cid, c.provider_id, c.external_id, manager_id, c.activity_id, c.activity_title,
             c.completed_on, c.ceus, position, c.posted_at, c.voided, c.amended)
        )  # fmt: skip
    await conn.executemany(
        "INSERT INTO ceu_postings VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT (completion_id) DO UPDATE SET completed_on = EXCLUDED.completed_on,"
        " ceus = EXCLUDED.ceus, voided = EXCLUDED.voided, amended = EXCLUDED.amended",
        rows,
        timeout=_TIMEOUT,
    )
