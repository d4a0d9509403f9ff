"""Properties of a workshop's credit over random agendas and attendance."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from events.catalog import AttendanceRecorded, Session
from ledger.domain.workshops.agenda import fold_workshop
from ledger.domain.workshops.credit import derived_completions
from ledger.domain.workshops.presence import credit_of, presence
from tests.unit.domain.given import Manager
from tests.unit.domain.workshop_given import Stream

SHARE = Decimal("0.9")
AFTER = datetime(2025, 5, 3, 12, tzinfo=UTC)
"""After every generated session."""
offsets = st.sampled_from([timezone(timedelta(hours=-5)), timezone(timedelta(hours=-7)), UTC])


@st.composite
def agendas(draw) -> tuple[Session, ...]:
    """One to six sessions on May 1-2 2025 (often concurrent), at most 12 CEUs together."""
    sessions = []
    for i in range(draw(st.integers(1, 6))):
        starts_at = datetime(
            2025, 5, draw(st.integers(1, 2)), draw(st.integers(7, 16)),
            draw(st.sampled_from([0, 15, 30, 45])), tzinfo=draw(offsets),
        )  # fmt: skip
        sessions.append(
            Session(
                session_id=f"s-{i}",
                title=f"Session {i}",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=15 * draw(st.integers(2, 12))),
                ceus=draw(st.decimals(Decimal("0.25"), Decimal(2), places=2)),
                category=draw(st.sampled_from(["core", "general"])),
            )
        )
    return tuple(sessions)


@st.composite
def attendances(draw, sessions: tuple[Session, ...]) -> list[AttendanceRecorded]:
    found = []
    for session in sessions:
        if not draw(st.booleans()):
            continue
        checked_in_at = session.starts_at + timedelta(minutes=draw(st.integers(-15, 45)))
        minutes = draw(st.one_of(st.none(), st.integers(1, 200)))
        found.append(
            AttendanceRecorded(
                activity_id="tma-billing",
                session_id=session.session_id,
                manager_id="m-1",
                checked_in_at=checked_in_at,
                checked_out_at=None
                if minutes is None
                else checked_in_at + timedelta(minutes=minutes),
                method="roster",
            )
        )
    return found


@st.composite
def workshops(draw):
    sessions = draw(agendas())
    return sessions, draw(attendances(sessions))


def _stream(sessions, attended) -> Stream:
    stream = Stream()
    stream.schedule(*sessions)
    for a in attended:
        stream.attend(a.session_id, a.checked_in_at, a.checked_out_at)
    return stream


def _certified(on: date) -> Manager:
    return Manager().certified("CMM", on).certified("CMOM", on)


def _per_cycle(status) -> dict[int | None, Decimal]:
    sums: dict[int | None, Decimal] = defaultdict(Decimal)
    for a in status.allocations:
        sums[a.cycle] += a.ceus
    return dict(sums)


certified_on = st.dates(min_value=date(2023, 5, 1), max_value=date(2025, 5, 2))
as_of = st.dates(min_value=date(2025, 5, 3), max_value=date(2027, 12, 31))


@settings(max_examples=150, deadline=None)
@given(workshops(), certified_on, as_of)
def test_the_credit_at_the_close_equals_posting_each_attended_session_by_hand(
    workshop, certified, day
):
    sessions, attended = workshop
    stream = _stream(sessions, attended).closed(AFTER)
    derived, by_hand = _certified(certified), _certified(certified)
    stream.derive(derived)
    credit = stream.credit()
    for outcome in credit.sessions:
        if outcome.counted:
            assert credit.completed_on is not None
            by_hand.completed(
                credit.completed_on, outcome.ceus, category=outcome.category,
                programs=("CMM", "CMOM"), activity=f"hand-{outcome.session_id}",
            )  # fmt: skip

    for program in ("CMM", "CMOM"):
        ours, theirs = derived.status(program, day), by_hand.status(program, day)
        assert ours.focus.earned == theirs.focus.earned
        assert ours.focus.categories == theirs.focus.categories
        assert (ours.status, ours.shortfalls) == (theirs.status, theirs.shortfalls)
        assert _per_cycle(ours) == _per_cycle(theirs)


@settings(max_examples=150, deadline=None)
@given(workshops())
def test_counted_sessions_never_overlap_and_each_was_attended_long_enough(workshop):
    sessions, attended = workshop
    state = _stream(sessions, attended).workshop()
    mine = state.attendance_of("m-1")
    by_id = {s.session_id: s for s in sessions}

    outcomes = credit_of(state, "m-1", SHARE).sessions

    counted = [by_id[o.session_id] for o in outcomes if o.counted]
    for a, b in combinations(counted, 2):
        assert a.ends_at <= b.starts_at or b.ends_at <= a.starts_at
    for s in counted:
        assert presence(s, mine[s.session_id]) >= (s.ends_at - s.starts_at) * 0.9
    for o in outcomes:
        if o.outcome == "concurrent":
            winner, loser = by_id[o.instead], by_id[o.session_id]
            assert presence(winner, mine[winner.session_id]) >= presence(loser, mine[o.session_id])


@settings(max_examples=100, deadline=None)
@given(workshops(), st.randoms(use_true_random=False))
def test_the_credit_does_not_depend_on_the_order_attendance_was_recorded(workshop, random):
    sessions, attended = workshop
    stream = _stream(sessions, attended)
    agenda, *rest = stream.events
    random.shuffle(rest)

    shuffled = fold_workshop([agenda, *rest])

    assert shuffled is not None
    assert credit_of(shuffled, "m-1", SHARE) == stream.credit()


@settings(max_examples=100, deadline=None)
@given(workshops(), st.integers(0, 6))
def test_attendance_after_the_close_derives_what_closing_after_it_would_have(workshop, split):
    sessions, attended = workshop
    early, late = attended[:split], attended[split:]
    once = _stream(sessions, attended).closed(AFTER)
    in_two = _stream(sessions, early).closed(AFTER)
    manager_once, manager_in_two = _certified(date(2024, 1, 1)), _certified(date(2024, 1, 1))

    once.derive(manager_once)
    in_two.derive(manager_in_two)
    for a in late:
        in_two.attend(a.session_id, a.checked_in_at, a.checked_out_at)
    in_two.derive(manager_in_two)

    def held(manager: Manager):
        found = derived_completions(manager.record(), once.activity)
        return {k: (c.ceus, c.sessions, c.completed_on) for k, c in found.items()}

    assert held(manager_in_two) == held(manager_once)
    assert in_two.derive(manager_in_two) == []
