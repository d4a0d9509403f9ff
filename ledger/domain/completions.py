"""Completions: recording one, and its corrections (void, amend) within the correction
window.  Their fold is ledger/domain/record.py; how they count, ledger/domain/history.py."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from uuid import UUID

from events.catalog import (
    ClaimFulfilled,
    CompletionAmended,
    CompletionRecorded,
    CompletionVoided,
    Event,
)
from ledger.domain.cycles import rules_in_force
from ledger.domain.errors import (
    AlreadyRecorded,
    DomainError,
    FieldError,
    Invalid,
    NotAllowed,
    NotFound,
    WrongState,
    invalid,
)
from ledger.domain.managers import require_manager
from ledger.domain.values import valid_ceus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from ledger.domain.catalogue import Activity, Program
    from ledger.domain.record import Completion, ManagerRecord

__all__ = [
    "Line",
    "date_errors",
    "Posting",
    "amend_completion",
    "claims_fulfilled",
    "correction_closes",
    "fulfilled_claims",
    "record_completion",
    "record_completions",
    "void_completion",
]


def _ceus_errors(activity: Activity, ceus: Decimal) -> list[FieldError]:
    if (why := valid_ceus(ceus)) is not None:
        return [FieldError("ceus", why)]
    if ceus > activity.ceus:
        return [FieldError("ceus", f"more than the activity's {activity.ceus}")]
    return []


def date_errors(activity: Activity, completed_on: date, today: date) -> list[FieldError]:
    """Why `completed_on` cannot be a day of `activity` as of `today` (a posting's, a claim's)."""
    if completed_on > today:
        return [FieldError("completed_on", "must not be in the future")]
    if not activity.starts_on <= completed_on <= activity.ends_on:
        dates = f"{activity.starts_on}..{activity.ends_on}"
        return [FieldError("completed_on", f"outside the activity's dates {dates}")]
    return []


def _completion_errors(
    activity: Activity, ceus: Decimal | None, completed_on: date | None, today: date
) -> list[FieldError]:
    errors = [] if ceus is None else _ceus_errors(activity, ceus)
    return errors + ([] if completed_on is None else date_errors(activity, completed_on, today))


class Posting(Protocol):
    """A provider's posting as the rules read it: the PostCompletion message
    (ledger/commands/messages.py), whose fields the recorded event takes as they are."""

    __struct_fields__: ClassVar[tuple[str, ...]]

    @property
    def external_id(self) -> str: ...
    @property
    def manager_id(self) -> str: ...
    @property
    def activity_id(self) -> str: ...
    @property
    def completed_on(self) -> date: ...
    @property
    def ceus(self) -> Decimal: ...


Line = tuple[UUID, Posting]
"""One line of `record_completions`: a posting with the id of the completion it records."""


def _fields(posting: Posting) -> dict[str, Any]:
    """The posting's own fields, named once by its message: the event takes them as they are."""
    return {name: getattr(posting, name) for name in posting.__struct_fields__}


class _Days:
    """A record's completions (not voided) by (activity, day), in the record's order, for the
    (activity, day) pairs of `lines`: what the same-day rule looks up, found in one pass over
    the record for any number of lines."""

    def __init__(self, record: ManagerRecord, lines: Iterable[Line]) -> None:
        by: dict[tuple[str, date], list[tuple[UUID, str]]]
        by = {(posting.activity_id, posting.completed_on): [] for _, posting in lines}
        activities = {activity_id for activity_id, _ in by}
        for c in record.completions.values():
            if c.activity_id not in activities or c.voided:
                continue
            if (same := by.get((c.activity_id, c.completed_on))) is not None:
                same.append((c.completion_id, c.external_id))
        self._by = by

    def add(self, activity_id: str, day: date, completion_id: UUID, external_id: str) -> None:
        """A completion recorded: as in the record's fold, it replaces any held under its id."""
        for same in self._by.values():
            same[:] = [c for c in same if c[0] != completion_id]
        self._by.setdefault((activity_id, day), []).append((completion_id, external_id))

    def earlier(self, cid: UUID, posting: Posting) -> tuple[UUID, str] | None:
        """A completion of the posting's activity on its day, under another id than `cid`."""
        same = self._by.get((posting.activity_id, posting.completed_on), ())
        return next((c for c in same if c[0] != cid), None)


def record_completion(
    record: ManagerRecord | None,
    activity: Activity | None,
    posting: Posting,
    *,
    completion_id: UUID,
    provider_id: str,
    today: date,
) -> list[Event]:
    [outcome] = record_completions(
        record,
        [(completion_id, posting)],
        {posting.activity_id: activity},
        provider_id=provider_id,
        today=today,
    )
    if isinstance(outcome, DomainError):
        raise outcome
    assert record is not None  # a manager was found
    return [outcome, *fulfilled_claims(record, outcome)]


def fulfilled_claims(record: ManagerRecord, completion: CompletionRecorded) -> list[ClaimFulfilled]:
    """The manager's open claims on the completion's activity, fulfilled by it: recorded with
    the completion, in the same append (a posting, a roster's line, or a workshop's credit).
    A retry of the posting is decided on a record whose claims it already fulfilled: none."""
    return [
        ClaimFulfilled(
            claim_id=c.claim_id,
            manager_id=record.manager_id,
            completion_id=completion.completion_id,
        )
        for c in record.claims.values()
        if c.state == "open" and c.activity_id == completion.activity_id
    ]


def claims_fulfilled(record: ManagerRecord, recorded: Sequence[CompletionRecorded]) -> list[Event]:
    """`fulfilled_claims` for several completions recorded together (a roster's lines of one
    manager), in order: a claim is fulfilled by the first of them on its activity."""
    events: list[Event] = []
    done: set[UUID] = set()
    for completion in recorded:
        fresh = [e for e in fulfilled_claims(record, completion) if e.claim_id not in done]
        done.update(e.claim_id for e in fresh)
        events += fresh
    return events


def record_completions(
    record: ManagerRecord | None,
    lines: Iterable[Line],
    activities: Mapping[str, Activity | None],
    *,
    provider_id: str,
    today: date,
) -> list[CompletionRecorded | DomainError]:
    """`record_completion` for many lines of one manager, in order: each line is decided as
    if the lines accepted before it were recorded (so two lines of one activity on one day
    meet the same-day rule), and a line the rules refuse is answered with its error and
    takes nothing else with it.  `activities` holds every line's activity (None: unknown)."""
    lines = list(lines)
    days = None if record is None else _Days(record, lines)
    outcomes: list[CompletionRecorded | DomainError] = []
    for cid, posting in lines:
        activity = activities.get(posting.activity_id)
        try:
            event = _recorded(
                record, activity, cid, posting, provider_id=provider_id, today=today, days=days
            )
        except DomainError as refused:
            outcomes.append(refused)
            continue
        assert days is not None  # a manager was found
        days.add(posting.activity_id, posting.completed_on, cid, posting.external_id)
        outcomes.append(event)
    return outcomes


def _recorded(
    record: ManagerRecord | None,
    activity: Activity | None,
    cid: UUID,
    posting: Posting,
    *,
    provider_id: str,
    today: date,
    days: _Days | None,
) -> CompletionRecorded:
    if activity is None:
        raise NotFound("activity", posting.activity_id)
    if activity.provider_id != provider_id:
        raise NotAllowed(f"activity {posting.activity_id} belongs to another provider")
    require_manager(record, posting.manager_id)
    assert days is not None  # there is a record
    if errors := _completion_errors(activity, posting.ceus, posting.completed_on, today):
        raise Invalid(errors)
    if (earlier := days.earlier(cid, posting)) is not None:
        raise AlreadyRecorded(*earlier)
    return CompletionRecorded(
        **_fields(posting),
        completion_id=cid,
        provider_id=provider_id,
        activity_title=activity.title,
        category=activity.category,
        programs=activity.programs,
    )


def correction_closes(completion: Completion, programs: Mapping[str, Program], today: date) -> date:
    """The last day its provider may correct `completion`: the shortest correction window
    among the programs it counts for, from the day it was posted."""
    windows = [
        rules_in_force(programs[p].versions, today).correction_window_days
        for p in completion.programs
        if p in programs
    ]
    return completion.posted_at.date() + timedelta(days=min(windows, default=0))


def _correctable(
    record: ManagerRecord,
    completion_id: UUID,
    programs: Mapping[str, Program],
    *,
    provider_id: str | None,
    today: date,
) -> Completion:
    """The completion, if `provider_id` (None for an association or admin) may correct it today."""
    completion = record.completions.get(completion_id)
    if completion is None:
        raise NotFound("completion", completion_id)
    if completion.voided:
        raise WrongState(f"completion {completion_id} is voided")
    if provider_id is None:
        return completion
    if completion.provider_id != provider_id:
        raise NotAllowed("only the provider that posted a completion may correct it")
    if today > (closes := correction_closes(completion, programs, today)):
        raise NotAllowed(f"the correction window closed on {closes}; ask the association")
    return completion


def void_completion(
    record: ManagerRecord | None,
    manager_id: str,
    completion_id: UUID,
    programs: Mapping[str, Program],
    *,
    reason: str,
    provider_id: str | None,
    today: date,
) -> list[Event]:
    record = require_manager(record, manager_id)
    _correctable(record, completion_id, programs, provider_id=provider_id, today=today)
    if not reason.strip():
        raise invalid("reason", "must not be empty")
    return [
        CompletionVoided(completion_id=completion_id, manager_id=record.manager_id, reason=reason)
    ]


def amend_completion(
    record: ManagerRecord | None,
    manager_id: str,
    completion_id: UUID,
    programs: Mapping[str, Program],
    activity: Activity | None,
    *,
    reason: str,
    ceus: Decimal | None,
    completed_on: date | None,
    provider_id: str | None,
    today: date,
) -> list[Event]:
    record = require_manager(record, manager_id)
    _correctable(record, completion_id, programs, provider_id=provider_id, today=today)
    errors: list[FieldError] = []
    if not reason.strip():
        errors.append(FieldError("reason", "must not be empty"))
    if ceus is None and completed_on is None:
        errors.append(FieldError("ceus", "give ceus, completed_on or both"))
    if activity is not None:
        errors += _completion_errors(activity, ceus, completed_on, today)
    if errors:
        raise Invalid(errors)
    return [
        CompletionAmended(
            completion_id=completion_id,
            manager_id=record.manager_id,
            reason=reason,
            ceus=ceus,
            completed_on=completed_on,
        )
    ]
