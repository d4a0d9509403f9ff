"""Sources of credit as the pages say them (ledger/documents/filters.py): what is missing of a
source minimum, the CEUs counted per source, a source's name."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from ledger.documents.filters import by_source, missing_in_words, source_word
from ledger.domain.assess import Shortfall
from projections.ceu_queries import RegisterRow


def test_a_missing_source_minimum_is_said_with_what_is_needed_and_counted():
    short = Shortfall(
        requirement="source", source="approved", missing=Decimal(4), required=Decimal(12),
        counted=Decimal(8),
    )  # fmt: skip
    fee = Shortfall(requirement="fee", missing=Decimal(7500))

    assert missing_in_words([short, fee]) == (
        "4.00 more approved CEUs (12.00 needed, 8.00 counted) and the $75.00 fee"
    )
    assert short.words == "12 approved CEUs needed, 8 counted"


def test_the_ceus_per_source_leave_out_the_sources_with_none():
    assert by_source({"approved": Decimal(12), "self": Decimal("4.5")}) == (
        "12.00 from approved activities, 4.50 self-reported"
    )
    assert by_source({}) == ""


def test_a_register_row_is_said_by_its_ceus_per_source():
    row = RegisterRow(
        renewal_id=uuid.UUID(int=1), program="CMM", manager_id="m-1", cycle=1,
        cycle_starts_on=date(2024, 6, 1), cycle_ends_on=date(2026, 6, 1), ceus=Decimal(24),
        completions=2, fee_paid_cents=7500, state="filed",
        filed_at=datetime(2026, 5, 1, tzinfo=UTC), decided_at=None, reason="",
        audit_outcome=None, provider_ceus=Decimal(24),
    )  # fmt: skip

    assert by_source(row) == "24.00 from providers, not approved"


def test_a_source_has_a_name_people_use():
    assert [source_word(s) for s in ("approved", "provider", "self", None)] == [
        "approved activity",
        "provider",
        "self-reported",
        "",
    ]
