"""Completions: recording one, and its corrections (void, amend) within the correction
window.  Their fold is ledger/domain/record.py; how they count, ledger/domain/history.py."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from events.catalog import CompletionAmended, CompletionRecorded, CompletionVoided, Event
from ledger.domain.cycles import rules_in_force
from ledger.domain.errors import (
    AlreadyRecorded,
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
    from collections.abc import Mapping
    from datetime import date
    from decimal import Decimal
    from uuid import UUID

    from ledger.domain.catalogue import Activity, Program
    from ledger.domain.record import Completion, ManagerRecord

__all__ = ["amend_completion", "correction_closes", "record_completion", "void_completion"]


def _ceus_errors(activity: Activity, ceus: Decimal) -> list[FieldError]:
    if (why := valid_ceus(ceus)) is not None:
        return [FieldError("ceus", why)]
    if ceus > activity.ceus:
        return [FieldError("ceus", f"more than the activity's {activity.ceus}")]
    return []


def _date_errors(activity: Activity, completed_on: date, today: date) -> list[FieldError]:
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
    return errors + ([] if completed_on is None else _date_errors(activity, completed_on, today))


def _same_day(
    record: ManagerRecord, activity_id: str, completed_on: date, completion_id: UUID
) -> Completion | None:
    """A completion (not voided) of the same activity on the same day, under another id."""
    return next(
        (
            c
            for c in record.completions.values()
            if (c.activity_id, c.completed_on) == (activity_id, completed_on)
            and not c.voided
            and c.completion_id != completion_id
        ),
        None,
    )


def record_completion(
    record: ManagerRecord | None,
    activity: Activity | None,
    *,
    provider_id: str,
    manager_id: str,
    activity_id: str,
    external_id: str,
    completion_id: UUID,
    completed_on: date,
    ceus: Decimal,
    today: date,
) -> list[Event]:
    if activity is None:
        raise NotFound("activity", activity_id)
    if activity.provider_id != provider_id:
        raise NotAllowed(f"activity {activity_id} belongs to another provider")
    record = require_manager(record, manager_id)
    if errors := _completion_errors(activity, ceus, completed_on, today):
        raise Invalid(errors)
    if (earlier := _same_day(record, activity_id, completed_on, completion_id)) is not None:
        raise AlreadyRecorded(earlier.completion_id, earlier.external_id)
    return [
        CompletionRecorded(
            completion_id=completion_id,
            manager_id=record.manager_id,
            provider_id=provider_id,
            external_id=external_id,
            activity_id=activity_id,
            activity_title=activity.title,
            category=activity.category,
            programs=activity.programs,
            completed_on=completed_on,
            ceus=ceus,
        )
    ]


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
