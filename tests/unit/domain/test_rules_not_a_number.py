"""Rules whose required CEUs are not a number.  The API refuses such bodies before they reach the
domain (ledger/api/controllers/programs.py), but the decision itself should say why too."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from events.catalog import ProgramDefined
from ledger.domain import catalogue
from ledger.domain.errors import Invalid
from tests.unit.domain.given import CMM_RULES, CMOM_RULES


@pytest.mark.parametrize("rules", [CMM_RULES, CMOM_RULES], ids=["no minimums", "core minimum"])
@pytest.mark.parametrize("value", ["NaN", "sNaN"])
def test_required_ceus_that_are_not_a_number_are_refused(rules, value):
    broken = msgspec.structs.replace(rules, required_ceus=Decimal(value))

    with pytest.raises(Invalid) as refused:
        catalogue.define_program(
            None, ProgramDefined(program="NEW", name="New", association="A", rules=broken)
        )

    assert "required_ceus" in [e.field for e in refused.value.errors]
