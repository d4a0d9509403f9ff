"""The state decisions and reads start from, loaded one way for writes and reads alike.

* `ManagerLoader.current` is a manager's record now: a snapshot kept in this process (the
  last record it folded), plus whatever the stream holds beyond the snapshot's version,
  folded with the same `evolve`.  One short indexed read per call, and it is exactly the fold
  of the whole stream, so a client always reads its own writes.  `ManagerLoader.at` folds
  the whole stream for bitemporal reads (`as_of` a day, `known_at` an instant); those are
  never cached.
* `Catalogue` holds programs, providers and activities, folded once per process and
  refreshed by position: each refresh reads only the catalogue events recorded after the
  last one it saw.  Activities and providers never change once registered, so a cached one
  is always right (a miss refreshes).  Programs: while the process follows the log's head
  (`follow`, fed by LISTEN on the store's types channel: ledger/infra/notify.py), a use
  refreshes only if a catalogue event beyond the last position checked has been announced
  (`saw`),
  so a quiet ledger's reads cost no query; this process's own catalogue writes announce
  their position directly, so it never reads its own catalogue writes stale.  Without a
  follower (or while it is reconnecting), every use refreshes, as a plain cache must.
  Approvals (ledger/domain/approvals.py) are catalogue facts too: each provider's and each
  activity's applications are folded here (`provider_approvals`, `activity_approvals`, read
  after a refresh: they change), and an activity approved for a program is added to that
  program's `approved_activities` (so `programs_version` moves, and `known_at` reads see
  only the approvals recorded by then).
* `find_*` look up one fact by its event id (completions, renewals and fees are identified
  by the event that records them).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import TYPE_CHECKING

from events.catalog import (
    ActivityApprovalDenied,
    ActivityApprovalRequested,
    ActivityApproved,
    ActivityRegistered,
    AttendanceClaimed,
    AuditSampleDrawn,
    CompletionRecorded,
    Event,
    FeePaid,
    ProgramDefined,
    ProgramRulesRevised,
    ProviderApprovalDenied,
    ProviderApprovalRequested,
    ProviderApproved,
    ProviderRegistered,
    RenewalFiled,
)
from events.codec import decode
from ledger.commands.streams import audit_stream, manager_stream
from ledger.domain.approvals import (
    ActivityApprovals,
    ProviderApprovals,
    evolve_activity_approvals,
    evolve_provider_approvals,
)
from ledger.domain.catalogue import evolve_activity, evolve_program, evolve_provider
from ledger.domain.errors import NotFound
from ledger.domain.record import evolve, fold

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date, datetime
    from uuid import UUID

    from events.store import AppendResult, EventStore, RecordedEvent
    from ledger.domain.catalogue import Activity, Program, Provider
    from ledger.domain.record import ManagerRecord

__all__ = [
    "Catalogue",
    "ManagerLoader",
    "find_audit",
    "find_claim",
    "find_completion",
    "find_completions",
    "find_fee",
    "find_renewal",
    "require_completion",
]


class ManagerLoader:
    def __init__(self, store: EventStore, *, capacity: int = 10_000) -> None:
        self._store = store
        self._capacity = capacity
        self._snapshots: OrderedDict[str, ManagerRecord] = OrderedDict()

    async def current(self, manager_id: str) -> tuple[ManagerRecord | None, int]:
        """The record with every event stored so far, and the stream's version."""
        record = self._snapshots.get(manager_id)
        after = 0 if record is None else record.version
        tail = await self._store.read_stream(manager_stream(manager_id), after_version=after)
        return self._advance(record, tail)

    async def current_many(
        self, manager_ids: Iterable[str]
    ) -> dict[str, tuple[ManagerRecord | None, int]]:
        """`current` for many managers, with one read of all their tails."""
        records = {m: self._snapshots.get(m) for m in manager_ids}
        tails = await self._store.read_streams(
            {manager_stream(m): 0 if r is None else r.version for m, r in records.items()}
        )
        return {m: self._advance(r, tails[manager_stream(m)]) for m, r in records.items()}

    def _advance(
        self, record: ManagerRecord | None, tail: list[RecordedEvent]
    ) -> tuple[ManagerRecord | None, int]:
        for recorded in tail:
            record = evolve(record, decode(recorded), recorded.recorded_at)
        if record is not None:
            self._keep(record)
        return record, 0 if record is None else record.version

    async def at(
        self, manager_id: str, *, as_of: date | None = None, known_at: datetime | None = None
    ) -> ManagerRecord | None:
        """The record as recorded by `known_at`, as it stood on `as_of` (record.happened_by)."""
        if as_of is None and known_at is None:
            return (await self.current(manager_id))[0]
        recorded = await self._store.read_stream(manager_stream(manager_id), known_at=known_at)
        return fold([(decode(r), r.recorded_at) for r in recorded], as_of)

    def advanced(
        self, record: ManagerRecord | None, tail: list[RecordedEvent]
    ) -> ManagerRecord | None:
        """`record` (what `kept` gave) with `tail`, the stream's events after its version
        (read after `kept` was asked), folded in and kept: the record `current` would have
        answered, for a caller that read the tail itself (ledger/http/authn.py reads it in
        the token's statement)."""
        return self._advance(record, tail)[0]

    def kept(self, manager_id: str) -> ManagerRecord | None:
        """The snapshot held of the manager, without reading anything: it may be behind the
        stream (another process's appends); a write decided on it states its version."""
        return self._snapshots.get(manager_id)

    def keep_appended(
        self, record: ManagerRecord | None, events: Iterable[Event], appended: AppendResult
    ) -> ManagerRecord | None:
        """`record`, the state `events` were decided on, with them folded in as stored (at
        the append's `recorded_at`): the fold of the stream now, kept as the snapshot (so the
        next load reads no tail) and returned.  None, and nothing kept, if that is not the
        stream at the append's version (`record` was not the state it was appended on)."""
        for event in events:
            record = evolve(record, event, appended.recorded_at)
        if record is None or record.version != appended.version:
            return None
        self._keep(record)
        return record

    def _keep(self, record: ManagerRecord) -> None:
        """Remember the newest record folded (concurrent loads may finish out of order)."""
        kept = self._snapshots.get(record.manager_id)
        if kept is None or kept.version < record.version:
            self._snapshots[record.manager_id] = record
        self._snapshots.move_to_end(record.manager_id)
        while len(self._snapshots) > self._capacity:
            self._snapshots.popitem(last=False)


_CATALOGUE_TYPES = frozenset(
    (
        "program_defined",
        "program_rules_revised",
        "provider_registered",
        "activity_registered",
        "provider_approval_requested",
        "provider_approved",
        "provider_approval_denied",
        "activity_approval_requested",
        "activity_approved",
        "activity_approval_denied",
    )
)


class Catalogue:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._position = 0
        self._checked = 0
        """Every catalogue event up to this position is folded."""
        self._announced = 0
        """The highest position known to be stored (NOTIFY, this process's writes)."""
        self._following = False
        self._lock = asyncio.Lock()
        self.heard = 0
        """The last position of the last append the follower told of, catalogue or not."""
        self.refreshes = 0
        """Reads of the store this catalogue made (for tests and the benchmark)."""
        self._program_events: list[
            tuple[ProgramDefined | ProgramRulesRevised | ActivityApproved, datetime]
        ] = []
        self._provider_approvals: dict[str, ProviderApprovals] = {}
        self._activity_approvals: dict[str, ActivityApprovals] = {}
        self._programs: dict[str, Program] = {}
        self._providers: dict[str, Provider] = {}
        self._activities: dict[str, Activity] = {}

    @property
    def programs_version(self) -> int:
        """How many program events are folded: `programs()` (as known now) changes only when
        this does (memo keys: ledger/queries/reads.py)."""
        return len(self._program_events)

    def follow(self, head: int) -> None:
        """The head is being followed from now on; `head` was read after LISTEN began."""
        self.saw(head)
        self._following = True

    def unfollow(self) -> None:
        """The follower lost its connection: refresh on every use until it is back."""
        self._following = False

    def saw(self, position: int) -> None:
        """An event at `position` is stored (a catalogue event, or maybe one)."""
        self._announced = max(self._announced, position)

    def stored(self, position: int, types: Iterable[str]) -> None:
        """An append up to `position` stored events of `types`: news only if one of them is
        a catalogue event."""
        self.heard = max(self.heard, position)
        if not _CATALOGUE_TYPES.isdisjoint(types):
            self.saw(position)

    def _current(self) -> bool:
        return self._following and self._announced <= self._checked

    async def refresh(self) -> None:
        """Fold the catalogue events recorded since the last refresh (unless, while
        following, nothing was stored since the last one)."""
        if self._current():
            return
        async with self._lock:
            if self._current():  # another caller refreshed while this one waited
                return
            # Stored (and announced) before the reads below began, so they are in their
            # snapshot: once they are done, the catalogue is complete up to here.
            announced = self._announced
            while True:
                self.refreshes += 1
                batch = await self._store.read_all(
                    after=self._position, limit=1000, types=sorted(_CATALOGUE_TYPES)
                )
                for recorded in batch:
                    self._apply(decode(recorded), recorded)
                if batch:
                    self._position = batch[-1].position
                if len(batch) < 1000:
                    break
            self._checked = max(self._checked, announced, self._position)

    def _apply(self, event: Event, recorded: RecordedEvent) -> None:
        match event:
            case ProgramDefined() | ProgramRulesRevised():
                self._program_events.append((event, recorded.recorded_at))
                old = self._programs.get(event.program)
                self._programs[event.program] = evolve_program(old, event)
            case ProviderRegistered(provider_id=pid):
                self._providers[pid] = evolve_provider(None, event)
                self._approve_provider(pid, event, recorded)
            case ActivityRegistered(activity_id=aid):
                self._activities[aid] = evolve_activity(None, event)
                self._approve_activity(aid, event, recorded)
            case ProviderApprovalRequested() | ProviderApproved() | ProviderApprovalDenied():
                self._approve_provider(event.provider_id, event, recorded)
            case ActivityApproved(program=code):
                self._program_events.append((event, recorded.recorded_at))
                self._programs[code] = evolve_program(self._programs[code], event)
                self._approve_activity(event.activity_id, event, recorded)
            case ActivityApprovalRequested() | ActivityApprovalDenied():
                self._approve_activity(event.activity_id, event, recorded)

    def _approve_provider(self, pid: str, event: Event, recorded: RecordedEvent) -> None:
        old = self._provider_approvals.get(pid)
        self._provider_approvals[pid] = evolve_provider_approvals(old, event, recorded.recorded_at)

    def _approve_activity(self, aid: str, event: Event, recorded: RecordedEvent) -> None:
        old = self._activity_approvals.get(aid)
        self._activity_approvals[aid] = evolve_activity_approvals(old, event, recorded.recorded_at)

    async def programs(self, *, known_at: datetime | None = None) -> dict[str, Program]:
        """Every program, as known now or at `known_at`."""
        await self.refresh()
        if known_at is None:
            return dict(self._programs)
        programs: dict[str, Program] = {}
        for event, recorded_at in self._program_events:
            if recorded_at <= known_at:
                programs[event.program] = evolve_program(programs.get(event.program), event)
        return programs

    async def program(self, code: str, *, known_at: datetime | None = None) -> Program:
        program = (await self.programs(known_at=known_at)).get(code)
        if program is None:
            raise NotFound("program", code)
        return program

    async def providers(self) -> dict[str, Provider]:
        await self.refresh()
        return dict(self._providers)

    async def provider(self, provider_id: str) -> Provider | None:
        if provider_id not in self._providers:
            await self._refresh_now()
        return self._providers.get(provider_id)

    async def provider_approvals(self) -> dict[str, ProviderApprovals]:
        """Every provider's applications for approval, as recorded so far."""
        await self.refresh()
        return dict(self._provider_approvals)

    async def activity_approvals(self) -> dict[str, ActivityApprovals]:
        """Every activity's applications for approval, as recorded so far."""
        await self.refresh()
        return dict(self._activity_approvals)

    async def activities(self) -> dict[str, Activity]:
        await self.refresh()
        return dict(self._activities)

    async def activity(self, activity_id: str) -> Activity | None:
        if activity_id not in self._activities:
            await self._refresh_now()
        return self._activities.get(activity_id)

    async def _refresh_now(self) -> None:
        """A miss: what is asked for may have been stored before its NOTIFY arrived."""
        self.saw(self._checked + 1)
        await self.refresh()


async def _found(store: EventStore, event_id: UUID) -> tuple[Event, RecordedEvent] | None:
    recorded = await store.find(event_id)
    return None if recorded is None else (decode(recorded), recorded)


async def find_completion(
    store: EventStore, cid: UUID
) -> tuple[CompletionRecorded, RecordedEvent] | None:
    """The fact that recorded a completion, and where it stands in the log."""
    found = await _found(store, cid)
    return found if found and isinstance(found[0], CompletionRecorded) else None  # type: ignore[return-value]


async def find_completions(
    store: EventStore, cids: Iterable[UUID]
) -> dict[UUID, tuple[CompletionRecorded, RecordedEvent]]:
    """`find_completion` for many ids, in one read; ids not recorded are absent."""
    found: dict[UUID, tuple[CompletionRecorded, RecordedEvent]] = {}
    for cid, recorded in (await store.find_many(cids)).items():
        if isinstance(event := decode(recorded), CompletionRecorded):
            found[cid] = (event, recorded)
    return found


async def require_completion(store: EventStore, cid: UUID) -> CompletionRecorded:
    found = await find_completion(store, cid)
    if found is None:
        raise NotFound("completion", cid)
    return found[0]


async def find_renewal(store: EventStore, renewal_id: UUID) -> RenewalFiled:
    """The filing (its id is the renewal's id)."""
    found = await _found(store, renewal_id)
    if found is None or not isinstance(found[0], RenewalFiled):
        raise NotFound("renewal", renewal_id)
    return found[0]


async def find_audit(store: EventStore, audit_id: UUID) -> AuditSampleDrawn:
    recorded = await store.read_stream(audit_stream(audit_id))
    event = decode(recorded[0]) if recorded else None
    if not isinstance(event, AuditSampleDrawn):
        raise NotFound("audit", audit_id)
    return event


async def find_fee(store: EventStore, fee_id: UUID) -> FeePaid:
    """The payment (its id is the fee's id)."""
    found = await _found(store, fee_id)
    if found is None or not isinstance(found[0], FeePaid):
        raise NotFound("fee", fee_id)
    return found[0]


async def find_claim(store: EventStore, claim_id: UUID) -> AttendanceClaimed:
    """The filing of a claim (its id is the claim's id)."""
    found = await _found(store, claim_id)
    if found is None or not isinstance(found[0], AttendanceClaimed):
        raise NotFound("claim", claim_id)
    return found[0]
