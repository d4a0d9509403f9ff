"""`ceu`: the read models of the CEU domain, kept by the same pure folds the commands use.

For each batch: load the snapshots the batch touches (every program, and the managers it
names), fold the events into them with `evolve_program` / `evolve`, then write back what
changed and re-derive the rows that depend on it: a manager's certifications, renewals and
findings whenever their certifications or one of their programs changed.  Because every
derived row is recomputed from its current inputs whenever an input changes, the tables
depend only on the events folded so far, never on how they were batched: a rebuild gives
the same rows.

A manager's record is stored in two parts: the completions are rows of `ceu_postings` (one
per completion, written when it is recorded or corrected), the rest is the JSON document of
`ceu_managers`.  So a batch that records a completion writes that completion and the small
rest of the record, not every completion the manager ever had.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec.structs import replace

from events.catalog import (
    AuditSampleDrawn,
    CompletionAmended,
    CompletionRecorded,
    CompletionVoided,
    Event,
    ManagerEnrolled,
    ProgramDefined,
    ProgramRulesRevised,
    SelfReportAccepted,
    SelfReported,
    SelfReportRejected,
)
from events.codec import decode
from events.timeouts import WORKER_STATEMENT_TIMEOUT
from ledger.domain.catalogue import Program, evolve_program
from ledger.domain.cycles import cycles, open_cycle
from ledger.domain.record import Change, Completion, ManagerRecord, Renewal, evolve

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from uuid import UUID

    import asyncpg

    from events.catalog import Rules
    from events.connections import Conn
    from events.store import RecordedEvent
    from ledger.domain.cycles import Cycle
    from ledger.domain.record import Certification

__all__ = ["CeuProjection", "decode_program", "decode_record", "load_records"]

_encode = msgspec.json.Encoder(decimal_format="string").encode
decode_record = msgspec.json.Decoder(ManagerRecord).decode
"""A row of `ceu_managers`: the record without its completions (those are `ceu_postings`)."""
decode_program = msgspec.json.Decoder(Program).decode
_decode_programs = msgspec.json.Decoder(tuple[str, ...]).decode
_decode_history = msgspec.json.Decoder(tuple[Change, ...]).decode
_SKIPPED = frozenset(
    {
        "provider_registered",
        "activity_registered",
        "sessions_scheduled",
        "attendance_recorded",
        "attendance_corrected",
        "workshop_closed",
        "provider_approval_requested",
        "provider_approved",
        "provider_approval_denied",
        "activity_approval_requested",
        "activity_approved",
        "activity_approval_denied",
    }
)
"""Providers, activities, their approvals and workshops are read from their own streams;
nothing here needs them (a workshop's attendance names a manager, but is not in the manager's
stream: its credit is, as completions)."""

_TIMEOUT = WORKER_STATEMENT_TIMEOUT
"""Every statement here is bounded, whatever connection it is given: a connection that dies
mid-write must end the batch with an error, not leave `executemany` waiting forever."""


class _Batch:
    def __init__(self, programs: dict[str, Program], managers: dict[str, ManagerRecord]) -> None:
        self.programs = programs
        self.before = managers
        """The records as the batch found them."""
        self.managers: dict[str, ManagerRecord] = dict(managers)
        self.changed_programs: set[str] = set()
        self.changed_managers: set[str] = set()
        self.audits: list[tuple[AuditSampleDrawn, RecordedEvent]] = []
        self.enrolled: dict[str, int] = {}
        """Managers enrolled in this batch, with the position of their enrolment."""
        self.postings: dict[UUID, tuple[str, int]] = {}
        """Completions recorded or corrected in this batch: (manager, position recorded)."""
        self.reports: dict[UUID, tuple[str, int]] = {}
        """Self-reports reported or decided in this batch: (manager, position reported)."""

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
            case SelfReported(report_id=rid, manager_id=manager_id):
                self.reports[rid] = (manager_id, recorded.position)
            case SelfReportAccepted(report_id=rid, manager_id=manager_id):
                self.postings[rid] = (manager_id, recorded.position)  # a completion now
                self.reports.setdefault(rid, (manager_id, 0))
            case SelfReportRejected(report_id=rid, manager_id=manager_id):
                self.reports.setdefault(rid, (manager_id, 0))
        manager_id = event.manager_id  # type: ignore[attr-defined]
        self.managers[manager_id] = evolve(
            self.managers.get(manager_id), event, recorded.recorded_at
        )
        self.changed_managers.add(manager_id)

    def recertified(self) -> set[str]:
        """Changed managers whose certifications changed: the only input of their derived
        rows besides the programs.  The fold keeps the very same `certifications` mapping
        through every event that does not touch one (completions, profile changes), so an
        identity test is enough; a false "changed" would only cost a rewrite of equal rows."""
        changed = set()
        for manager_id in self.changed_managers:
            certifications = self.managers[manager_id].certifications
            before = self.before.get(manager_id)
            if certifications and (before is None or before.certifications is not certifications):
                changed.add(manager_id)
        return changed


class CeuProjection:
    name = "ceu"
    handles: frozenset[str] | None = None
    """Every type: nearly every event is one this projection folds, and reading the log
    whole costs the database a third of what reading it type by type does; the few it does
    not need are skipped below, before decoding."""
    tables: tuple[str, ...] = (
        "ceu_programs",
        "ceu_managers",
        "ceu_certifications",
        "ceu_renewals",
        "ceu_audits",
        "ceu_findings",
        "ceu_manager_index",
        "ceu_postings",
        "ceu_self_reports",
    )

    def __init__(self) -> None:
        self._records = _Records()

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        decoded = [(decode(r), r) for r in events if r.type not in _SKIPPED]
        if not decoded:
            return
        named = sorted({m for e, _ in decoded if (m := getattr(e, "manager_id", None)) is not None})
        heads = await self._records.load(conn, named)
        batch = _Batch(await _programs(conn), await _with_corrected(conn, heads, decoded))
        for event, recorded in decoded:
            batch.apply(event, recorded)
        await _save(conn, batch)
        self._records.keep(_head(batch.managers[m]) for m in batch.changed_managers)


class _Records:
    """The heads of the managers' records this runner last folded (without completions, so
    a few hundred bytes each), so that a batch reads from the table only the heads another
    process (or a rolled-back batch) changed.  A kept head is used only while the table
    holds it at the same stream version: the version is the count of the stream's events
    folded, and a stream never changes, so equal versions mean equal records, whatever the
    cache saw of transactions that did not commit."""

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


def _head(record: ManagerRecord) -> ManagerRecord:
    """The record without its completions: what `ceu_managers` holds of it."""
    return replace(record, completions={})


async def _with_corrected(
    conn: asyncpg.Connection,
    heads: dict[str, ManagerRecord],
    decoded: list[tuple[Event, RecordedEvent]],
) -> dict[str, ManagerRecord]:
    """The heads, each with the completions the batch corrects but did not record: all the
    fold reads of a record's completions (`evolve` adds or replaces one completion by its
    id and looks up only the one it corrects), so the rest need not be loaded."""
    recorded = {e.completion_id for e, _ in decoded if isinstance(e, CompletionRecorded)}
    corrected = {
        e.completion_id
        for e, _ in decoded
        if isinstance(e, (CompletionAmended, CompletionVoided)) and e.completion_id not in recorded
    }
    if not corrected:
        return heads
    found = await _completions(conn, "completion_id = ANY($1::uuid[])", sorted(corrected))
    return {m: replace(r, completions=found[m]) if m in found else r for m, r in heads.items()}


async def load_records(conn: Conn, ids: list[str]) -> dict[str, ManagerRecord]:
    """The managers' records as the read model holds them, completions included."""
    heads = await _heads(conn, ids)
    found = await _completions(conn, "manager_id = ANY($1::text[])", list(heads))
    return {m: replace(r, completions=found.get(m, {})) for m, r in heads.items()}


_COMPLETIONS = """
SELECT manager_id, completion_id, provider_id, external_id, activity_id, activity_title,
       category, programs, completed_on, ceus, recorded_at, voided, amended, history, sessions,
       self_report_id
FROM ceu_postings WHERE {} ORDER BY position
"""


async def _completions(conn: Conn, where: str, arg: list[Any]) -> dict[str, dict[UUID, Completion]]:
    """Completions from their rows of `ceu_postings`, by manager, in the order posted."""
    found: dict[str, dict[UUID, Completion]] = {}
    for row in await conn.fetch(_COMPLETIONS.format(where), arg, timeout=_TIMEOUT):
        found.setdefault(row[0], {})[row[1]] = Completion(
            completion_id=row[1], provider_id=row[2], external_id=row[3], activity_id=row[4],
            activity_title=row[5], category=row[6], programs=_decode_programs(row[7]),
            completed_on=row[8], ceus=row[9], posted_at=row[10], voided=row[11],
            amended=row[12], history=_decode_history(row[13]),
            sessions=_decode_programs(row[14]), self_report_id=row[15],
        )  # fmt: skip
    return found


async def _programs(conn: Conn) -> dict[str, Program]:
    return {
        row[0]: decode_program(row[1])
        for row in await conn.fetch("SELECT code, program FROM ceu_programs", timeout=_TIMEOUT)
    }


async def _heads(conn: Conn, ids: list[str]) -> dict[str, ManagerRecord]:
    """The managers' rows: their records without completions."""
    rows = await conn.fetch(
        "SELECT manager_id, record FROM ceu_managers WHERE manager_id = ANY($1::text[])",
        ids,
        timeout=_TIMEOUT,
    )
    return {row[0]: decode_record(row[1]) for row in rows}


async def _save(conn: asyncpg.Connection, batch: _Batch) -> None:
    if batch.changed_programs:
        await conn.executemany(
            "INSERT INTO ceu_programs (code, program) VALUES ($1, $2)"
            " ON CONFLICT (code) DO UPDATE SET program = EXCLUDED.program",
            [(code, _encode(batch.programs[code])) for code in sorted(batch.changed_programs)],
            timeout=_TIMEOUT,
        )
    records = {m: batch.managers[m] for m in sorted(batch.changed_managers)}
    heads = [(m, r.version, _encode(_head(r))) for m, r in records.items()]
    await _copy(
        conn, "ceu_managers", _MANAGER_COLUMNS, [h for h in heads if h[0] not in batch.before]
    )
    updated = [h for h in heads if h[0] in batch.before]
    if updated:
        await conn.executemany(
            "UPDATE ceu_managers SET version = $2, record = $3 WHERE manager_id = $1",
            updated,
            timeout=_TIMEOUT,
        )
    # Managers whose derived rows may have changed: those whose certifications changed here,
    # and every holder of a program whose rules changed (a revision can move the deadline of
    # a future cycle); their derived rows need only the certifications, not the completions.
    derived = {m: records[m] for m in batch.recertified()}
    if batch.changed_programs:
        rows = await conn.fetch(
            "SELECT DISTINCT manager_id FROM ceu_certifications WHERE program = ANY($1::text[])",
            sorted(batch.changed_programs),
            timeout=_TIMEOUT,
        )
        holders = [row[0] for row in rows]
        derived |= {m: records[m] for m in holders if m in records}
        derived |= await _heads(conn, [m for m in holders if m not in records])
    if derived:
        await _derive(conn, sorted(derived), derived, batch.programs)
    await _index(conn, batch, records)
    if batch.audits:
        await conn.executemany(
            "INSERT INTO ceu_audits (audit_id, program, drawn_at, drawn) VALUES ($1, $2, $3, $4)",
            [(d.audit_id, d.program, r.recorded_at, r.data) for d, r in batch.audits],
            timeout=_TIMEOUT,
        )


_MANAGER_COLUMNS = ("manager_id", "version", "record")
_POSTING_COLUMNS = (
    "completion_id", "provider_id", "external_id", "manager_id", "activity_id", "activity_title",
    "completed_on", "ceus", "position", "recorded_at", "voided", "amended", "category",
    "programs", "history", "sessions", "self_report_id",
)  # fmt: skip


async def _copy(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: list[tuple[object, ...]]
) -> None:
    """Insert rows that cannot be there yet (a manager's first record, a completion's first
    posting) by binary COPY: one round trip, and the least work for both sides."""
    if rows:
        await conn.copy_records_to_table(table, records=rows, columns=columns, timeout=_TIMEOUT)


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
    for statement, rows in (
        ("INSERT INTO ceu_certifications VALUES ($1, $2, $3, $4, $5, $6, $7)", certs),
        (
            "INSERT INTO ceu_renewals"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
            " $17)",
            renewals,
        ),
        ("INSERT INTO ceu_findings VALUES ($1, $2, $3, $4, $5, $6)", findings),
    ):
        if rows:
            await conn.executemany(statement, rows, timeout=_TIMEOUT)


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
            *_by_source(r),
        )


def _by_source(renewal: Renewal) -> tuple[Decimal, Decimal, Decimal]:
    """The renewal's counted CEUs from approved activities, providers and the manager."""
    found = dict.fromkeys(("approved", "provider", "self"), Decimal(0))
    for c in renewal.completions:
        found[c.source] += c.ceus
    return found["approved"], found["provider"], found["self"]


async def _index(
    conn: asyncpg.Connection, batch: _Batch, records: dict[str, ManagerRecord]
) -> None:
    """The managers list and the providers' postings (each completion's row, which is also
    the record's completion), from the records just folded."""
    await _copy(
        conn,
        "ceu_manager_index",
        ("manager_id", "enrolled_position", "name", "email"),
        [(m, p, records[m].name, records[m].email) for m, p in sorted(batch.enrolled.items())],
    )
    renamed = [
        (m, r.name, r.email)
        for m, r in records.items()
        if m not in batch.enrolled
        and (r.name, r.email) != (batch.before[m].name, batch.before[m].email)
    ]
    if renamed:
        await conn.executemany(
            "UPDATE ceu_manager_index SET name = $2, email = $3 WHERE manager_id = $1",
            renamed,
            timeout=_TIMEOUT,
        )
    rows = []
    for cid, (manager_id, position) in batch.postings.items():
        c = records[manager_id].completions[cid]
        rows.append(
            (cid, c.provider_id, c.external_id, manager_id, c.activity_id, c.activity_title,
             c.completed_on, c.ceus, position, c.posted_at, c.voided, c.amended, c.category,
             _encode(c.programs), _encode(c.history), _encode(c.sessions), c.self_report_id)
        )  # fmt: skip
    # Recorded in this batch: new rows.  Only corrected here: the row of an earlier batch.
    await _copy(conn, "ceu_postings", _POSTING_COLUMNS, [r for r in rows if r[8]])
    corrected = [(r[0], r[6], r[7], r[10], r[11], r[14], r[15]) for r in rows if not r[8]]
    if corrected:
        await conn.executemany(
            "UPDATE ceu_postings SET completed_on = $2, ceus = $3, voided = $4, amended = $5,"
            " history = $6, sessions = $7 WHERE completion_id = $1",
            corrected,
            timeout=_TIMEOUT,
        )
    await _reports(conn, batch, records)


async def _reports(
    conn: asyncpg.Connection, batch: _Batch, records: dict[str, ManagerRecord]
) -> None:
    """The review queues: each self-report reported or decided in this batch, as its record
    holds it now (a decided one keeps the position it was reported at)."""
    rows = []
    for rid, (manager_id, position) in batch.reports.items():
        report = records[manager_id].self_reports[rid]
        rows.append((rid, manager_id, list(report.programs), report.state, position,
                     _encode(report)))  # fmt: skip
    if rows:
        await conn.executemany(
            "INSERT INTO ceu_self_reports (report_id, manager_id, programs, state, position,"
            " report) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report_id) DO UPDATE"
            " SET state = EXCLUDED.state, report = EXCLUDED.report",
            rows,
            timeout=_TIMEOUT,
        )
