"""Transcripts and renewal-cycle histories."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledger.domain import completions
from ledger.domain.reports import cycle_reports, transcript
from tests.unit.domain.given import Manager


def test_a_transcript_shows_each_completion_with_its_state():
    pat = Manager().certified("CMM", date(2024, 3, 15))
    counted = pat.completed(date(2024, 6, 1), "12")
    amended = pat.completed(date(2024, 7, 1), "6")
    voided = pat.completed(date(2024, 8, 1), "3")
    before = pat.completed(date(2024, 1, 1), "2")
    other = pat.completed(date(2024, 9, 1), "2", programs=("CMOM",))
    late = pat.completed(date(2026, 3, 1), "1", posted=date(2026, 3, 20))
    today = date(2026, 3, 25)
    pat.do(
        completions.amend_completion, today, "m-1", amended, pat.programs, None,
        reason="half", ceus=Decimal(3), completed_on=None, provider_id=None, today=today,
    )  # fmt: skip
    pat.do(
        completions.void_completion,
        today,
        "m-1",
        voided,
        pat.programs,
        reason="dup",
        provider_id=None,
        today=today,
    )

    lines = {line.completion_id: line for line in transcript(pat.record(), pat.programs, today)}

    assert [
        (lines[c].state, lines[c].cycle, lines[c].reason)
        for c in (counted, amended, voided, before, other)
    ] == [
        ("counted", 1, None),
        ("amended", 1, None),
        ("voided", None, "voided"),
        ("not_counted", None, "before_certification"),
        ("not_counted", None, "program_not_covered"),
    ]
    assert (lines[late].late, lines[late].cycle) == (True, 1)
    assert lines[amended].ceus == 3
    assert [h.kind for h in lines[amended].history] == ["recorded", "amended"]


def test_the_cycle_history_shows_each_cycle_its_rules_renewal_late_credits_and_audit():
    pat = Manager().certified("CMM", date(2024, 3, 15))
    pat.completed(date(2024, 6, 1), "24")
    pat.paid("CMM", date(2026, 1, 5))
    renewal = pat.file("CMM", date(2026, 1, 6))
    pat.approve("CMM", renewal, date(2026, 1, 20))
    late = pat.completed(date(2026, 2, 1), "1", posted=date(2026, 4, 1))

    first, second = cycle_reports(pat.record(), pat.programs["CMM"], date(2026, 4, 2))

    assert (first.number, first.starts_on, first.ends_on, first.grace_ends_on) == (
        1, date(2024, 3, 15), date(2026, 3, 15), date(2026, 4, 14),
    )  # fmt: skip
    assert (first.ceus_earned, first.ceus_required, first.fee_paid_cents) == (25, 24, 7500)
    assert (first.fee_paid, second.fee_paid) == (True, False)
    assert first.rules_effective_from == date(2000, 1, 1)
    assert (first.renewal.renewal_id, first.renewal.outcome, first.renewal.ceus) == (
        renewal,
        "approved",
        24,
    )
    assert first.late_completions == (late,)
    assert (second.number, second.ceus_earned, second.renewal) == (2, 0, None)
