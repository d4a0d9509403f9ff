"""Self-reports (SPEC 12): a manager reports credit no provider posts, with a file of evidence;
it counts only once an auditor accepts it (at most the CEUs reported), never when rejected, and
the manager may report again."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from events.catalog import EvidenceFile, SelfReportAccepted, SelfReported, SelfReportRejected
from ledger.domain import self_reports as rules
from ledger.domain.errors import Invalid, NotFound, WrongState
from tests.unit.domain.given import Manager

CERTIFIED = date(2024, 1, 1)
REPORTED = date(2024, 6, 3)
DECIDED = date(2024, 6, 10)
REPORT = uuid.UUID(int=10)
EVIDENCE = EvidenceFile(
    sha256="ab" * 32, size=2048, media_type="application/pdf", filename="certificate.pdf"
)


def certified() -> Manager:
    return Manager().certified("CMM", CERTIFIED)


def _report(manager: Manager, *, report_id=REPORT, ceus="3", on=REPORTED, **changes):
    fields = {
        "report_id": report_id, "title": "Coding update webinar",
        "provider_name": "Regional HIM Society", "completed_on": date(2024, 5, 20),
        "ceus": Decimal(ceus), "category": "general", "programs": ("CMM",),
        "evidence": EVIDENCE, "known": manager.programs, "today": on,
    } | changes  # fmt: skip
    return manager.do(rules.report, on, manager.manager_id, **fields)


def _accept(manager: Manager, ceus="3", category="general", report_id=REPORT):
    return manager.do(
        rules.accept, DECIDED, manager.manager_id, report_id, ceus=Decimal(ceus),
        category=category, known=manager.programs,
    )  # fmt: skip


def _reject(manager: Manager, reason="the certificate names someone else", report_id=REPORT):
    return manager.do(rules.reject, DECIDED, manager.manager_id, report_id, reason=reason)


def _fields(error: Invalid) -> dict[str, str]:
    return {e.field: e.message for e in error.errors}


def test_a_report_is_pending_and_counts_for_nothing():
    manager = certified()

    [reported] = _report(manager)

    assert isinstance(reported, SelfReported)
    assert reported.evidence == EVIDENCE
    record = manager.record()
    assert record.self_reports[REPORT].state == "pending"
    assert record.completions == {}
    assert manager.status("CMM", DECIDED).focus.earned == 0


def test_an_accepted_report_counts_as_a_completion_of_the_accepted_ceus_marked_self():
    manager = certified()
    _report(manager, ceus="3")

    [accepted] = _accept(manager, ceus="2.5", category="core")

    assert accepted == SelfReportAccepted(
        report_id=REPORT, manager_id="m-1", programs=("CMM",), ceus=Decimal("2.5"),
        category="core",
    )  # fmt: skip
    record = manager.record()
    completion = record.completions[REPORT]
    assert completion.self_report_id == REPORT
    assert (completion.ceus, completion.category, completion.provider_id) == (
        Decimal("2.5"), "core", "",
    )  # fmt: skip
    assert record.self_reports[REPORT].state == "accepted"
    assert record.self_reports[REPORT].ceus == Decimal(3)  # as reported, kept
    assert manager.status("CMM", DECIDED).focus.earned == Decimal("2.5")


def test_two_accepted_reports_are_not_repeats_of_each_other():
    manager = certified()
    _report(manager)
    _report(manager, report_id=uuid.UUID(int=11))

    _accept(manager)
    _accept(manager, report_id=uuid.UUID(int=11))

    assert manager.status("CMM", DECIDED).focus.earned == Decimal(6)


def test_accepting_more_than_the_reported_ceus_is_refused():
    manager = certified()
    _report(manager, ceus="3")

    with pytest.raises(Invalid) as refused:
        _accept(manager, ceus="3.01")

    assert _fields(refused.value) == {"ceus": "at most the 3 CEUs reported"}


def test_accepting_in_a_category_the_program_does_not_name_is_refused():
    manager = certified()
    _report(manager)

    with pytest.raises(Invalid) as refused:
        _accept(manager, category="ethics")

    assert _fields(refused.value) == {"category": "must be one of: core, general (CMM)"}


def test_a_report_is_decided_once():
    manager = certified()
    _report(manager)
    _accept(manager)

    with pytest.raises(WrongState, match="already accepted"):
        _accept(manager)
    with pytest.raises(WrongState, match="already accepted"):
        _reject(manager)


def test_a_rejected_report_never_counts_and_the_manager_may_report_again():
    manager = certified()
    _report(manager)

    [rejected] = _reject(manager)

    assert isinstance(rejected, SelfReportRejected)
    with pytest.raises(WrongState, match="already rejected"):
        _accept(manager)
    again = uuid.UUID(int=12)
    _report(manager, report_id=again, on=DECIDED)
    _accept(manager, report_id=again)
    record = manager.record()
    assert record.self_reports[REPORT].reason == "the certificate names someone else"
    assert REPORT not in record.completions
    assert record.completions[again].ceus == Decimal(3)


def test_a_rejection_needs_a_reason():
    manager = certified()
    _report(manager)

    with pytest.raises(Invalid) as refused:
        _reject(manager, reason="  ")

    assert _fields(refused.value) == {"reason": "must not be empty"}


def test_deciding_an_unknown_report_is_not_found():
    manager = certified()

    with pytest.raises(NotFound):
        _accept(manager)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ceus": Decimal(0)}, "ceus", "must be a positive number"),
        ({"ceus": Decimal("1.005")}, "ceus", "at most 2 decimal places"),
        ({"completed_on": date(2024, 6, 4)}, "completed_on", "must not be in the future"),
        ({"programs": ("CMOM",)}, "programs", "you hold no CMOM certification"),
        ({"programs": ()}, "programs", "at least one program"),
        ({"programs": ("CMM", "CMM")}, "programs", "each program once"),
        ({"category": "Core"}, "category", "must be one of: core, general (CMM)"),
    ],
)
def test_a_report_that_does_not_fit_is_refused_naming_the_field(changes, field, message):
    manager = certified()
    ceus = changes.pop("ceus", Decimal(3))

    with pytest.raises(Invalid) as refused:
        _report(manager, ceus=ceus, **changes)

    assert _fields(refused.value) == {field: message}
    assert manager.record().self_reports == {}


def test_an_accepted_report_counts_in_the_cycle_of_its_day_as_of_any_later_day():
    manager = certified()
    _report(manager)
    _accept(manager)

    assert manager.status("CMM", date(2024, 5, 19)).focus.earned == 0  # not yet completed
    assert manager.status("CMM", date(2024, 5, 20)).focus.earned == Decimal(3)
