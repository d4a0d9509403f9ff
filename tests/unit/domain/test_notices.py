"""Which notices a certification's life calls for on a day: literal dates, no clock.

Pat holds CMM from 2024-03-01: the first deadline is 2026-03-01 and the grace ends 30 days
later, on 2026-03-31."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from events.catalog import AuditSampleDrawn
from ledger.commands.messages import DecideRenewal, ExtendDeadline
from ledger.domain import renewals, standing
from ledger.domain.notices import NAMESPACE, Notice, called_for, on_date, on_overdue_claim
from tests.unit.domain.given import Manager

CERTIFIED = date(2024, 3, 1)
DEADLINE = date(2026, 3, 1)
GRACE_ENDS = date(2026, 3, 31)


def pat() -> Manager:
    return Manager().certified("CMM", CERTIFIED)


def versions(manager: Manager) -> dict:
    return {code: p.versions for code, p in manager.programs.items()}


def kinds_on(manager: Manager, day: date) -> list[tuple[str, int, date]]:
    return [(n.kind, n.cycle, n.due_on) for n in on_date(manager.record(), versions(manager), day)]


def filed(manager: Manager, on: date) -> uuid.UUID:
    manager.completed(date(2025, 6, 1), "24")
    manager.paid("CMM", on)
    return manager.file("CMM", on)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 3, 1), []),
        (date(2025, 11, 30), []),  # 91 days to go
        (date(2025, 12, 1), [("deadline_90", 1, date(2025, 12, 1))]),
        (date(2026, 1, 14), [("deadline_90", 1, date(2025, 12, 1))]),  # 46 days to go
        (date(2026, 1, 15), [("deadline_45", 1, date(2026, 1, 15))]),
        (date(2026, 2, 13), [("deadline_45", 1, date(2026, 1, 15))]),
        (date(2026, 2, 14), [("deadline_15", 1, date(2026, 2, 14))]),
        (date(2026, 2, 27), [("deadline_15", 1, date(2026, 2, 14))]),
        (date(2026, 2, 28), [("deadline_1", 1, date(2026, 2, 28))]),
        (date(2026, 3, 1), [("grace_started", 1, DEADLINE)]),
        (date(2026, 3, 30), [("grace_started", 1, DEADLINE)]),
        (date(2026, 3, 31), [("lapsed", 1, GRACE_ENDS)]),
        (date(2027, 6, 1), [("lapsed", 1, GRACE_ENDS)]),  # still cycle 1: never renewed
    ],
)
def test_a_certification_left_alone_is_reminded_then_told_of_grace_then_of_the_lapse(day, expected):
    assert kinds_on(pat(), day) == expected


def test_a_reminder_carries_the_deadline_and_the_end_of_grace():
    [notice] = on_date(pat().record(), versions(pat()), date(2026, 2, 14))
    assert notice == Notice(
        manager_id="m-1", program="CMM", cycle=1, kind="deadline_15", due_on=date(2026, 2, 14),
        deadline=DEADLINE, grace_ends_on=GRACE_ENDS,
    )  # fmt: skip


def test_a_revoked_certification_gets_no_reminder():
    manager = pat()
    manager.do(standing.revoke, date(2025, 11, 1), "CMM", reason="failed audit")
    assert kinds_on(manager, date(2026, 2, 14)) == []
    assert kinds_on(manager, date(2026, 4, 1)) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 14), []),  # cycle 1 is renewed: nothing about it
        (date(2026, 3, 31), []),
        (date(2027, 12, 1), []),  # cycle 2 ends 2028-03-01: 91 days to go
        (date(2027, 12, 2), [("deadline_90", 2, date(2027, 12, 2))]),
    ],
)
def test_an_approved_renewal_moves_the_reminders_to_the_next_cycle(day, expected):
    manager = pat()
    rid = filed(manager, date(2025, 10, 1))
    manager.approve("CMM", rid, date(2025, 10, 2))
    assert kinds_on(manager, day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 14), []),  # filed and undecided: the manager has done their part
        (date(2026, 3, 1), [("grace_started", 1, DEADLINE)]),  # the status says grace
    ],
)
def test_a_pending_renewal_silences_the_deadline_reminders_but_not_the_grace(day, expected):
    manager = pat()
    filed(manager, date(2026, 1, 20))
    assert kinds_on(manager, day) == expected


def test_a_denied_renewal_brings_the_reminders_back():
    manager = pat()
    rid = filed(manager, date(2026, 1, 20))
    manager.do(
        renewals.decide_renewal,
        date(2026, 1, 25),
        "CMM",
        rid,
        DecideRenewal(decision="deny", reason="x"),
    )
    assert kinds_on(manager, date(2026, 2, 14)) == [("deadline_15", 1, date(2026, 2, 14))]


def test_an_extension_moves_every_date_driven_notice():
    manager = pat()
    manager.do(
        standing.extend_deadline, date(2026, 2, 1), manager.programs["CMM"],
        ExtendDeadline(ends_on=date(2026, 4, 15), reason="leave"), today=date(2026, 2, 1),
    )  # fmt: skip
    assert kinds_on(manager, date(2026, 3, 1)) == [("deadline_45", 1, date(2026, 3, 1))]
    assert kinds_on(manager, date(2026, 4, 15)) == [("grace_started", 1, date(2026, 4, 15))]
    assert kinds_on(manager, date(2026, 5, 15)) == [("lapsed", 1, date(2026, 5, 15))]


def _draw(selected: tuple[uuid.UUID, ...]) -> AuditSampleDrawn:
    return AuditSampleDrawn(
        audit_id=uuid.UUID(int=7), program="CMM", filed_from=date(2025, 1, 1),
        filed_to=date(2025, 12, 31), rate=Decimal("0.5"), seed=1, population=selected,
        selected=selected,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 10, 1), []),
        (date(2025, 10, 2), [("renewal_denied", 1, date(2025, 10, 2))]),
        (
            date(2025, 10, 3),
            [("renewal_denied", 1, date(2025, 10, 2)), ("audit_selected", 1, date(2025, 10, 3))],
        ),
        (
            date(2025, 12, 1),
            [
                ("renewal_denied", 1, date(2025, 10, 2)),
                ("audit_selected", 1, date(2025, 10, 3)),
                ("deadline_90", 1, date(2025, 12, 1)),
            ],
        ),
    ],
)
def test_called_for_is_every_event_notice_recorded_by_the_day_and_that_days_reminder(day, expected):
    manager = pat()
    rid = filed(manager, date(2025, 10, 1))
    manager.do(
        renewals.decide_renewal,
        date(2025, 10, 2),
        "CMM",
        rid,
        DecideRenewal(decision="deny", reason="no proof"),
    )
    found = called_for(
        manager.record(), versions(manager), day, draws=[(_draw((rid,)), date(2025, 10, 3))]
    )
    assert [(n.kind, n.cycle, n.due_on) for n in found] == expected
    assert all(n.reason == "no proof" for n in found if n.kind == "renewal_denied")


def test_a_second_denial_in_the_same_cycle_is_the_same_notice():
    manager = pat()
    for filed_on, denied_on in (
        (date(2025, 10, 1), date(2025, 10, 2)),
        (date(2025, 10, 5), date(2025, 10, 6)),
    ):
        rid = filed(manager, filed_on)
        manager.do(
            renewals.decide_renewal,
            denied_on,
            "CMM",
            rid,
            DecideRenewal(decision="deny", reason="x"),
        )
    found = called_for(manager.record(), versions(manager), date(2025, 11, 1))
    assert [(n.kind, n.due_on) for n in found] == [("renewal_denied", date(2025, 10, 2))]


def test_a_notice_id_is_its_key_and_nothing_else():
    a = Notice(manager_id="m-1", program="CMM", cycle=1, kind="lapsed", due_on=GRACE_ENDS)
    moved = Notice(manager_id="m-1", program="CMM", cycle=1, kind="lapsed", due_on=date(2027, 1, 1))
    other = Notice(manager_id="m-1", program="CMM", cycle=2, kind="lapsed", due_on=GRACE_ENDS)
    assert a.notice_id == moved.notice_id != other.notice_id
    assert str(a.notice_id) == "2f10e7c9-ce79-5b71-a56d-938c8bf500e0"  # stable across processes


def test_an_overdue_claim_is_told_to_its_manager_and_to_each_programs_association_once():
    claim = uuid.UUID(int=5)

    held = ("CMM", "CMOM", "PAHCOM")
    mine, theirs = on_overdue_claim(
        claim, "m-1", "tma-billing", ["CMOM", "CMM"], date(2026, 7, 15), held
    )

    assert (mine.kind, mine.program, mine.due_on, mine.reason, mine.claim_id) == (
        "claim_overdue", "CMOM", date(2026, 7, 15), "tma-billing", claim,
    )  # fmt: skip
    assert [(n.program, n.claim_id) for n in theirs] == [("CMM", claim), ("CMOM", claim)]
    again, _ = on_overdue_claim(
        claim, "m-1", "tma-billing", ["CMOM", "CMM"], date(2026, 7, 16), held
    )
    assert again.notice_id == mine.notice_id  # its key is the claim
    other, _ = on_overdue_claim(
        uuid.UUID(int=6), "m-1", "tma-billing", ["CMOM"], date(2026, 7, 15), held
    )
    assert other.notice_id != mine.notice_id
    assert len({n.notice_id for n in theirs}) == 2
    told, cmm_only = on_overdue_claim(claim, "m-2", "tma-billing", ["CMOM", "CMM"], date(2026, 7, 15), ["CMM"])  # fmt: skip  # noqa: E501
    assert [n.program for n in cmm_only] == ["CMM"]  # CMOM sees nothing of m-2
    assert told.program == "CMM"


def test_a_certifications_notice_keeps_the_id_of_its_key():
    """The outbox's rows made before claims keep their ids (and their Message-IDs)."""
    notice = Notice(manager_id="m-1", program="CMM", cycle=1, kind="lapsed", due_on=GRACE_ENDS)

    assert notice.notice_id == uuid.uuid5(NAMESPACE, "m-1/CMM/1/lapsed")
