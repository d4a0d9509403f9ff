"""Fees and their refunds: a fee is recorded with an id, and an association refunds part or
all of it (an admin, or an auditor of the fee's program); fee_paid goes down.

The world: m-1 holds CMM and CMOM, m-2 holds CMM; every fee is 7500 cents.  Today is
2026-06-15 14:30 UTC.
"""

from __future__ import annotations

import uuid

import pytest

from tests.api.world import World, assert_problem, bad_fields


async def a_cmom_fee(world: World, cents: int = 7500) -> str:
    """m-1's CMOM fee, paid in full unless told otherwise; its fee_id."""
    return (await world.api.pay_fee("m-1", "CMOM", cents))["fee_id"]


async def cmom_fee_paid(world: World) -> tuple[bool, int]:
    cmom = await world.api.certification(world.m1, "m-1", "CMOM")
    return cmom["fee_paid"], cmom["fee_paid_cents"]


async def test_a_recorded_fee_has_an_id(world):
    body = {"program": "CMOM", "amount_cents": 7500, "reference": "check 1041"}

    response = await world.api.post("/v1/managers/m-1/fees", world.cmom_auditor, body)

    fee = await world.api.ok(response, 201)
    assert uuid.UUID(fee["fee_id"])
    assert fee["fee_id"] != (await world.api.pay_fee("m-1", "CMOM"))["fee_id"]


@pytest.mark.parametrize("who", ["cmom_auditor", "admin"])
async def test_a_refund_lowers_the_fee_paid(world, who):
    api = world.api
    fee_id = await a_cmom_fee(world)
    assert await cmom_fee_paid(world) == (True, 7500)

    response = await api.refund(getattr(world, who), fee_id, 2500, "paid by the employer too")

    refund = await api.ok(response, 201)
    assert refund == {
        "fee_id": fee_id,
        "manager_id": "m-1",
        "program": "CMOM",
        "amount_cents": 2500,
        "reason": "paid by the employer too",
        "position": await api.head(),
        "recorded_at": "2026-06-15T14:30:00Z",
    }
    assert await cmom_fee_paid(world) == (False, 5000)


async def test_refunds_add_up_to_the_whole_fee_and_no_further(world):
    api = world.api
    fee_id = await a_cmom_fee(world)
    await api.ok(await api.refund(world.cmom_auditor, fee_id, 5000))
    head = await api.head()

    too_much = await api.refund(world.cmom_auditor, fee_id, 2501)
    assert "amount_cents" in bad_fields(too_much)
    assert await api.head() == head
    await api.ok(await api.refund(world.cmom_auditor, fee_id, 2500))

    assert await cmom_fee_paid(world) == (False, 0)


async def test_a_refund_is_of_one_fee_not_of_the_programs_total(world):
    api = world.api
    first = await a_cmom_fee(world, 5000)
    await a_cmom_fee(world, 2500)

    response = await api.refund(world.cmom_auditor, first, 6000)

    assert "amount_cents" in bad_fields(response)
    assert await cmom_fee_paid(world) == (True, 7500)


@pytest.mark.parametrize(
    ("amount_cents", "reason", "field"),
    [
        (7501, "paid twice", "amount_cents"),
        (0, "paid twice", "amount_cents"),
        (-100, "paid twice", "amount_cents"),
        (12.5, "paid twice", "amount_cents"),
        ("lots", "paid twice", "amount_cents"),
        (100, "", "reason"),
        (100, "   ", "reason"),
    ],
    ids=[
        "more than was paid",
        "nothing",
        "a negative amount",
        "a fraction of a cent",
        "words",
        "an empty reason",
        "a blank reason",
    ],
)
async def test_a_bad_refund_is_a_422_naming_the_field_and_nothing_is_stored(
    world, amount_cents, reason, field
):
    api = world.api
    fee_id = await a_cmom_fee(world)
    head = await api.head()

    response = await api.refund(world.cmom_auditor, fee_id, amount_cents, reason)

    assert field in bad_fields(response)
    assert await api.head() == head
    assert await cmom_fee_paid(world) == (True, 7500)


async def test_a_refund_without_a_reason_is_a_422(world):
    fee_id = await a_cmom_fee(world)

    response = await world.api.post(f"/v1/fees/{fee_id}/refund", world.admin, {"amount_cents": 1})

    assert "reason" in bad_fields(response)


async def test_refunding_an_unknown_fee_is_a_404(shared_world):
    fee_id = str(uuid.uuid4())

    response = await shared_world.api.refund(shared_world.admin, fee_id, 100)

    assert fee_id in assert_problem(response, 404)["detail"]


@pytest.mark.parametrize("who", ["cmm_auditor", "m1", "tma"])
async def test_only_an_admin_or_an_auditor_of_the_fees_program_refunds_it(world, who):
    fee_id = await a_cmom_fee(world)

    response = await world.api.refund(getattr(world, who), fee_id, 100)

    assert_problem(response, 403)
    assert await cmom_fee_paid(world) == (True, 7500)
