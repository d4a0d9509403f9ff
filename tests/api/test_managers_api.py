"""Managers through the API: enrolment, certification, status (as of a day, as known at an
instant), its explanation, the transcript, the cycle history, fees and filing a renewal.

The world: m-1 holds CMM (since 2025-03-15, cycle 1 ends 2027-03-15) and CMOM (since
2025-09-30, 12 CEUs with 9 core, cycle 1 ends 2026-09-30); m-2 holds CMM since 2024-06-01, so
its first cycle ended 2026-06-01 and it is in grace until 2026-07-01.  Today is 2026-06-15.
`tma-billing` gives up to 12 core CEUs (CMM and CMOM, 2026-05-18..22); `mgma-hr` up to 6 general
CEUs for CMM only (all of 2026).  An activity counts once per cycle, so postings that must
all count get activities of their own (`api.activity`).
"""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.api.world import assert_problem, bad_fields


async def posted(api, token: str, external_id: str, **changes: Any) -> str:
    return (await api.ok(await api.post_completion(token, external_id, **changes)))["id"]


async def void(api, token: str, completion_id: str) -> None:
    path = f"/v1/completions/{completion_id}/void"
    await api.ok(await api.post(path, token, {"reason": "did not attend"}), 200)


# -- enrolment and certification ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "cmm_auditor"])
async def test_an_admin_or_an_auditor_enrols_a_manager(world, who):
    api = world.api
    body = {"manager_id": "m-3", "name": "Dana Reyes", "email": "dana@clinic.example"}

    response = await api.post("/v1/managers", getattr(world, who), body)

    assert await api.ok(response, 201) == body
    token = await api.token("manager", manager_id="m-3")
    status = await api.ok(await api.get("/v1/managers/m-3/status", token), 200)
    assert status["certifications"] == []


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({"manager_id": "m-1", "name": "again", "email": "a@b.org"}, 409, set()),
        ({"manager_id": "m-3", "name": "x", "email": "not-an-email"}, 422, {"email"}),
        ({"manager_id": "m-3", "name": "x", "email": "x@localhost"}, 422, {"email"}),
        ({"manager_id": "m 3", "name": "x", "email": "a@b.org"}, 422, {"manager_id"}),
        ({"manager_id": "m-3", "email": "a@b.org"}, 422, {"name"}),
        ({"manager_id": "m-3", "name": "x", "email": "a@b.org", "ssn": "1"}, 422, {"ssn"}),
    ],
    ids=[
        "a manager already enrolled",
        "an email without an @",
        "an email without a domain",
        "an id with a space",
        "no name",
        "an unknown field",
    ],
)
async def test_a_bad_enrolment_is_refused_and_nothing_is_stored(shared_world, body, status, fields):
    api = shared_world.api
    head = await api.head()

    response = await api.post("/v1/managers", shared_world.admin, body)

    problem = assert_problem(response, status)
    assert {e["field"] for e in problem.get("errors", [])} >= fields
    assert await api.head() == head


async def test_a_certification_shows_in_the_managers_status(world):
    api = world.api
    body = {"program": "CMOM", "certified_on": "2026-01-10"}

    response = await api.post("/v1/managers/m-2/certifications", world.cmom_auditor, body)

    assert await api.ok(response, 201) == body
    cmom = await api.certification(world.m2, "m-2", "CMOM")
    assert cmom["certified_on"] == "2026-01-10"
    assert (cmom["cycle"]["starts_on"], cmom["cycle"]["ends_on"]) == ("2026-01-10", "2027-01-10")


@pytest.mark.parametrize(
    ("manager_id", "body", "status", "fields"),
    [
        ("m-1", {"program": "CMM", "certified_on": "2025-01-01"}, 409, set()),
        ("m-9", {"program": "CMM", "certified_on": "2025-01-01"}, 404, set()),
        ("m-2", {"program": "CPC", "certified_on": "2025-01-01"}, 404, set()),
        ("m-2", {"program": "CMOM", "certified_on": "2026-06-16"}, 422, {"certified_on"}),
        ("m-2", {"program": "CMOM", "certified_on": "2026-02-29"}, 422, {"certified_on"}),
        ("m-2", {"program": "cmom", "certified_on": "2026-01-01"}, 422, {"program"}),
    ],
    ids=[
        "a certification already held",
        "an unknown manager",
        "an unknown program",
        "a future date",
        "a date that is not a date",
        "a code that is not one",
    ],
)
async def test_a_bad_certification_is_refused_and_nothing_is_stored(
    shared_world, manager_id, body, status, fields
):
    api = shared_world.api
    head = await api.head()

    response = await api.post(f"/v1/managers/{manager_id}/certifications", shared_world.admin, body)

    problem = assert_problem(response, status)
    assert {e["field"] for e in problem.get("errors", [])} >= fields
    assert await api.head() == head


# -- status -----------------------------------------------------------------------------------


async def test_status_gives_each_certification_its_cycle_totals_fee_and_deadline(world):
    api = world.api
    await posted(api, world.tma, "row-1", ceus="9")
    await api.pay_fee("m-1", "CMOM")

    status = await api.ok(await api.get("/v1/managers/m-1/status", world.m1), 200)

    assert (status["manager_id"], status["as_of"]) == ("m-1", "2026-06-15")
    assert [c["program"] for c in status["certifications"]] == ["CMM", "CMOM"]
    cmom = status["certifications"][1]
    assert cmom["status"] == "active"
    assert cmom["certified_on"] == "2025-09-30"
    assert cmom["cycle"] | {"deadline": None} == {
        "number": 1,
        "starts_on": "2025-09-30",
        "ends_on": "2026-09-30",
        "deadline": None,
        "grace_ends_on": "2026-10-30",
    }
    assert (cmom["ceus_earned"], cmom["ceus_required"], cmom["ceus_remaining"]) == (
        "9.00",
        "12",
        "3.00",
    )
    [core] = cmom["categories"]
    assert (core["category"], core["earned"], core["required"]) == ("core", "9.00", "9")
    assert core["remaining"] in ("0", "0.00")
    assert cmom["fee_paid"] is True
    assert cmom["renewal"] is None
    assert cmom["renewal_ready"] is False
    assert cmom["days_to_deadline"] == 107


@pytest.mark.parametrize(
    ("as_of", "status", "days_to_deadline"),
    [
        ("2026-05-31", "active", 1),
        ("2026-06-01", "grace", 0),
        ("2026-06-30", "grace", -29),
        ("2026-07-01", "lapsed", -30),
    ],
)
async def test_status_as_of_a_day_is_active_then_grace_then_lapsed(
    shared_world, as_of, status, days_to_deadline
):
    cmm = await shared_world.api.certification(shared_world.m2, "m-2", "CMM", as_of=as_of)

    assert (cmm["status"], cmm["days_to_deadline"]) == (status, days_to_deadline)


async def test_status_as_of_a_day_counts_only_what_had_happened_by_then(world):
    api = world.api
    await api.activity(world.tma, "tma", "tma-coding")
    await posted(api, world.tma, "row-1", completed_on="2026-05-20", ceus="4")
    await posted(
        api, world.tma, "row-2", activity_id="tma-coding", completed_on="2026-05-22", ceus="2"
    )

    before = await api.certification(world.m1, "m-1", "CMM", as_of="2026-05-19")
    during = await api.certification(world.m1, "m-1", "CMM", as_of="2026-05-21")
    today = await api.certification(world.m1, "m-1", "CMM")

    assert [before["ceus_earned"], during["ceus_earned"], today["ceus_earned"]] == [
        "0",
        "4.00",
        "6.00",
    ]


async def test_status_known_at_an_instant_counts_only_what_had_been_recorded(world, clock):
    api = world.api
    await api.activity(world.tma, "tma", "tma-coding")
    await posted(api, world.tma, "row-1", ceus="4")
    clock.advance(hours=1)
    await posted(api, world.tma, "row-2", activity_id="tma-coding", ceus="2")

    then = await api.ok(
        await api.get("/v1/managers/m-1/status", world.m1, known_at="2026-06-15T15:00:00Z"), 200
    )
    now = await api.certification(world.m1, "m-1", "CMM")

    assert then["known_at"] == "2026-06-15T15:00:00Z"
    assert then["certifications"][0]["ceus_earned"] == "4.00"
    assert now["ceus_earned"] == "6.00"


async def test_status_known_at_before_a_manager_was_enrolled_is_a_404(shared_world):
    response = await shared_world.api.get(
        "/v1/managers/m-1/status", shared_world.admin, known_at="2026-06-15T14:00:00+00:00"
    )

    assert_problem(response, 404)


async def test_status_of_an_unknown_manager_is_a_404(shared_world):
    assert_problem(await shared_world.api.get("/v1/managers/m-9/status", shared_world.admin), 404)


READS = ("status", "status/explain?program=CMM", "transcript", "cycles?program=CMM")
"""Every read of one manager that takes as_of and known_at."""

BAD_WHEN = [
    pytest.param("status", {"as_of": "2026-13-01"}, "as_of", id="a month 13"),
    pytest.param("status", {"as_of": "tomorrow"}, "as_of", id="a word for a day"),
    pytest.param("status", {"known_at": "yesterday"}, "known_at", id="a word for an instant"),
    pytest.param("status", {"known_at": "2026-06-15"}, "known_at", id="a day for an instant"),
    *(
        pytest.param(path, {"as_of": "9999-12-31"}, "as_of", id=f"{path}: a day no cycle reaches")
        for path in READS
    ),
]


@pytest.mark.parametrize(("path", "params", "field"), BAD_WHEN)
async def test_a_bad_as_of_or_known_at_is_a_422_naming_it(shared_world, path, params, field):
    path, _, query = path.partition("?")
    params = params | dict([query.split("=")] if query else [])

    response = await shared_world.api.get(f"/v1/managers/m-1/{path}", shared_world.m1, **params)

    assert field in bad_fields(response)
    assert next(e for e in response.json()["errors"] if e["field"] == field)["source"] == "query"


@pytest.mark.parametrize("path", READS)
async def test_the_last_day_the_ledger_deals_in_is_a_valid_as_of(shared_world, path):
    path, _, query = path.partition("?")
    params = {"as_of": "2199-12-31"} | dict([query.split("=")] if query else [])

    response = await shared_world.api.get(f"/v1/managers/m-1/{path}", shared_world.m1, **params)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", READS)
async def test_a_known_at_without_a_utc_offset_is_read_as_utc(world, clock, path):
    api = world.api
    clock.advance(hours=1)
    await api.ok(await api.post_completion(world.tma, "row-1", ceus="4"))
    path, _, query = path.partition("?")
    params = dict([query.split("=")] if query else [])

    before = await api.get(
        f"/v1/managers/m-1/{path}", world.m1, **params, known_at="2026-06-15T15:00:00"
    )
    after = await api.get(
        f"/v1/managers/m-1/{path}", world.m1, **params, known_at="2026-06-15T16:00:00"
    )

    assert before.status_code == after.status_code == 200, (before.text, after.text)
    assert "4.00" not in before.text
    assert "4.00" in after.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("status", None),
        ("transcript", None),
        ("certifications", {"program": "CMM", "certified_on": "2025-01-01"}),
        ("fees", {"program": "CMM", "amount_cents": 100, "reference": "x"}),
    ],
)
async def test_a_manager_id_with_a_nul_character_is_a_clear_4xx(shared_world, path, body):
    api = shared_world.api
    head = await api.head()
    url = f"/v1/managers/m%00x/{path}"

    response = await (
        api.get(url, shared_world.admin)
        if body is None
        else api.post(url, shared_world.admin, body)
    )

    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)
    assert await api.head() == head


# -- explain ----------------------------------------------------------------------------------


async def test_explain_says_where_each_completion_counted_or_why_not(world):
    api = world.api
    early = {
        "activity_id": "tma-2025", "title": "Front desk basics", "format": "workshop",
        "ceus": "3", "category": "core", "programs": ["CMM", "CMOM"],
        "starts_on": "2025-01-01", "ends_on": "2025-12-31",
    }  # fmt: skip
    await api.ok(await api.post("/v1/providers/tma/activities", world.tma, early))
    await api.activity(world.tma, "tma", "tma-coding")
    counted = await posted(api, world.tma, "row-1", ceus="6")
    repeat = await posted(api, world.tma, "row-1-again", completed_on="2026-05-21", ceus="4")
    voided = await posted(api, world.tma, "row-2", activity_id="tma-coding", ceus="2")
    await void(api, world.tma, voided)
    not_covered = await posted(api, world.mgma, "row-3", activity_id="mgma-hr", ceus="5")
    too_early = await posted(
        api, world.tma, "row-4", activity_id="tma-2025", completed_on="2025-08-01", ceus="3"
    )

    response = await api.get("/v1/managers/m-1/status/explain", world.m1, program="CMOM")

    explained = await api.ok(response, 200)
    assert (explained["program"], explained["cycle"]["number"]) == ("CMOM", 1)
    why = {
        a["completion_id"]: (a["counted"], a["cycle"], a["reason"])
        for a in explained["allocations"]
    }
    assert why == {
        counted: (True, 1, None),
        repeat: (False, None, "repeat"),
        voided: (False, None, "voided"),
        not_covered: (False, None, "program_not_covered"),
        too_early: (False, None, "before_certification"),
    }


async def test_explain_as_of_a_day_leaves_out_what_happened_later(world):
    api = world.api
    cid = await posted(api, world.tma, "row-1", completed_on="2026-05-20")

    response = await api.get(
        "/v1/managers/m-1/status/explain", world.m1, program="CMOM", as_of="2026-05-19"
    )

    [allocation] = (await api.ok(response, 200))["allocations"]
    assert (allocation["completion_id"], allocation["counted"]) == (cid, False)
    assert allocation["reason"] == "after_as_of"


async def test_explain_flags_a_late_posting_and_a_completion_of_another_cycle(world):
    api = world.api
    late = await posted(api, world.tma, "row-1", manager_id="m-2", completed_on="2026-05-20")
    next_cycle = await posted(
        api, world.mgma, "row-2", manager_id="m-2", activity_id="mgma-hr", completed_on="2026-06-10"
    )

    response = await api.get("/v1/managers/m-2/status/explain", world.m2, program="CMM")

    explained = await api.ok(response, 200)
    by_id = {a["completion_id"]: a for a in explained["allocations"]}
    assert (by_id[late]["counted"], by_id[late]["cycle"], by_id[late]["late"]) == (True, 1, True)
    assert (by_id[next_cycle]["counted"], by_id[next_cycle]["cycle"]) == (False, 2)
    assert (by_id[next_cycle]["reason"], by_id[next_cycle]["late"]) == ("outside_cycle", False)


async def test_explain_of_a_program_the_manager_does_not_hold_is_a_404(shared_world):
    response = await shared_world.api.get(
        "/v1/managers/m-2/status/explain", shared_world.m2, program="CMOM"
    )

    assert_problem(response, 404)


async def test_explain_without_a_program_is_a_clear_4xx(shared_world):
    response = await shared_world.api.get("/v1/managers/m-2/status/explain", shared_world.m2)

    problem = assert_problem(response, 422)
    assert "program" in problem["detail"]
    assert problem["errors"] == [
        {"field": "program", "message": "the query parameter is required", "source": "query"}
    ]


# -- transcript -------------------------------------------------------------------------------


async def _transcript_world(world) -> dict[str, str]:
    """m-1 with a counted, an amended, a voided and a not-covered completion; their ids."""
    api = world.api
    ids = {
        "counted": await posted(api, world.tma, "row-1", ceus="6"),
        "amended": await posted(api, world.tma, "row-2", ceus="3", completed_on="2026-05-21"),
        "voided": await posted(api, world.tma, "row-3", ceus="2", completed_on="2026-05-22"),
        "not_counted": await posted(
            api, world.mgma, "row-4", activity_id="mgma-hr", ceus="5", completed_on="2026-05-23"
        ),
    }
    amend = {"reason": "left at noon", "ceus": "1.5"}
    await api.ok(await api.post(f"/v1/completions/{ids['amended']}/amend", world.tma, amend), 200)
    await void(api, world.tma, ids["voided"])
    return ids


async def test_the_transcript_gives_every_completion_with_its_state(world):
    api = world.api
    ids = await _transcript_world(world)

    response = await api.get("/v1/managers/m-1/transcript", world.m1, program="CMOM")

    lines = await api.ok(response, 200)
    assert [(line["completion_id"], line["state"]) for line in lines] == [
        (cid, state) for state, cid in ids.items()
    ]
    by_state = {line["state"]: line for line in lines}
    assert by_state["amended"]["ceus"] == "1.50"
    assert [h["kind"] for h in by_state["amended"]["history"]] == ["recorded", "amended"]
    assert by_state["voided"]["voided"] is True
    assert by_state["not_counted"]["reason"] == "program_not_covered"
    assert by_state["counted"]["counted"] is True


async def test_the_transcript_as_csv_has_a_header_and_one_row_per_completion(world):
    api = world.api
    ids = await _transcript_world(world)

    response = await api.get("/v1/managers/m-1/transcript", world.m1, program="CMOM", format="csv")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["completion_id"], row["state"]) for row in rows] == [
        (cid, state) for state, cid in ids.items()
    ]
    assert {"ceus", "counted", "amended", "voided", "late", "completed_on"} <= set(rows[0])
    assert rows[1]["ceus"] == "1.50"
    assert (rows[2]["voided"], rows[0]["late"]) == ("true", "false")


async def test_the_transcript_flags_a_completion_posted_after_its_cycle_ended_as_late(world):
    api = world.api
    cid = await posted(api, world.tma, "row-1", manager_id="m-2", completed_on="2026-05-20")

    lines = await api.ok(await api.get("/v1/managers/m-2/transcript", world.m2), 200)

    assert [(line["completion_id"], line["late"], line["counted"]) for line in lines] == [
        (cid, True, True)
    ]


@pytest.mark.parametrize(
    ("manager_id", "params", "status"),
    [
        ("m-2", {"program": "CMOM"}, 404),
        ("m-9", {}, 404),
        ("m-1", {"format": "xml"}, 422),
    ],
    ids=["a program not held", "an unknown manager", "an unknown format"],
)
async def test_a_bad_transcript_request_is_a_clear_4xx(shared_world, manager_id, params, status):
    response = await shared_world.api.get(
        f"/v1/managers/{manager_id}/transcript", shared_world.admin, **params
    )

    assert_problem(response, status)


# -- cycles -----------------------------------------------------------------------------------


async def test_the_cycle_history_gives_each_cycle_its_rules_ceus_fee_renewal_and_late_credits(
    world,
):
    api = world.api
    await api.activity(world.tma, "tma", "tma-coding")
    first = await posted(api, world.tma, "row-1", manager_id="m-2", ceus="12")
    second = await posted(
        api,
        world.tma,
        "row-2",
        manager_id="m-2",
        activity_id="tma-coding",
        ceus="12",
        completed_on="2026-05-21",
    )
    await api.pay_fee("m-2", "CMM")
    filed = await api.ok(await api.file_renewal(world.m2, "m-2", "CMM"))
    decision = {"decision": "approve", "reason": "complete"}
    path = f"/v1/renewals/{filed['renewal_id']}/decision"
    await api.ok(await api.post(path, world.cmm_auditor, decision), 200)

    cycles = await api.ok(await api.get("/v1/managers/m-2/cycles", world.m2, program="CMM"), 200)

    assert [(c["number"], c["starts_on"], c["ends_on"]) for c in cycles] == [
        (1, "2024-06-01", "2026-06-01"),
        (2, "2026-06-01", "2028-06-01"),
    ]
    one = cycles[0]
    assert (one["rules_effective_from"], one["ceus_earned"], one["ceus_required"]) == (
        "2000-01-01",
        "24.00",
        "24",
    )
    assert (one["fee_paid"], one["fee_paid_cents"]) == (True, 7500)
    assert sorted(one["late_completions"]) == sorted([first, second])
    renewal = one["renewal"]
    assert renewal["renewal_id"] == filed["renewal_id"]
    assert renewal["outcome"] == "approved"
    assert renewal["filed_at"] == "2026-06-15T14:30:00Z"
    assert renewal["decided_at"] == "2026-06-15T14:30:00Z"
    assert one["audit"] == []
    assert (Decimal(cycles[1]["ceus_earned"]), cycles[1]["renewal"]) == (0, None)


async def test_the_cycle_history_of_a_program_not_held_is_a_404(shared_world):
    response = await shared_world.api.get(
        "/v1/managers/m-2/cycles", shared_world.m2, program="CMOM"
    )

    assert_problem(response, 404)


async def test_the_cycle_history_without_a_program_is_a_clear_4xx(shared_world):
    response = await shared_world.api.get("/v1/managers/m-2/cycles", shared_world.m2)

    assert response.status_code in (400, 422)
    assert "program" in assert_problem(response, response.status_code)["detail"]


# -- fees -------------------------------------------------------------------------------------


async def test_fees_add_up_until_the_fee_is_paid(world):
    api = world.api
    body = {"program": "CMOM", "amount_cents": 5000, "reference": "check 1041"}

    first = await api.ok(await api.post("/v1/managers/m-1/fees", world.cmom_auditor, body), 201)
    partly = await api.certification(world.m1, "m-1", "CMOM")
    await api.ok(
        await api.post("/v1/managers/m-1/fees", world.admin, body | {"amount_cents": 2500})
    )
    paid = await api.certification(world.m1, "m-1", "CMOM")

    assert first | {"fee_id": None, "position": None, "recorded_at": None} == body | {
        "fee_id": None,
        "manager_id": "m-1",
        "position": None,
        "recorded_at": None,
    }
    assert uuid.UUID(first["fee_id"])
    assert first["position"] == await api.head() - 1
    assert (partly["fee_paid"], partly["fee_paid_cents"]) == (False, 5000)
    assert (paid["fee_paid"], paid["fee_paid_cents"]) == (True, 7500)


@pytest.mark.parametrize(
    ("manager_id", "body", "status", "fields"),
    [
        ("m-1", {"program": "CMM", "amount_cents": 0, "reference": "x"}, 422, {"amount_cents"}),
        ("m-1", {"program": "CMM", "amount_cents": -5, "reference": "x"}, 422, {"amount_cents"}),
        (
            "m-1",
            {"program": "CMM", "amount_cents": "lots", "reference": "x"},
            422,
            {"amount_cents"},
        ),
        ("m-1", {"program": "CMM", "amount_cents": 1.5, "reference": "x"}, 422, {"amount_cents"}),
        ("m-1", {"program": "CMM", "amount_cents": 100, "reference": ""}, 422, {"reference"}),
        ("m-1", {"program": "CMM", "amount_cents": 100, "reference": " "}, 422, {"reference"}),
        ("m-1", {"program": "CMM", "amount_cents": 100}, 422, {"reference"}),
        ("m-9", {"program": "CMM", "amount_cents": 100, "reference": "x"}, 404, set()),
        ("m-2", {"program": "CMOM", "amount_cents": 100, "reference": "x"}, 404, set()),
        ("m-2", {"program": "CPC", "amount_cents": 100, "reference": "x"}, 404, set()),
    ],
    ids=[
        "nothing paid",
        "a negative amount",
        "an amount in words",
        "fractional cents",
        "an empty reference",
        "a blank reference",
        "no reference",
        "an unknown manager",
        "a program the manager does not hold",
        "an unknown program",
    ],
)
async def test_a_bad_fee_is_refused_and_nothing_is_stored(
    shared_world, manager_id, body, status, fields
):
    api = shared_world.api
    head = await api.head()

    response = await api.post(f"/v1/managers/{manager_id}/fees", shared_world.admin, body)

    problem = assert_problem(response, status)
    assert {e["field"] for e in problem.get("errors", [])} >= fields
    assert await api.head() == head


# -- renewals ---------------------------------------------------------------------------------


async def test_a_ready_manager_files_a_renewal_that_freezes_its_evidence(world):
    api = world.api
    cid = await posted(api, world.tma, "row-1", ceus="12")
    await api.pay_fee("m-1", "CMOM")

    response = await api.file_renewal(world.m1, "m-1", "CMOM")

    filed = await api.ok(response, 201)
    assert (filed["program"], filed["cycle"], filed["ceus"]) == ("CMOM", 1, "12.00")
    assert filed["completions"] == [
        {"completion_id": cid, "ceus": "12.00", "category": "core", "source": "provider"}
    ]
    assert filed["position"] == await api.head()
    cmom = await api.certification(world.m1, "m-1", "CMOM")
    assert (cmom["renewal"]["renewal_id"], cmom["renewal"]["state"]) == (
        filed["renewal_id"],
        "filed",
    )
    assert cmom["renewal_ready"] is False
    # The provider voids the posting afterwards: the filing still shows what it counted.
    await void(api, world.tma, cid)
    cycles = await api.ok(await api.get("/v1/managers/m-1/cycles", world.m1, program="CMOM"), 200)
    assert (cycles[0]["renewal"]["ceus"], cycles[0]["renewal"]["completions"]) == ("12.00", [cid])


async def test_a_renewal_not_ready_is_a_422_listing_every_shortfall(shared_world):
    api = shared_world.api
    head = await api.head()

    response = await api.file_renewal(shared_world.m1, "m-1", "CMOM")

    problem = assert_problem(response, 422)
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert set(messages) == {"ceus", "categories.core", "fee"}
    assert "12" in messages["ceus"]
    assert "9" in messages["categories.core"]
    assert "7500" in messages["fee"]
    assert await api.head() == head


async def test_a_renewal_short_of_ceus_only_lists_that(world):
    api = world.api
    await posted(api, world.tma, "row-1", ceus="10.5")
    await api.pay_fee("m-1", "CMOM")

    problem = assert_problem(await api.file_renewal(world.m1, "m-1", "CMOM"), 422)

    assert [(e["field"], e["message"]) for e in problem["errors"]] == [("ceus", "1.50 CEUs short")]


async def test_a_renewal_of_a_lapsed_certification_is_a_422_naming_the_status(world, clock):
    api = world.api
    await api.activity(world.tma, "tma", "tma-coding")
    await posted(api, world.tma, "row-1", manager_id="m-2", ceus="12")
    await posted(
        api,
        world.tma,
        "row-2",
        manager_id="m-2",
        activity_id="tma-coding",
        ceus="12",
        completed_on="2026-05-21",
    )
    await api.pay_fee("m-2", "CMM")
    clock.advance(days=16)  # 2026-07-01: the grace period is over

    problem = assert_problem(await api.file_renewal(world.m2, "m-2", "CMM"), 422)

    assert [e["field"] for e in problem["errors"]] == ["status"]
    assert "lapsed" in problem["errors"][0]["message"]


async def test_filing_a_renewal_twice_is_a_409(world):
    api = world.api
    await posted(api, world.tma, "row-1", ceus="12")
    await api.pay_fee("m-1", "CMOM")
    await api.ok(await api.file_renewal(world.m1, "m-1", "CMOM"))
    head = await api.head()

    assert_problem(await api.file_renewal(world.m1, "m-1", "CMOM"), 409)
    assert await api.head() == head


@pytest.mark.parametrize(
    ("body", "status"),
    [({"program": "CMOM"}, 404), ({"program": "CPC"}, 404), ({"program": "cmm"}, 422), ({}, 422)],
    ids=["a program not held", "an unknown program", "a code that is not one", "no program"],
)
async def test_a_bad_renewal_request_is_refused(shared_world, body, status):
    response = await shared_world.api.post("/v1/managers/m-2/renewals", shared_world.m2, body)

    problem = assert_problem(response, status)
    if status == 422:
        assert "program" in {e["field"] for e in problem["errors"]}
