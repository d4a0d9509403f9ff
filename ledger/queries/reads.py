"""The read side: every answer the API and the web pages give, as the views they return.

* One manager, now: the loader's current record (a snapshot plus the stream's tail, the same
  load the writes use), so a client that just posted sees its posting without waiting.
* One manager, as of a day or as known at an instant: the loader folds the whole stream.
* Across managers (register, due list, audits, the managers list, a provider's postings):
  wait until the `ceu` projection has caught up with the log's head as it was when the
  request arrived, then query it.
Programs, providers and activities come from the catalogue, folded once per process.
Numbers are computed by the domain's pure functions only (`assess`, `transcript`, ...).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING

from events.postgres.reads import fetch_head
from ledger.access.policy import WHOLE, ManagerScope
from ledger.commands.loaders import find_audit, find_completion
from ledger.domain.assess import Assessment, assess
from ledger.domain.errors import NotFound
from ledger.domain.reports import cycle_reports, transcript
from ledger.domain.workshops.presence import SessionReason
from ledger.queries.views import (
    AuditView,
    CertificationStatus,
    CompletionView,
    CycleView,
    DueView,
    ExplainView,
    ManagerList,
    PostingsPage,
    ProfileView,
    ProgramView,
    ProviderView,
    Recorded,
    StandingView,
    StatusView,
)
from ledger.queries.workshops import session_reasons
from projections import ceu_queries
from projections.engine import peek_checkpoint

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date, datetime
    from uuid import UUID

    import asyncpg

    from events.connections import Conn
    from events.store import AppendResult, EventStore
    from ledger.commands.loaders import Catalogue, ManagerLoader
    from ledger.domain.catalogue import Activity, Program
    from ledger.domain.record import ManagerRecord
    from ledger.domain.reports import CycleReport, TranscriptLine
    from projections.ceu_queries import RegisterRow

__all__ = ["Current", "ProjectionBehind", "Reads"]

_ASSESSED = 10_000
"""Managers whose current assessments are kept (as many as the loader's snapshots)."""


def _aware(instant: datetime | None) -> datetime | None:
    """An instant without a time zone is taken as UTC, the ledger's clock."""
    if instant is None or instant.tzinfo is not None:
        return instant
    return instant.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Current:
    """A manager's record now (None: no such manager), read by the caller in this request."""

    manager_id: str
    record: ManagerRecord | None


class ProjectionBehind(Exception):
    """The read model did not catch up in time (the projector is down or far behind)."""


class Reads:
    def __init__(
        self,
        store: EventStore,
        managers: ManagerLoader,
        catalogue: Catalogue,
        pool: asyncpg.Pool,
        clock: Callable[[], datetime],
        *,
        catch_up_timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.managers = managers
        self.catalogue = catalogue
        self.pool = pool
        self.clock = clock
        self.catch_up_timeout = catch_up_timeout
        self._assessed: OrderedDict[str, tuple[tuple[int, date, int], tuple[Assessment, ...]]]
        self._assessed = OrderedDict()
        """manager_id: (record version, day, programs version), its assessments (LRU)."""
        self.assessed = 0
        """Certifications assessed (for tests and the benchmark: a memoised answer adds none)."""

    def today(self) -> date:
        return self.clock().date()

    # -- one manager ---------------------------------------------------------------------

    async def record(
        self, manager_id: str, *, as_of: date | None = None, known_at: datetime | None = None
    ) -> ManagerRecord:
        record = await self.managers.at(manager_id, as_of=as_of, known_at=_aware(known_at))
        if record is None:
            raise NotFound("manager", manager_id)
        return record

    async def assessments(
        self, manager_id: str, *, as_of: date | None = None, known_at: datetime | None = None,
        current: Current | None = None,
    ) -> tuple[date, list[Assessment]]:  # fmt: skip
        """The day judged, and every certification's assessment on it.

        Now (no `as_of`, no `known_at`), the answer is memoised per manager under what it
        depends on: the record's stream version, the day, and the programs' version.  `assess`
        is pure and the record at a version is always the same fold, so an unchanged record is
        not assessed again; any new event, a new day or a rules change is a new key.
        `current`, if given, is the record now, read by the caller in this request (GET
        status reads it with the token: ledger/http/authn.py); it counts only without `as_of`
        and `known_at`."""
        if current is not None and as_of is None and known_at is None:
            if current.record is None:
                raise NotFound("manager", manager_id)
            record = current.record
        else:
            record = await self.record(manager_id, as_of=as_of, known_at=known_at)
        programs = await self.catalogue.programs(known_at=_aware(known_at))
        day = as_of or self.today()
        now = as_of is None and known_at is None
        key = (record.version, day, self.catalogue.programs_version)
        if now and (kept := self._assessed.get(manager_id)) is not None and kept[0] == key:
            self._assessed.move_to_end(manager_id)
            return day, list(kept[1])
        completions = list(record.completions.values())
        self.assessed += len(record.certifications)
        found = tuple(
            assess(
                cert,
                completions,
                programs[code].versions,
                day,
                programs[code].approved_activities,
            )
            for code, cert in sorted(record.certifications.items())
        )
        if now:
            self._assessed[manager_id] = (key, found)
            self._assessed.move_to_end(manager_id)
            while len(self._assessed) > _ASSESSED:
                self._assessed.popitem(last=False)
        return day, list(found)

    async def status(
        self, manager_id: str, *, as_of: date | None = None, known_at: datetime | None = None,
        scope: ManagerScope = WHOLE, current: Current | None = None,
    ) -> StatusView:  # fmt: skip
        """Every certification `scope` sees (ledger/access/policy.py), assessed (`current`:
        see `assessments`)."""
        day, found = await self.assessments(
            manager_id, as_of=as_of, known_at=known_at, current=current
        )
        return StatusView(
            manager_id=manager_id,
            as_of=day,
            known_at=known_at,
            certifications=[CertificationStatus.of(a) for a in found if scope.program(a.program)],
        )

    async def explain(
        self, manager_id: str, program: str, *, as_of: date | None = None,
        known_at: datetime | None = None, scope: ManagerScope = WHOLE,
    ) -> ExplainView:  # fmt: skip
        """The allocation of every completion `scope` sees (a completion that counts only for
        a program outside it is left out, not explained as "program not covered")."""
        day, found = await self.assessments(manager_id, as_of=as_of, known_at=known_at)
        a = _held(found, manager_id, program)
        allocations = a.allocations
        record = await self.record(manager_id, as_of=as_of, known_at=known_at)
        if not scope.whole:
            seen = scope.record(record).completions
            allocations = tuple(x for x in allocations if x.completion_id in seen)
        shown = {x.completion_id for x in allocations}
        derived = [
            c for c in record.completions.values() if c.sessions and c.completion_id in shown
        ]
        told = await self._sessions(manager_id, [c.activity_id for c in derived], known_at)
        return ExplainView(
            manager_id=manager_id,
            program=program,
            as_of=day,
            known_at=known_at,
            cycle=CycleView.of(a),
            allocations=allocations,
            sessions={
                c.completion_id: told[c.activity_id] for c in derived if c.activity_id in told
            },
        )

    async def _sessions(
        self, manager_id: str, activity_ids: list[str], known_at: datetime | None
    ) -> dict[str, tuple[SessionReason, ...]]:
        """For a workshop's derived credit: the manager's sessions there, counted or why not."""
        if not activity_ids:
            return {}
        return await session_reasons(
            self.store, await self.catalogue.activities(),
            await self.catalogue.programs(known_at=_aware(known_at)), manager_id, activity_ids,
            known_at=_aware(known_at),
        )  # fmt: skip

    async def transcript(
        self, manager_id: str, program: str | None = None, *, as_of: date | None = None,
        known_at: datetime | None = None, scope: ManagerScope = WHOLE,
    ) -> list[TranscriptLine]:  # fmt: skip
        """Every completion `scope` sees, with its state for the certifications it sees."""
        record = scope.record(await self.record(manager_id, as_of=as_of, known_at=known_at))
        if program is not None and program not in record.certifications:
            raise NotFound(f"{program} certification for manager", manager_id)
        programs = await self.catalogue.programs(known_at=_aware(known_at))
        derived = [c.activity_id for c in record.completions.values() if c.sessions]
        told = await self._sessions(manager_id, derived, known_at)
        return transcript(record, programs, as_of or self.today(), program=program, sessions=told)

    async def cycles(
        self, manager_id: str, program: str, *, as_of: date | None = None,
        known_at: datetime | None = None, scope: ManagerScope = WHOLE,
    ) -> list[CycleReport]:  # fmt: skip
        record = scope.record(await self.record(manager_id, as_of=as_of, known_at=known_at))
        if program not in record.certifications:
            raise NotFound(f"{program} certification for manager", manager_id)
        known = await self.catalogue.program(program, known_at=_aware(known_at))
        return cycle_reports(record, known, as_of or self.today())

    async def standing(
        self, manager_id: str, program: str, reason: str, result: AppendResult
    ) -> StandingView:
        """A revocation or reinstatement just recorded, with the status it leaves."""
        _, found = await self.assessments(manager_id)
        a = _held(found, manager_id, program)
        return StandingView(
            manager_id=manager_id, program=program, status=a.status, reason=reason,
            **Recorded.place(result),
        )  # fmt: skip

    async def profile(self, manager_id: str, *, scope: ManagerScope = WHOLE) -> ProfileView:
        """The profile, with the certifications `scope` sees."""
        return ProfileView.of(scope.record(await self.record(manager_id)))

    async def completion(self, cid: UUID) -> CompletionView:
        found = await find_completion(self.store, cid)
        if found is None:
            raise NotFound("completion", cid)
        event, recorded = found
        completion = (await self.record(event.manager_id)).completions[cid]
        return CompletionView.of(event.manager_id, completion, recorded.position)

    # -- the catalogue -------------------------------------------------------------------

    async def programs(self) -> list[ProgramView]:
        return [ProgramView.of(p) for _, p in sorted((await self.catalogue.programs()).items())]

    async def program(self, code: str) -> Program:
        return await self.catalogue.program(code)

    async def providers(self) -> list[ProviderView]:
        providers = await self.catalogue.providers()
        return [ProviderView.of(p) for _, p in sorted(providers.items())]

    async def activities(
        self, *, program: str | None = None, category: str | None = None, q: str | None = None
    ) -> list[Activity]:
        needle = (q or "").casefold()
        return [
            a
            for _, a in sorted((await self.catalogue.activities()).items())
            if (program is None or program in a.programs)
            and (category is None or a.category == category)
            and (needle in a.activity_id.casefold() or needle in a.title.casefold())
        ]

    # -- across managers -----------------------------------------------------------------

    async def caught_up(self, conn: Conn, projection: str = "ceu") -> None:
        """Return once `projection` has processed every event committed before this call."""
        head = (await fetch_head(conn)).position
        delay = 0.002
        try:
            async with asyncio.timeout(self.catch_up_timeout):
                while (await peek_checkpoint(conn, projection)).position < head:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.1)
        except TimeoutError as exc:
            raise ProjectionBehind(projection) from exc

    async def register(
        self, code: str, *, state: str | None = None, cycle_ends_from: date | None = None,
        cycle_ends_to: date | None = None,
    ) -> list[RegisterRow]:  # fmt: skip
        await self.catalogue.program(code)
        async with self.pool.acquire() as conn:
            await self.caught_up(conn)
            return await ceu_queries.renewal_register(
                conn, code, state=state, cycle_ends_from=cycle_ends_from,
                cycle_ends_to=cycle_ends_to,
            )  # fmt: skip

    async def due(self, code: str, *, within_days: int) -> list[DueView]:
        program, today = await self.catalogue.program(code), self.today()
        async with self.pool.acquire() as conn:
            await self.caught_up(conn)
            due = await ceu_queries.due_certifications(
                conn, code, today=today, within_days=within_days
            )
        views = []
        for row in due:
            record = await self.record(row.manager_id)
            completions = list(record.completions.values())
            a = assess(
                record.certifications[code], completions, program.versions, today,
                program.approved_activities,
            )  # fmt: skip
            views.append(DueView.of(row.manager_id, a))
        return views

    async def audit(self, audit_id: UUID) -> AuditView:
        drawn = await find_audit(self.store, audit_id)
        async with self.pool.acquire() as conn:
            await self.caught_up(conn)
            findings = await ceu_queries.findings(conn, audit_id)
        return AuditView.of(drawn, tuple(findings))

    async def audits(self, code: str) -> list[AuditView]:
        """The program's audits with their findings, newest first."""
        async with self.pool.acquire() as conn:
            await self.caught_up(conn)
            drawn = await ceu_queries.audits(conn, code)
            found = [tuple(await ceu_queries.findings(conn, d.audit_id)) for d in drawn]
        return [AuditView.of(d, f) for d, f in zip(drawn, found, strict=True)]

    async def audit_population(self, code: str, filed_from: date, filed_to: date) -> list[UUID]:
        async with self.pool.acquire() as conn:
            await self.caught_up(conn)
            return await ceu_queries.audit_population(conn, code, filed_from, filed_to)

    async def managers_list(
        self, *, program: str | None, q: str | None, status: str | None, after: int, limit: int
    ) -> ManagerList:
        async with self.pool.acquire() as conn:
            await self.caught_up(conn)
            rows = await ceu_queries.managers(
                conn, program=program, q=q, status=status, today=self.today(), after=after,
                limit=limit + 1,
            )  # fmt: skip
        page = rows[:limit]
        more = len(rows) > limit
        return ManagerList(managers=page, next_after=page[-1].enrolled_position if more else None)

    async def postings(
        self, provider_id: str, *, manager_id: str | None, after: int, limit: int
    ) -> PostingsPage:
        async with self.pool.acquire() as conn:
            await self.caught_up(conn)
            rows = await ceu_queries.postings(
                conn, provider_id, manager_id=manager_id, after=after, limit=limit + 1
            )
        page = rows[:limit]
        return PostingsPage(
            completions=page, next_after=page[-1].position if len(rows) > limit else None
        )


def _held(found: list[Assessment], manager_id: str, program: str) -> Assessment:
    assessment = next((a for a in found if a.program == program), None)
    if assessment is None:
        raise NotFound(f"{program} certification for manager", manager_id)
    return assessment
