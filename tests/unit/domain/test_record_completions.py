"""A roster's lines for one manager, decided at once (`record_completions`): each line as if
the lines accepted before it were recorded, exactly what posting them one by one answers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from events.catalog import ActivityRegistered, CompletionRecorded, CompletionVoided
from ledger.commands.messages import PostCompletion
from ledger.domain.catalogue import Activity, evolve_activity
from ledger.domain.completions import Line, record_completion, record_completions
from ledger.domain.errors import AlreadyRecorded, DomainError, Invalid, NotAllowed, NotFound
from ledger.domain.record import ManagerRecord, evolve
from tests.unit.domain.given import Manager

TODAY = date(2025, 6, 2)
POSTED = datetime(2025, 6, 2, 15, tzinfo=UTC)


def _activity(activity_id: str, provider_id: str = "tma") -> Activity:
    return evolve_activity(
        None,
        ActivityRegistered(
            provider_id=provider_id, activity_id=activity_id, title="Course", format="online",
            ceus=Decimal(5), category="core", programs=("CMM",),
            starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31),
        ),
    )  # fmt: skip


ACTIVITIES: dict[str, Activity | None] = {
    "a-1": _activity("a-1"),
    "a-2": _activity("a-2"),
    "theirs": _activity("theirs", provider_id="other"),
    "gone": None,
}


def _line(external_id: str, activity_id: str = "a-1", *, day: int = 4, ceus: str = "1") -> Line:
    posting = PostCompletion(
        manager_id="m-1", activity_id=activity_id, external_id=external_id,
        completed_on=date(2025, 5, day), ceus=Decimal(ceus),
    )  # fmt: skip
    return uuid.uuid5(uuid.NAMESPACE_URL, external_id), posting


def _record() -> ManagerRecord:
    """A manager with a-1 recorded on May 2 and a-1 on May 3 voided."""
    manager = Manager().certified("CMM", date(2025, 1, 6))
    manager.completed(date(2025, 5, 2), "1", activity="a-1")
    voided = manager.completed(date(2025, 5, 3), "1", activity="a-1")
    manager.record_all(
        [CompletionVoided(completion_id=voided, manager_id="m-1", reason="x")], TODAY
    )
    return manager.record()


def _decide(record: ManagerRecord | None, lines: list[Line]) -> list[object]:
    return record_completions(record, lines, ACTIVITIES, provider_id="tma", today=TODAY)


def _one_by_one(record: ManagerRecord | None, lines: list[Line]) -> list[object]:
    """Each line through `record_completion`, an accepted one folded before the next."""
    outcomes: list[object] = []
    for cid, posting in lines:
        try:
            [event] = record_completion(
                record, ACTIVITIES.get(posting.activity_id), posting, completion_id=cid,
                provider_id="tma", today=TODAY,
            )  # fmt: skip
        except DomainError as refused:
            outcomes.append(refused)
            continue
        record = evolve(record, event, POSTED)
        outcomes.append(event)
    return outcomes


def _shape(outcome: object) -> object:
    """An outcome comparable across runs: the event, or the error's type and message."""
    if isinstance(outcome, DomainError):
        return type(outcome).__name__, str(outcome)
    return outcome


def test_a_second_line_of_the_same_activity_and_day_meets_the_first():
    first, second, other_day = _line("r-1"), _line("r-2"), _line("r-3", day=5)

    outcomes = _decide(_record(), [first, second, other_day])

    assert isinstance(outcomes[0], CompletionRecorded)
    assert isinstance(outcomes[1], AlreadyRecorded)
    assert (outcomes[1].completion_id, outcomes[1].external_id) == (first[0], "r-1")
    assert isinstance(outcomes[2], CompletionRecorded)


def test_a_refused_line_takes_only_itself_out():
    lines = [_line("r-1", "gone"), _line("r-2", "theirs"), _line("r-3", ceus="9"), _line("r-4")]

    outcomes = _decide(_record(), lines)

    assert [type(o) for o in outcomes] == [NotFound, NotAllowed, Invalid, CompletionRecorded]
    # The refused line of a-1 on that day is not recorded, so it does not block the last one.


def test_a_completion_already_recorded_that_day_blocks_unless_voided():
    record = _record()
    [kept] = [c for c in record.completions.values() if c.completed_on == date(2025, 5, 2)]

    outcomes = _decide(record, [_line("r-1", day=2), _line("r-2", day=3)])

    assert isinstance(outcomes[0], AlreadyRecorded)
    assert outcomes[0].completion_id == kept.completion_id
    assert isinstance(outcomes[1], CompletionRecorded)


def test_every_line_for_a_manager_not_enrolled_is_not_found():
    outcomes = _decide(None, [_line("r-1"), _line("r-2", "a-2")])

    assert [type(o) for o in outcomes] == [NotFound, NotFound]


lines = st.lists(
    st.builds(
        _line,
        st.sampled_from([f"r-{n}" for n in range(6)]),
        st.sampled_from(sorted(ACTIVITIES)),
        day=st.integers(1, 4),
        ceus=st.sampled_from(["1", "2.5", "0", "7"]),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(lines=lines, enrolled=st.booleans())
def test_deciding_lines_at_once_answers_as_posting_them_one_by_one(lines, enrolled):
    record = _record() if enrolled else None

    assert [_shape(o) for o in _decide(record, lines)] == [
        _shape(o) for o in _one_by_one(record, lines)
    ]
