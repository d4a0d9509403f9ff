"""Claims (SPEC 11): a manager who attended but sees nothing posted files a claim; it closes
when a matching completion is recorded, or the provider disputes it; still open after
`claim_window_days` (30 by default) it is overdue."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec
import pytest

from events.catalog import AttendanceClaimed, ClaimFulfilled, CompletionRecorded
from ledger.commands.messages import PostCompletion
from ledger.domain.completions import claims_fulfilled, record_completion
from ledger.domain.errors import AlreadyExists, AlreadyRecorded, Invalid, NotAllowed, WrongState
from ledger.domain.workshops.claims import (
    claim_overdue_on,
    dispute_claim,
    file_claim,
    fulfilled_claims,
    overdue_claims,
)
from tests.unit.domain.given import CMM_RULES, revised
from tests.unit.domain.workshop_given import Stream, at, attendee

FILED = date(2025, 5, 20)
CLAIM = uuid.UUID(int=7)


def _file(manager, stream: Stream, *, claim_id=CLAIM, on=FILED, completed_on=date(2025, 5, 2)):
    return manager.do(
        file_claim, on, manager.manager_id, stream.activity, claim_id=claim_id,
        activity_id="tma-billing", completed_on=completed_on, note="I was there", today=on,
    )  # fmt: skip


def _activities(stream: Stream):
    return {"tma-billing": stream.activity}


def test_a_manager_files_a_claim_for_the_activitys_provider():
    manager, stream = attendee(), Stream()

    [claimed] = _file(manager, stream)

    assert claimed == AttendanceClaimed(
        claim_id=CLAIM, manager_id="m-1", activity_id="tma-billing", provider_id="tma",
        completed_on=date(2025, 5, 2), note="I was there",
    )  # fmt: skip
    assert manager.record().claims[CLAIM].state == "open"


def test_a_claim_is_fulfilled_by_the_workshops_credit():
    manager = attendee()
    stream = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30)).closed()
    _file(manager, stream)

    [credit, fulfilled] = stream.derive(manager)

    assert fulfilled == ClaimFulfilled(
        claim_id=CLAIM, manager_id="m-1", completion_id=credit.completion_id
    )
    claim = manager.record().claims[CLAIM]
    assert (claim.state, claim.completion_id) == ("fulfilled", credit.completion_id)
    assert overdue_claims(manager.record(), _activities(stream), stream.programs, date(2026, 1, 1)) == []  # fmt: skip  # noqa: E501


def test_a_posting_of_the_activity_fulfils_the_open_claims_on_it():
    manager, stream = attendee(), Stream()
    _file(manager, stream)
    posted = CompletionRecorded(
        completion_id=uuid.uuid4(), manager_id="m-1", provider_id="tma", external_id="row-1",
        activity_id="tma-billing", activity_title="x", category="core", programs=("CMM",),
        completed_on=date(2025, 5, 2), ceus=12,
    )  # fmt: skip

    [fulfilled] = fulfilled_claims(manager.record(), posted)

    assert fulfilled.claim_id == CLAIM
    other = msgspec.structs.replace(posted, activity_id="another")
    assert fulfilled_claims(manager.record(), other) == []


def test_the_provider_disputes_a_claim_with_a_reason():
    manager, stream = attendee(), Stream()
    _file(manager, stream)

    manager.do(dispute_claim, FILED, "m-1", CLAIM, provider_id="tma", reason="not on the sheet")

    claim = manager.record().claims[CLAIM]
    assert (claim.state, claim.reason) == ("disputed", "not on the sheet")
    with pytest.raises(WrongState, match="is disputed"):
        dispute_claim(manager.record(), "m-1", CLAIM, provider_id="tma", reason="again")


def test_only_the_activitys_provider_disputes_a_claim_and_says_why():
    manager, stream = attendee(), Stream()
    _file(manager, stream)

    with pytest.raises(NotAllowed):
        dispute_claim(manager.record(), "m-1", CLAIM, provider_id="other", reason="no")
    with pytest.raises(Invalid):
        dispute_claim(manager.record(), "m-1", CLAIM, provider_id="tma", reason=" ")


def test_an_open_claim_is_overdue_thirty_days_after_it_was_filed():
    manager, stream = attendee(), Stream()
    _file(manager, stream)
    record, activities = manager.record(), _activities(stream)

    assert claim_overdue_on(record.claims[CLAIM], stream.activity, stream.programs) == date(2025, 6, 19)  # fmt: skip  # noqa: E501
    assert overdue_claims(record, activities, stream.programs, date(2025, 6, 18)) == []
    [overdue] = overdue_claims(record, activities, stream.programs, date(2025, 6, 19))
    assert overdue.claim_id == CLAIM


def test_the_shortest_claim_window_of_the_activitys_programs_applies():
    manager, stream = attendee(), Stream()
    shorter = msgspec.structs.replace(CMM_RULES, effective_from=date(2025, 5, 1), claim_window_days=14)  # fmt: skip  # noqa: E501
    stream.programs["CMM"] = revised(stream.programs["CMM"], shorter)
    _file(manager, stream)

    claim = manager.record().claims[CLAIM]
    assert claim_overdue_on(claim, stream.activity, stream.programs) == date(2025, 6, 3)


def test_a_disputed_claim_is_never_overdue():
    manager, stream = attendee(), Stream()
    _file(manager, stream)
    manager.do(dispute_claim, FILED, "m-1", CLAIM, provider_id="tma", reason="no")

    assert overdue_claims(manager.record(), _activities(stream), stream.programs, date(2026, 1, 1)) == []  # fmt: skip  # noqa: E501


def test_no_claim_for_an_activity_already_completed():
    manager, stream = attendee(), Stream()
    done = manager.completed(date(2025, 5, 2), "12", activity="tma-billing", provider="tma")

    with pytest.raises(AlreadyRecorded) as refused:
        _file(manager, stream)

    assert refused.value.completion_id == done


def test_one_open_claim_per_activity():
    manager, stream = attendee(), Stream()
    _file(manager, stream)

    with pytest.raises(AlreadyExists):
        _file(manager, stream, claim_id=uuid.UUID(int=8))


def test_a_claim_is_dated_within_the_activity_and_not_in_the_future():
    manager, stream = attendee(), Stream()

    with pytest.raises(Invalid, match="outside the activity's dates"):
        _file(manager, stream, completed_on=date(2025, 4, 30))
    with pytest.raises(Invalid, match="must not be in the future"):
        _file(manager, stream, on=date(2025, 5, 1), completed_on=date(2025, 5, 2))


def _posting(manager, external_id: str, activity_id: str = "tma-billing") -> CompletionRecorded:
    return CompletionRecorded(
        completion_id=uuid.uuid5(CLAIM, external_id), manager_id="m-1", provider_id="tma",
        external_id=external_id, activity_id=activity_id, activity_title="x", category="core",
        programs=("CMM",), completed_on=date(2025, 5, 2), ceus=12,
    )  # fmt: skip


def test_a_posting_is_decided_with_the_claims_it_fulfils():
    """record_completion (one posting) returns the completion, then its fulfilments: one
    decision, so one append to the manager's stream."""
    manager, stream = attendee(), Stream()
    _file(manager, stream)
    posting = PostCompletion(
        external_id="row-1", manager_id="m-1", activity_id="tma-billing",
        completed_on=date(2025, 5, 2), ceus=Decimal(12),
    )  # fmt: skip
    cid = uuid.UUID(int=99)

    recorded, fulfilled = record_completion(
        manager.record(), stream.activity, posting, completion_id=cid, provider_id="tma",
        today=date(2025, 5, 25),
    )  # fmt: skip

    assert (recorded.completion_id, fulfilled) == (
        cid, ClaimFulfilled(claim_id=CLAIM, manager_id="m-1", completion_id=cid),
    )  # fmt: skip


def test_several_postings_together_fulfil_a_claim_once_by_the_first_of_its_activity():
    manager, stream = attendee(), Stream()
    _file(manager, stream)
    first, second = _posting(manager, "a"), _posting(manager, "b")
    other = _posting(manager, "c", activity_id="another")

    fulfilled = claims_fulfilled(manager.record(), [other, first, second])

    assert fulfilled == [
        ClaimFulfilled(claim_id=CLAIM, manager_id="m-1", completion_id=first.completion_id)
    ]
    assert claims_fulfilled(manager.record(), [other]) == []
