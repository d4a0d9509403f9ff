"""The command layer on the in-memory store: load, decide, append, and what comes back."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from events.catalog import ActivityRegistered
from events.codec import Actor
from events.memory import InMemoryEventStore
from ledger.commands import (
    Context,
    Duplicate,
    Ledger,
    PostCompletion,
    audits,
    catalogue,
    completions,
    managers,
    renewals,
    rosters,
)
from ledger.commands.messages import (
    AmendCompletion,
    DecideRenewal,
    DrawAudit,
    EnrollManager,
    FileRenewal,
    GrantCertification,
    PayFee,
    RecordFinding,
    RegisterProvider,
    VoidCompletion,
)
from ledger.domain.errors import AlreadyExists, Invalid, NotAllowed, NotFound
from ledger.domain.renewals import assess_program
from tests.builders import SteppingClock

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="r-1")
PROVIDER = Context(actor=Actor(role="provider", id="tma"), request_id="r-2")
AUDITOR = Context(actor=Actor(role="auditor", id="pahcom-1"), request_id="r-3")


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime(2025, 6, 2, 15, 0, tzinfo=UTC))


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
    await catalogue.register_activity(ledger, PROVIDER, workshop())
    await managers.enroll_manager(
        ledger, ADMIN, EnrollManager(manager_id="m-1", name="Pat Doe", email="pat@example.org")
    )
    await managers.grant_certification(
        ledger, ADMIN, "m-1", GrantCertification(program="CMM", certified_on=date(2024, 3, 15))
    )
    return ledger


def workshop(**changes) -> ActivityRegistered:
    fields = {
        "provider_id": "tma",
        "activity_id": "tma-2025-billing",
        "title": "Billing and coding update",
        "format": "in-person",
        "ceus": Decimal(12),
        "category": "core",
        "programs": ("CMM", "CMOM"),
        "starts_on": date(2025, 5, 1),
        "ends_on": date(2025, 5, 5),
    }
    return ActivityRegistered(**(fields | changes))


async def post(ledger: Ledger, external_id: str = "row-1", *, ceus: str = "12", **changes):
    provider_id = changes.pop("provider_id", "tma")
    fields = {
        "external_id": external_id,
        "manager_id": "m-1",
        "activity_id": "tma-2025-billing",
        "completed_on": date(2025, 5, 5),
        "ceus": Decimal(ceus),
    }
    return await completions.record_completion(
        ledger, PROVIDER, provider_id, PostCompletion(**(fields | changes))
    )


async def test_default_programs_are_defined_once_however_often_it_is_asked(ledger):
    await catalogue.ensure_default_programs(ledger, ADMIN)

    programs = await ledger.catalogue.programs()

    assert sorted(programs) == ["CMM", "CMOM"]
    assert [len(p.versions) for p in programs.values()] == [1, 1]
    assert programs["CMOM"].versions[0].category_minimums == {"core": Decimal(9)}


async def test_a_posting_returns_a_receipt_and_an_identical_retry_returns_the_same_one(ledger):
    first = await post(ledger)
    again = await post(ledger, ceus="12.00")

    assert first.created
    assert not again.created
    assert (again.receipt.id, again.receipt.position, again.receipt.recorded_at) == (
        first.receipt.id,
        first.receipt.position,
        first.receipt.recorded_at,
    )


async def test_the_same_external_id_with_other_content_is_a_duplicate(ledger):
    await post(ledger)
    with pytest.raises(Duplicate, match="row-1"):
        await post(ledger, ceus="6")


async def test_identical_postings_racing_each_other_are_recorded_once(ledger):
    receipts = await asyncio.gather(*(post(ledger) for _ in range(10)))

    assert sum(r.created for r in receipts) == 1
    assert len({r.receipt.position for r in receipts}) == 1
    record = (await ledger.managers.current("m-1"))[0]
    assert len(record.completions) == 1


async def test_many_postings_for_one_manager_at_once_all_land(ledger):
    for n in range(40):  # an activity counts once per cycle: 40 postings, 40 activities
        await catalogue.register_activity(ledger, PROVIDER, workshop(activity_id=f"w-{n}"))
    receipts = await asyncio.gather(
        *(post(ledger, f"row-{n}", ceus="0.5", activity_id=f"w-{n}") for n in range(40))
    )

    assert all(r.created for r in receipts)
    record = (await ledger.managers.current("m-1"))[0]
    assert len(record.completions) == 40
    assessed = assess_program(record, await ledger.catalogue.program("CMM"), date(2025, 6, 2))
    assert assessed.focus.earned == 20


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"activity_id": "nope"}, NotFound, "activity nope"),
        ({"manager_id": "nobody"}, NotFound, "manager nobody"),
        ({"ceus": Decimal("12.5")}, Invalid, "more than the activity"),
        ({"ceus": Decimal("1.005")}, Invalid, "2 decimal places"),
        ({"completed_on": date(2025, 4, 30)}, Invalid, "outside the activity"),
        ({"provider_id": "other"}, NotAllowed, "another provider"),
    ],
)
async def test_bad_postings_are_refused_and_nothing_is_stored(ledger, changes, error, match):
    head = await ledger.store.head()
    with pytest.raises(error, match=match):
        await post(ledger, **changes)
    assert await ledger.store.head() == head


async def test_a_future_completion_date_is_refused(ledger, clock):
    await catalogue.register_activity(
        ledger,
        PROVIDER,
        workshop(activity_id="later", starts_on=date(2025, 6, 1), ends_on=date(2025, 6, 30)),
    )
    with pytest.raises(Invalid, match="future"):
        await post(ledger, activity_id="later", completed_on=date(2025, 6, 3))


async def test_registering_an_activity_id_twice_is_refused_even_for_another_provider(ledger):
    await catalogue.register_provider(
        ledger, ADMIN, RegisterProvider(provider_id="mgma", name="MGMA", programs=["CMM"])
    )
    with pytest.raises(AlreadyExists):
        await catalogue.register_activity(
            ledger, PROVIDER, workshop(provider_id="mgma", programs=("CMM",))
        )


async def test_a_provider_voids_its_posting_and_the_credit_stops_counting(ledger):
    receipt = await post(ledger)
    voiding = VoidCompletion(reason="wrong attendee")
    await completions.void_completion(
        ledger, PROVIDER, receipt.receipt.id, voiding, provider_id="tma"
    )

    record = (await ledger.managers.current("m-1"))[0]
    assert record.completions[receipt.receipt.id].voided
    with pytest.raises(NotAllowed):
        await completions.amend_completion(
            ledger,
            PROVIDER,
            (await post(ledger, "row-2", ceus="3")).receipt.id,
            AmendCompletion(reason="x", ceus=Decimal(1)),
            provider_id="mgma",
        )


async def test_the_renewal_journey_from_posting_to_approval(ledger, clock):
    await post(ledger, "row-1")
    await catalogue.register_activity(
        ledger,
        PROVIDER,
        workshop(activity_id="tma-2025-hr", starts_on=date(2025, 5, 20), ends_on=date(2025, 5, 22)),
    )
    await post(ledger, "row-2", activity_id="tma-2025-hr", completed_on=date(2025, 5, 22))
    await renewals.pay_fee(
        ledger, ADMIN, "m-1", PayFee(program="CMM", amount_cents=7500, reference="INV-77")
    )

    filed, _ = await renewals.file_renewal(
        ledger,
        Context(actor=Actor(role="manager", id="m-1"), request_id="r"),
        "m-1",
        FileRenewal(program="CMM"),
    )
    clock.advance(days=3)
    await renewals.decide_renewal(
        ledger, AUDITOR, filed.renewal_id, DecideRenewal(decision="approve", reason="complete")
    )

    assert (filed.cycle, filed.ceus, len(filed.completions), filed.fee_paid_cents) == (
        1,
        24,
        2,
        7500,
    )
    record = (await ledger.managers.current("m-1"))[0]
    assert record.certifications["CMM"].renewal(filed.renewal_id).state == "approved"


async def test_an_audit_draw_and_a_failed_finding_revokes(ledger):
    await post(ledger, "row-1")
    await catalogue.register_activity(
        ledger,
        PROVIDER,
        workshop(activity_id="hr", starts_on=date(2025, 5, 20), ends_on=date(2025, 5, 22)),
    )
    await post(ledger, "row-2", activity_id="hr", completed_on=date(2025, 5, 21))
    await renewals.pay_fee(
        ledger, ADMIN, "m-1", PayFee(program="CMM", amount_cents=7500, reference="INV-77")
    )
    filed, _ = await renewals.file_renewal(ledger, ADMIN, "m-1", FileRenewal(program="CMM"))

    drawn = await audits.draw_audit(
        ledger,
        AUDITOR,
        "CMM",
        DrawAudit(filed_from=date(2025, 6, 1), filed_to=date(2025, 6, 30), rate=Decimal(1), seed=7),
        population=[filed.renewal_id],
    )
    assert drawn.selected == (filed.renewal_id,)
    await audits.record_finding(
        ledger,
        AUDITOR,
        drawn.audit_id,
        RecordFinding(renewal_id=filed.renewal_id, outcome="failed", note="no certificates"),
    )

    cert = ((await ledger.managers.current("m-1"))[0]).certifications["CMM"]
    assert cert.revoked
    assert cert.standing[-1].audit_id == drawn.audit_id
    assert cert.renewal(filed.renewal_id).findings[0].outcome == "failed"
    with pytest.raises(AlreadyExists):
        await audits.record_finding(
            ledger,
            AUDITOR,
            drawn.audit_id,
            RecordFinding(renewal_id=filed.renewal_id, outcome="passed", note="again"),
        )


async def test_a_record_read_as_known_at_an_earlier_instant(ledger, clock):
    before = clock.now
    clock.advance(hours=1)
    await post(ledger)

    assert (await ledger.managers.at("m-1", known_at=before)).completions == {}
    assert len(((await ledger.managers.current("m-1"))[0]).completions) == 1


def line(external_id: str, manager_id: str = "m-1", ceus: str = "1", **changes) -> PostCompletion:
    fields = {
        "external_id": external_id,
        "manager_id": manager_id,
        "activity_id": "tma-2025-billing",
        "completed_on": date(2025, 5, 5),
        "ceus": Decimal(ceus),
    }
    return PostCompletion(**(fields | changes))


async def test_a_roster_answers_each_line_on_its_own(ledger):
    await managers.enroll_manager(
        ledger, ADMIN, EnrollManager(manager_id="m-2", name="Lee", email="lee@example.org")
    )
    earlier = await post(ledger, "old", ceus="2", completed_on=date(2025, 5, 4))
    roster = [
        line("a"),
        line("b", "m-2"),
        line("bad-ceus", ceus="99"),
        line("a"),  # the same line twice: a retry of the first
        line("a", ceus="3"),  # the same external_id with other content
        line("old", ceus="2", completed_on=date(2025, 5, 4)),  # posted in an earlier request
        line("c", "nobody"),
        line("d", "m-2", ceus="1.5", completed_on=date(2025, 5, 3)),
    ]

    outcomes = await rosters.record_completions(ledger, PROVIDER, "tma", roster)

    kinds = [
        type(o).__name__ if isinstance(o, Exception) else ("new" if o.created else "again")
        for o in outcomes
    ]
    assert kinds == ["new", "new", "Invalid", "again", "Duplicate", "again", "NotFound", "new"]
    assert outcomes[3].receipt.id == outcomes[0].receipt.id
    assert outcomes[5].receipt.position == earlier.receipt.position
    assert outcomes[7].receipt.position == outcomes[1].receipt.position + 1, (
        "one append for m-2's two lines"
    )
    record = (await ledger.managers.current("m-2"))[0]
    assert sorted(c.ceus for c in record.completions.values()) == [Decimal("1.00"), Decimal("1.50")]


async def test_a_roster_posted_twice_changes_nothing_the_second_time(ledger):
    for n in range(30):  # an activity counts once per cycle: 30 lines, 30 activities
        await catalogue.register_activity(ledger, PROVIDER, workshop(activity_id=f"w-{n}"))
    roster = [line(f"r{n}", ceus="0.5", activity_id=f"w-{n}") for n in range(30)]
    first = await rosters.record_completions(ledger, PROVIDER, "tma", roster)
    head = await ledger.store.head()

    again = await rosters.record_completions(ledger, PROVIDER, "tma", roster)

    assert [o.receipt.id for o in again] == [o.receipt.id for o in first]
    assert not any(o.created for o in again)
    assert await ledger.store.head() == head
