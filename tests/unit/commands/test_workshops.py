"""The workshop commands on the in-memory store: the agenda, attendance, the close."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec
import pytest

from events.catalog import (
    ActivityRegistered,
    AttendanceRecorded,
    ClaimFulfilled,
    CompletionAmended,
    CompletionRecorded,
)
from events.codec import Actor, encode
from events.memory import InMemoryEventStore
from ledger.commands import Context, Ledger, catalogue, claims, managers, workshops
from ledger.commands.messages import (
    AgendaSession,
    CorrectAttendance,
    EnrollManager,
    FileClaim,
    GrantCertification,
    RecordAttendance,
    RegisterProvider,
)
from ledger.commands.streams import manager_stream, workshop_stream
from ledger.domain.errors import Invalid, NotFound, Unchanged, WrongState
from ledger.domain.workshops.attendance import AttendanceConflict
from tests.builders import SteppingClock
from tests.unit.domain.workshop_given import AGENDA, at

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="r-1")
PROVIDER = Context(actor=Actor(role="provider", id="tma"), request_id="r-2")
SESSIONS = [
    AgendaSession(
        session_id=s.session_id, title=s.title, starts_at=s.starts_at, ends_at=s.ends_at,
        ceus=s.ceus, category=s.category,
    )
    for s in AGENDA
]  # fmt: skip


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime(2025, 4, 1, 15, tzinfo=UTC))


@pytest.fixture
async def ledger(clock) -> Ledger:
    ledger = Ledger(InMemoryEventStore(clock=clock), clock=clock)
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await catalogue.register_provider(
        ledger,
        ADMIN,
        RegisterProvider(
            provider_id="tma", name="Texas Medical Association", programs=["CMM", "CMOM"]
        ),
    )
    await catalogue.register_activity(
        ledger,
        PROVIDER,
        ActivityRegistered(
            provider_id="tma", activity_id="tma-billing", title="Billing and coding update",
            format="workshop", ceus=Decimal(12), category="core", programs=("CMM", "CMOM"),
            starts_on=date(2025, 5, 1), ends_on=date(2025, 5, 2),
        ),
    )  # fmt: skip
    for manager_id in ("m-1", "m-2"):
        await managers.enroll_manager(
            ledger,
            ADMIN,
            EnrollManager(manager_id=manager_id, name="Pat Doe", email="pat@example.org"),
        )
        await managers.grant_certification(
            ledger,
            ADMIN,
            manager_id,
            GrantCertification(program="CMM", certified_on=date(2024, 3, 15)),
        )
    return ledger


def _attend(session_id: str, checked_in_at, checked_out_at, manager_id: str = "m-1"):
    return RecordAttendance(
        manager_id=manager_id, session_id=session_id, checked_in_at=checked_in_at,
        checked_out_at=checked_out_at,
    )  # fmt: skip


async def _record(ledger: Ledger, *args, **kwargs) -> workshops.Attended:
    given = _attend(*args, **kwargs)
    return await workshops.record_attendance(ledger, PROVIDER, "tma", "tma-billing", given)


async def _schedule(ledger: Ledger, sessions=SESSIONS):
    return await workshops.schedule_sessions(ledger, PROVIDER, "tma", "tma-billing", sessions)


async def _close(ledger: Ledger) -> workshops.Closed:
    return await workshops.close_workshop(ledger, PROVIDER, "tma", "tma-billing")


async def _credit(ledger: Ledger, manager_id: str = "m-1") -> dict[str, tuple[Decimal, tuple]]:
    record, _ = await ledger.managers.current(manager_id)
    assert record is not None
    return {c.category: (c.ceus, c.sessions) for c in record.completions.values() if not c.voided}


async def test_the_agenda_is_recorded_on_the_workshops_stream(ledger):
    result = await _schedule(ledger)

    assert result is not None
    assert result.stream_id == workshop_stream("tma-billing")
    [stored] = await ledger.store.read_stream("workshop-tma-billing")
    assert stored.type == "sessions_scheduled"


async def test_the_same_agenda_again_records_nothing(ledger):
    await _schedule(ledger)

    assert await _schedule(ledger) is None
    assert len(await ledger.store.read_stream("workshop-tma-billing")) == 1


async def test_an_agenda_the_rules_refuse_records_nothing(ledger):
    with pytest.raises(Invalid):
        await _schedule(ledger, SESSIONS * 2)
    with pytest.raises(NotFound):
        await workshops.schedule_sessions(ledger, PROVIDER, "tma", "nope", SESSIONS)

    assert await ledger.store.read_stream("workshop-tma-billing") == []


async def test_attendance_is_recorded_once_and_a_retry_answers_the_same(ledger):
    await _schedule(ledger)

    first = await _record(ledger, "s-1", at(1, 9), at(1, 10, 30))
    again = await _record(ledger, "s-1", at(1, 9), at(1, 10, 30))

    assert (first.created, again.created) == (True, False)
    assert len(await ledger.store.read_stream("workshop-tma-billing")) == 2
    with pytest.raises(AttendanceConflict):
        await _record(ledger, "s-1", at(1, 9), at(1, 10))


async def test_attendance_of_a_manager_not_enrolled_is_refused(ledger):
    await _schedule(ledger)

    with pytest.raises(NotFound, match="no manager m-9"):
        await _record(ledger, "s-1", at(1, 9), at(1, 10), "m-9")


async def test_a_changed_agenda_is_refused_once_its_session_has_attendance(ledger):
    await _schedule(ledger)
    await _record(ledger, "s-1", at(1, 9), at(1, 10, 30))

    with pytest.raises(WrongState):
        await _schedule(ledger, SESSIONS[1:])


async def test_the_close_derives_each_attendees_credit_and_closing_again_nothing(ledger, clock):
    await _schedule(ledger)
    for given in (
        _attend("s-1", at(1, 9), at(1, 10, 30)),
        _attend("s-3", at(1, 13), at(1, 15)),
        _attend("s-4", at(2, 9), at(2, 12), "m-2"),
    ):
        await workshops.record_attendance(ledger, PROVIDER, "tma", "tma-billing", given)
    clock.now = datetime(2025, 5, 3, 15, tzinfo=UTC)

    closed = await _close(ledger)
    again = await _close(ledger)

    assert closed.created
    assert {m: len(events) for m, events in closed.derived.items()} == {"m-1": 2, "m-2": 1}
    assert await _credit(ledger, "m-1") == {
        "core": (Decimal("1.5"), ("s-1",)),
        "general": (Decimal(2), ("s-3",)),
    }
    assert await _credit(ledger, "m-2") == {"core": (Decimal(3), ("s-4",))}
    assert (again.created, again.derived) == (False, {"m-1": (), "m-2": ()})


async def test_attendance_after_the_close_derives_the_difference(ledger, clock):
    await _schedule(ledger)
    await _record(ledger, "s-1", at(1, 9), at(1, 10, 30))
    clock.now = datetime(2025, 5, 3, 15, tzinfo=UTC)
    [recorded] = (await _close(ledger)).derived["m-1"]

    late = await _record(ledger, "s-4", at(2, 9), at(2, 12))

    assert isinstance(recorded, CompletionRecorded)
    [amended] = late.derived
    assert isinstance(amended, CompletionAmended)
    assert (amended.completion_id, amended.ceus) == (recorded.completion_id, Decimal("4.5"))
    assert await _credit(ledger) == {"core": (Decimal("4.5"), ("s-1", "s-4"))}


# -- a roster, and a correction (issue 18's routes) ---------------------------------------------


async def _roster(ledger: Ledger, *given: RecordAttendance) -> workshops.Roster:
    return await workshops.record_roster(ledger, PROVIDER, "tma", "tma-billing", given)


async def test_a_roster_is_one_append_with_an_outcome_per_line(ledger):
    await _schedule(ledger)
    version = len(await ledger.store.read_stream(workshop_stream("tma-billing")))

    roster = await _roster(
        ledger,
        _attend("s-1", at(1, 9), at(1, 10, 30)),
        _attend("s-1", at(1, 9), at(1, 10, 30), "m-404"),
        _attend("s-3", at(1, 13), at(1, 15), "m-2"),
    )

    assert roster.appended is not None
    assert (roster.appended.first_position + 1, roster.appended.version) == (
        roster.appended.last_position,
        version + 2,
    )
    assert [type(o).__name__ for o in roster.outcomes] == [
        "AttendanceRecorded", "NotFound", "AttendanceRecorded",
    ]  # fmt: skip


async def test_a_roster_retried_after_the_close_derives_what_a_crash_left_underived(ledger, clock):
    """The roster's attendance was appended after the close, and the process died before the
    attendee's credit was derived (simulated: the same line appended alone, no derivation):
    the same roster again records no attendance and derives the credit."""
    await _schedule(ledger)
    await _record(ledger, "s-1", at(1, 9), at(1, 10, 30))
    clock.now = datetime(2025, 5, 3, 15, tzinfo=UTC)
    await _close(ledger)
    late = _attend("s-4", at(2, 9), at(2, 12))
    stored = await ledger.store.read_stream(workshop_stream("tma-billing"))
    event = AttendanceRecorded(activity_id="tma-billing", **msgspec.structs.asdict(late))
    await ledger.store.append(
        workshop_stream("tma-billing"),
        [encode(event, metadata=PROVIDER, event_id=uuid.uuid4())],
        expected_version=stored[-1].version,
    )
    assert await _credit(ledger) == {"core": (Decimal("1.5"), ("s-1",))}

    retried = await _roster(ledger, late)

    assert retried.appended is None
    assert isinstance(retried.outcomes[0], Unchanged)
    assert [type(e).__name__ for e in retried.derived["m-1"]] == ["CompletionAmended"]
    assert await _credit(ledger) == {"core": (Decimal("4.5"), ("s-1", "s-4"))}


async def test_a_correction_after_the_close_derives_the_difference(ledger, clock):
    await _schedule(ledger)
    await _record(ledger, "s-3", at(1, 13), at(1, 13, 20))
    clock.now = datetime(2025, 5, 3, 15, tzinfo=UTC)
    await _close(ledger)
    assert await _credit(ledger) == {}
    correction = CorrectAttendance(reason="left at 15:00", checked_out_at=at(1, 15))

    corrected = await workshops.correct_attendance(
        ledger, PROVIDER, "tma", "tma-billing", "m-1", "s-3", correction
    )
    again = await workshops.correct_attendance(
        ledger, PROVIDER, "tma", "tma-billing", "m-1", "s-3", correction
    )

    assert corrected.created
    assert [type(e).__name__ for e in corrected.derived] == ["CompletionRecorded"]
    assert (again.created, again.derived) == (False, ())
    assert await _credit(ledger) == {"general": (Decimal(2), ("s-3",))}


async def test_the_close_fulfils_an_attendees_claim_in_the_same_append_and_once(ledger, clock):
    clock.now = datetime(2025, 5, 2, 18, tzinfo=UTC)
    filed, _ = await claims.file_claim(
        ledger, ADMIN, "m-1",
        FileClaim(activity_id="tma-billing", completed_on=date(2025, 5, 1), note="I was there"),
    )  # fmt: skip
    await _schedule(ledger)
    await _record(ledger, "s-1", at(1, 9), at(1, 10, 30))
    clock.now = datetime(2025, 5, 3, 15, tzinfo=UTC)

    [recorded, fulfilled] = (await _close(ledger)).derived["m-1"]
    await _close(ledger)

    assert fulfilled == ClaimFulfilled(
        claim_id=filed.claim_id, manager_id="m-1", completion_id=recorded.completion_id
    )
    stream = await ledger.store.read_stream(manager_stream("m-1"))
    appended = [r for r in stream if r.type in ("completion_recorded", "claim_fulfilled")]
    assert [r.type for r in appended] == ["completion_recorded", "claim_fulfilled"]
    assert appended[1].position == appended[0].position + 1
    assert appended[1].recorded_at == appended[0].recorded_at
