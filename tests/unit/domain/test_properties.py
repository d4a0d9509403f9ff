"""Properties of the rules over random histories."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from itertools import islice, pairwise

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from events.catalog import CompletionRecorded, CompletionVoided
from ledger.domain.assess import assess
from ledger.domain.cycles import cycles
from tests.unit.domain.given import CMM_RULES, CMOM_RULES, Manager, noon

days = st.dates(min_value=date(2019, 1, 1), max_value=date(2030, 12, 31))
ceus = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(12), places=2)
programs = st.sampled_from([("CMM",), ("CMOM",), ("CMM", "CMOM")])


@st.composite
def histories(draw):
    """A manager certified in CMM and CMOM with random completions, some voided."""
    certified = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2024, 12, 31)))
    manager = Manager().certified("CMM", certified).certified("CMOM", certified)
    for _ in range(draw(st.integers(0, 12))):
        cid = manager.completed(
            draw(
                st.dates(
                    min_value=certified - timedelta(days=60),
                    max_value=certified + timedelta(days=1500),
                )
            ),
            draw(ceus),
            category=draw(st.sampled_from(["core", "general"])),
            programs=draw(programs),
        )
        if draw(st.booleans()):
            manager.record_all(
                [CompletionVoided(completion_id=cid, manager_id="m-1", reason="x")], certified
            )
    as_of = draw(st.dates(min_value=certified, max_value=certified + timedelta(days=1600)))
    return manager, as_of


@settings(max_examples=150, deadline=None)
@given(histories())
def test_totals_are_never_negative(history):
    manager, as_of = history
    for program in ("CMM", "CMOM"):
        status = manager.status(program, as_of)
        assert status.focus.earned >= 0
        assert status.ceus_remaining >= 0
        assert all(c.earned >= 0 and c.remaining >= 0 for c in status.categories)
        assert all(s.missing > 0 for s in status.shortfalls)


@settings(max_examples=150, deadline=None)
@given(histories(), days, ceus, programs)
def test_recording_then_voiding_a_completion_equals_never_recording_it(
    history, on, amount, covered
):
    manager, as_of = history
    before = {p: manager.status(p, as_of) for p in ("CMM", "CMOM")}

    cid = manager.completed(on, amount, programs=covered)
    manager.record_all([CompletionVoided(completion_id=cid, manager_id="m-1", reason="x")], on)

    for program, old in before.items():
        new = manager.status(program, as_of)
        assert new.focus == old.focus
        assert (new.status, new.shortfalls, new.renewal_ready) == (
            old.status,
            old.shortfalls,
            old.renewal_ready,
        )
        assert [a for a in new.allocations if a.completion_id != cid] == list(old.allocations)


rule_versions = st.lists(
    st.builds(
        lambda base, months, start: msgspec.structs.replace(
            base, cycle_months=months, effective_from=start
        ),
        st.sampled_from([CMM_RULES, CMOM_RULES]),
        st.integers(1, 36),
        days,
    ),
    min_size=1,
    max_size=4,
).map(lambda versions: sorted(versions, key=lambda r: r.effective_from))


@settings(max_examples=200, deadline=None)
@given(days, rule_versions, days)
def test_cycles_partition_time_from_the_certification_on(certified, versions, day):
    found = list(islice(cycles(certified, versions), 40))

    assert found[0].starts_on == certified
    assert all(c.starts_on < c.ends_on for c in found)
    assert all(a.ends_on == b.starts_on for a, b in pairwise(found))
    if certified <= day < found[-1].ends_on:
        assert sum(c.contains(day) for c in found) == 1


@settings(max_examples=150, deadline=None)
@given(histories(), days, ceus, st.sampled_from(["core", "general"]))
def test_more_ceus_never_make_a_status_worse(history, on, amount, category):
    manager, as_of = history
    before = {p: manager.status(p, as_of) for p in ("CMM", "CMOM")}

    manager.completed(on, amount, category=category, programs=("CMM", "CMOM"))

    for program, old in before.items():
        new = manager.status(program, as_of)
        assert new.status == old.status
        assert new.focus.earned >= old.focus.earned
        assert new.ceus_remaining <= old.ceus_remaining
        assert len(new.shortfalls) <= len(old.shortfalls)
        assert new.renewal_ready or not old.renewal_ready


@settings(max_examples=100, deadline=None)
@given(histories())
def test_every_completion_is_allocated_once_per_program(history):
    manager, as_of = history
    record = manager.record()
    for program in ("CMM", "CMOM"):
        cert = record.certifications[program]
        status = assess(
            cert, list(record.completions.values()), manager.programs[program].versions, as_of
        )
        assert sorted(a.completion_id for a in status.allocations) == sorted(record.completions)
        counted = [a for a in status.allocations if a.cycle is not None]
        assert all(program in record.completions[a.completion_id].programs for a in counted)
        assert all(not record.completions[a.completion_id].voided for a in counted)


def test_the_history_strategy_builds_real_completions():
    manager = Manager().certified("CMM", date(2024, 1, 1))
    cid = manager.completed(date(2024, 2, 1), "1.5")
    event, at = manager.events[-1]
    assert isinstance(event, CompletionRecorded)
    assert (event.completion_id, at) == (cid, noon(date(2024, 2, 1)))
    assert isinstance(cid, uuid.UUID)
