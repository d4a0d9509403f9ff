"""Check-in at a workshop's door (SPEC 11): a signed-in manager scans the kiosk's code, and the
scan is recorded as the manager's attendance at the code's session, method `kiosk`.

`at_the_door` is what a scan would record (the page shows it before anything is recorded);
`scan` records it: the decision of ledger/domain/workshops/door.py on the workshop as it is,
then `record_attendance`, which decides again on the whole stream as it writes (a second scan
racing the first is then the same check-in, Unchanged, or a different one, refused).  The
attendance is the provider's to correct, as a roster's is; the scan itself is the manager's
act, so its event's actor is the manager.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from events.catalog import Session
from events.codec import decode
from ledger.commands import workshops
from ledger.commands.messages import RecordAttendance
from ledger.commands.streams import workshop_stream
from ledger.domain.catalogue import Activity
from ledger.domain.errors import NotFound
from ledger.domain.workshops.agenda import fold_workshop
from ledger.domain.workshops.door import DoorCode, DoorStep, door_step

if TYPE_CHECKING:
    from datetime import datetime

    from ledger.commands.base import Context, Ledger

__all__ = ["AtTheDoor", "at_the_door", "scan"]


class AtTheDoor(msgspec.Struct, frozen=True, kw_only=True):
    activity: Activity
    session: Session
    step: DoorStep


async def at_the_door(ledger: Ledger, code: DoorCode, manager_id: str, now: datetime) -> AtTheDoor:
    """What `manager_id`'s scan of `code` at `now` would record; else why not (nothing is
    recorded here)."""
    activity = await ledger.catalogue.activity(code.activity_id)
    recorded = await ledger.store.read_stream(workshop_stream(code.activity_id))
    workshop = fold_workshop((decode(r), r.recorded_at) for r in recorded)
    if activity is None or workshop is None:
        raise NotFound("workshop", code.activity_id)
    step = door_step(workshop, code, manager_id, now)
    session = workshop.session(code.session_id)
    assert session is not None, "door_step refuses a session not on the agenda"
    return AtTheDoor(activity=activity, session=session, step=step)


async def scan(ledger: Ledger, ctx: Context, code: DoorCode, manager_id: str) -> AtTheDoor:
    """Record `manager_id`'s scan of `code` now: their check-in, or their check-out."""
    door = await at_the_door(ledger, code, manager_id, ledger.clock())
    given = RecordAttendance(
        manager_id=manager_id,
        session_id=code.session_id,
        checked_in_at=door.step.checked_in_at,
        checked_out_at=door.step.checked_out_at,
        method="kiosk",
    )
    await workshops.record_attendance(
        ledger, ctx, door.activity.provider_id, code.activity_id, given
    )
    return door
