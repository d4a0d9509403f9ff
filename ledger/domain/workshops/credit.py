"""A workshop's credit: derived at its close, per attendee and category (SPEC 11).

For each attendee, one CompletionRecorded per category with the CEUs of the sessions attended
there (partial credit), naming those sessions, `completed_on` the day the attendee's last
attended session ended (the same day for every category: the repeat and same-day rules treat
them as one completion split by category), `external_id` `{activity_id}:{category}`.

`derive_credit` compares that with what the attendee's record already holds of it, and
records only the difference: nothing when they agree (closing twice), a CompletionAmended
when a category's CEUs, day or sessions changed (attendance recorded or corrected after the
close), a CompletionRecorded for a category newly earned, a CompletionVoided for a category
no session counts for any more.  The attendee's open claims on the activity are fulfilled by
the credit.  It is a decision on the attendee's stream; the close itself (WorkshopClosed) is
one on the workshop's, so a close interrupted between the two is finished by closing again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.catalog import CompletionAmended, CompletionRecorded, CompletionVoided, Event
from ledger.domain.errors import WrongState
from ledger.domain.managers import require_manager
from ledger.domain.workshops.claims import fulfilled_claims
from ledger.domain.workshops.presence import credit_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from decimal import Decimal
    from uuid import UUID

    from ledger.domain.catalogue import Activity
    from ledger.domain.record import Completion, ManagerRecord
    from ledger.domain.workshops.agenda import Workshop
    from ledger.domain.workshops.presence import CategoryCredit

__all__ = ["AMENDED", "VOIDED", "derive_credit", "derived_completions", "external_id"]

AMENDED = "attendance changed after the close"
VOIDED = "no attended session of this category any more"


def external_id(activity_id: str, category: str) -> str:
    return f"{activity_id}:{category}"


def derived_completions(record: ManagerRecord, activity: Activity) -> dict[str, Completion]:
    """The workshop's credit the record holds (not voided), by category."""
    return {
        c.category: c
        for c in record.completions.values()
        if c.activity_id == activity.activity_id
        and c.provider_id == activity.provider_id
        and c.external_id == external_id(activity.activity_id, c.category)
        and not c.voided
    }


def _recorded(
    record: ManagerRecord, activity: Activity, part: CategoryCredit, on: date, cid: UUID
) -> CompletionRecorded:
    return CompletionRecorded(
        completion_id=cid,
        manager_id=record.manager_id,
        provider_id=activity.provider_id,
        external_id=external_id(activity.activity_id, part.category),
        activity_id=activity.activity_id,
        activity_title=activity.title,
        category=part.category,
        programs=activity.programs,
        completed_on=on,
        ceus=part.ceus,
        sessions=part.sessions,
    )


def _amended(manager_id: str, held: Completion, part: CategoryCredit, on: date) -> list[Event]:
    ceus: Decimal | None = None if held.ceus == part.ceus else part.ceus
    day = None if held.completed_on == on else on
    sessions = None if held.sessions == part.sessions else part.sessions
    if (ceus, day, sessions) == (None, None, None):
        return []
    return [
        CompletionAmended(
            completion_id=held.completion_id,
            manager_id=manager_id,
            reason=AMENDED,
            ceus=ceus,
            completed_on=day,
            sessions=sessions,
        )
    ]


def derive_credit(
    record: ManagerRecord | None,
    manager_id: str,
    workshop: Workshop,
    activity: Activity,
    share: Decimal,
    *,
    new_id: Callable[[], UUID],
) -> list[Event]:
    """The events that make `manager_id`'s record hold exactly the credit of the closed
    `workshop` (sessions attended at `share`, `min_presence`); [] when it already does."""
    record = require_manager(record, manager_id)
    if workshop.closed_at is None:
        raise WrongState(f"workshop {workshop.activity_id} is not closed: no credit yet")
    credit = credit_of(workshop, manager_id, share)
    held = derived_completions(record, activity)
    events: list[Event] = []
    for part in credit.categories:
        assert credit.completed_on is not None  # a category has an attended session
        if (mine := held.pop(part.category, None)) is None:
            events.append(_recorded(record, activity, part, credit.completed_on, new_id()))
        else:
            events += _amended(manager_id, mine, part, credit.completed_on)
    events += [
        CompletionVoided(completion_id=c.completion_id, manager_id=manager_id, reason=VOIDED)
        for _, c in sorted(held.items())
    ]
    recorded = [e for e in events if isinstance(e, CompletionRecorded)]
    return events + (fulfilled_claims(record, recorded[0]) if recorded else [])
