"""What associations do through the API: decide renewals, read the renewal register and the
due list, draw audits and record their findings.

CMOM renews every 12 months with 12 CEUs (9 core) and a 7500-cent fee; `tma-billing` gives 12
core CEUs (2026-05-18..22).  Today is 2026-06-15.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from tests.api.conftest import world_of_its_own, world_with
from tests.api.world import World, assert_problem, bad_fields


async def renewal_filed(world, manager_id: str, certified_on: str | None = None) -> str:
    """`manager_id` (enrolled with a CMOM certification from `certified_on` unless it is m-1)
    earns 12 core CEUs, pays the fee and files; the renewal's id."""
    api = world.api
    token = world.m1 if certified_on is None else await api.enrol(manager_id, CMOM=certified_on)
    posting = await api.post_completion(
        world.tma, f"{manager_id}-billing", manager_id=manager_id, ceus="12"
    )
    await api.ok(posting)
    await api.pay_fee(manager_id, "CMOM")
    return (await api.ok(await api.file_renewal(token, manager_id, "CMOM")))["renewal_id"]


async def decide(world, renewal_id: str, decision: str, reason: str = "") -> dict:
    body = {"decision": decision, "reason": reason}
    response = await world.api.post(f"/v1/renewals/{renewal_id}/decision", world.cmom_auditor, body)
    return await world.api.ok(response, 200)


def drawn_by_hand(population: list[str], rate: str, seed: int) -> list[str]:
    """The documented draw, redone by an outside auditor: rank by SHA-256("seed:renewal_id")."""
    ranked = sorted(population, key=lambda rid: hashlib.sha256(f"{seed}:{rid}".encode()).digest())
    return ranked[: math.ceil(Decimal(rate) * len(population))]


# -- decisions --------------------------------------------------------------------------------


async def test_an_auditor_approves_a_filed_renewal(world):
    api = world.api
    renewal_id = await renewal_filed(world, "m-1")

    decided = await decide(world, renewal_id, "approve", "evidence complete")

    assert (decided["renewal_id"], decided["manager_id"], decided["program"]) == (
        renewal_id,
        "m-1",
        "CMOM",
    )
    assert (decided["decision"], decided["cycle"]) == ("approve", 1)
    assert decided["decided_at"] == "2026-06-15T14:30:00Z"
    assert decided["position"] == await api.head()
    cmom = await api.certification(world.m1, "m-1", "CMOM")
    assert (cmom["status"], cmom["renewal"]["state"]) == ("active", "approved")
    assert cmom["renewal"]["decided_at"] == "2026-06-15T14:30:00Z"


async def test_a_denied_renewal_can_be_filed_again(world):
    api = world.api
    renewal_id = await renewal_filed(world, "m-1")

    denied = await decide(world, renewal_id, "deny", "certificate illegible")
    again = await api.file_renewal(world.m1, "m-1", "CMOM")

    assert denied["decision"] == "deny"
    assert (await api.ok(again, 201))["renewal_id"] != renewal_id
    cycles = await api.ok(await api.get("/v1/managers/m-1/cycles", world.m1, program="CMOM"), 200)
    assert [(r["outcome"], r["reason"]) for r in cycles[0]["renewals"]] == [
        ("denied", "certificate illegible"),
        (None, ""),
    ]


async def test_what_the_association_knew_when_it_approved_stays_answerable(world, clock):
    api = world.api
    renewal_id = await renewal_filed(world, "m-1")
    decided_at = (await decide(world, renewal_id, "approve"))["decided_at"]
    clock.advance(days=1)
    [line] = await api.ok(await api.get("/v1/managers/m-1/transcript", world.m1), 200)
    path = f"/v1/completions/{line['completion_id']}/void"
    await api.ok(await api.post(path, world.tma, {"reason": "posted in error"}), 200)

    then = await api.certification(world.cmom_auditor, "m-1", "CMOM", known_at=decided_at)
    now = await api.certification(world.cmom_auditor, "m-1", "CMOM")

    assert (then["renewal"]["state"], then["ceus_earned"]) == ("approved", "12.00")
    assert (now["renewal"]["state"], now["ceus_earned"]) == ("approved", "0")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "deny"}, "reason"),
        ({"decision": "deny", "reason": "  "}, "reason"),
        ({"decision": "maybe", "reason": "x"}, "decision"),
        ({"reason": "x"}, "decision"),
        ({"decision": "approve", "by": "me"}, "by"),
    ],
    ids=["a denial without a reason", "a blank reason", "maybe", "no decision", "unknown field"],
)
async def test_a_bad_decision_is_a_422_and_the_renewal_stays_filed(world, body, field):
    api = world.api
    renewal_id = await renewal_filed(world, "m-1")
    head = await api.head()

    response = await api.post(f"/v1/renewals/{renewal_id}/decision", world.cmom_auditor, body)

    assert field in bad_fields(response)
    assert await api.head() == head
    assert (await api.certification(world.m1, "m-1", "CMOM"))["renewal"]["state"] == "filed"


async def test_deciding_a_renewal_twice_is_a_409(world):
    renewal_id = await renewal_filed(world, "m-1")
    await decide(world, renewal_id, "approve")

    response = await world.api.post(
        f"/v1/renewals/{renewal_id}/decision",
        world.cmom_auditor,
        {"decision": "deny", "reason": "x"},
    )

    assert_problem(response, 409)


async def test_deciding_an_unknown_renewal_is_a_404(shared_world):
    response = await shared_world.api.post(
        "/v1/renewals/00000000-0000-0000-0000-000000000000/decision",
        shared_world.cmom_auditor,
        {"decision": "approve"},
    )

    assert_problem(response, 404)


# -- the register -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def register_world(admin_dsn, world_template) -> AsyncIterator[tuple[World, dict[str, str]]]:
    """A world of the module's own with three CMOM renewals, for the tests that only read the
    register: m-3's cycle ends 2026-07-01 (approved), m-1's 2026-09-30 (filed), m-4's
    2026-12-01 (denied).  The world, and the renewals' ids by manager."""
    async with world_of_its_own(admin_dsn, world_template) as world:
        ids = {
            "m-3": await renewal_filed(world, "m-3", "2025-07-01"),
            "m-1": await renewal_filed(world, "m-1"),
            "m-4": await renewal_filed(world, "m-4", "2025-12-01"),
        }
        await decide(world, ids["m-3"], "approve")
        await decide(world, ids["m-4"], "deny", "no evidence")
        yield world, ids


async def test_the_register_lists_every_renewal_by_cycle_end(register_world):
    world, register = register_world
    api = world.api

    rows = await api.ok(await api.get("/v1/programs/CMOM/renewals", world.cmom_auditor), 200)

    assert [(r["manager_id"], r["state"], r["cycle_ends_on"]) for r in rows] == [
        ("m-3", "approved", "2026-07-01"),
        ("m-1", "filed", "2026-09-30"),
        ("m-4", "denied", "2026-12-01"),
    ]
    assert [r["renewal_id"] for r in rows] == [register["m-3"], register["m-1"], register["m-4"]]
    m4 = rows[2]
    assert (m4["program"], m4["cycle"], m4["cycle_starts_on"]) == ("CMOM", 1, "2025-12-01")
    assert (m4["ceus"], m4["completions"], m4["fee_paid_cents"]) == ("12.00", 1, 7500)
    assert (m4["reason"], m4["audit_outcome"]) == ("no evidence", None)
    assert m4["filed_at"] == m4["decided_at"] == "2026-06-15T14:30:00Z"


@pytest.mark.parametrize(
    ("params", "managers"),
    [
        ({"state": "filed"}, ["m-1"]),
        ({"state": "approved"}, ["m-3"]),
        ({"state": "denied"}, ["m-4"]),
        ({"cycle_ends_from": "2026-08-01"}, ["m-1", "m-4"]),
        ({"cycle_ends_to": "2026-09-30"}, ["m-3", "m-1"]),
        ({"cycle_ends_from": "2026-07-01", "cycle_ends_to": "2026-07-01"}, ["m-3"]),
        ({"cycle_ends_from": "2026-08-01", "state": "denied"}, ["m-4"]),
        ({"cycle_ends_from": "2027-01-01"}, []),
    ],
)
async def test_the_register_filters_by_state_and_cycle_end(register_world, params, managers):
    world, _ = register_world
    rows = await world.api.ok(
        await world.api.get("/v1/programs/CMOM/renewals", world.cmom_auditor, **params), 200
    )

    assert [r["manager_id"] for r in rows] == managers


async def test_the_register_as_csv_has_a_header_and_one_row_per_renewal(register_world):
    world, register = register_world
    response = await world.api.get(
        "/v1/programs/CMOM/renewals", world.cmom_auditor, format="csv", state="approved"
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert (row["renewal_id"], row["manager_id"], row["state"]) == (
        register["m-3"],
        "m-3",
        "approved",
    )
    assert (row["cycle_ends_on"], row["ceus"], row["audit_outcome"]) == ("2026-07-01", "12.00", "")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "pending"}, "state"),
        ({"cycle_ends_from": "soon"}, "cycle_ends_from"),
        ({"cycle_ends_to": "2026-02-30"}, "cycle_ends_to"),
        ({"format": "xlsx"}, "format"),
    ],
)
async def test_a_bad_register_query_is_a_422_naming_it(shared_world, params, field):
    response = await shared_world.api.get(
        "/v1/programs/CMOM/renewals", shared_world.cmom_auditor, **params
    )

    assert field in bad_fields(response)


async def test_the_register_of_an_unknown_program_is_a_404(shared_world):
    cpc_auditor = await shared_world.api.unchecked_token("auditor", programs=("CPC",))

    assert_problem(await shared_world.api.get("/v1/programs/CPC/renewals", cpc_auditor), 404)


# -- the due list -----------------------------------------------------------------------------


async def test_the_due_list_gives_certifications_due_within_90_days_with_shortfalls(world):
    api = world.api
    await api.ok(await api.post_completion(world.tma, "row-1", manager_id="m-2", ceus="10"))

    due = await api.ok(await api.get("/v1/programs/CMM/due", world.cmm_auditor), 200)

    [m2] = due
    assert (m2["manager_id"], m2["program"], m2["status"], m2["cycle"]) == (
        "m-2",
        "CMM",
        "grace",
        1,
    )
    assert (m2["deadline"], m2["grace_ends_on"], m2["days_to_deadline"]) == (
        "2026-06-01",
        "2026-07-01",
        -14,
    )
    assert (m2["ceus_earned"], m2["ceus_required"], m2["renewal_ready"]) == ("10.00", "24", False)
    assert [(s["requirement"], s["missing"]) for s in m2["shortfalls"]] == [
        ("ceus", "14.00"),
        ("fee", "7500"),
    ]


@pytest.mark.parametrize(
    ("within_days", "managers"), [(0, ["m-2"]), (272, ["m-2"]), (273, ["m-2", "m-1"])]
)
async def test_the_due_list_reaches_as_far_as_within_days(shared_world, within_days, managers):
    due = await shared_world.api.ok(
        await shared_world.api.get(
            "/v1/programs/CMM/due", shared_world.cmm_auditor, within_days=within_days
        ),
        200,
    )

    assert [d["manager_id"] for d in due] == managers


async def test_a_lapsed_certification_is_no_longer_due(world, clock):
    clock.advance(days=16)  # 2026-07-01: m-2's grace is over

    due = await world.api.ok(
        await world.api.get("/v1/programs/CMM/due", world.cmm_auditor, within_days=365), 200
    )

    assert [d["manager_id"] for d in due] == ["m-1"]


@pytest.mark.parametrize(
    ("code", "params", "status"),
    [
        ("CMM", {"within_days": -1}, 422),
        ("CMM", {"within_days": "soon"}, 422),
        ("CMM", {"within_days": 100000}, 422),
        ("CPC", {}, 404),
    ],
    ids=["negative days", "days in words", "too many days", "an unknown program"],
)
async def test_a_bad_due_list_query_is_a_clear_4xx(shared_world, code, params, status):
    auditor = await shared_world.api.unchecked_token("auditor", programs=(code,))

    response = await shared_world.api.get(f"/v1/programs/{code}/due", auditor, **params)

    problem = assert_problem(response, status)
    if status == 422:
        assert "within_days" in {e["field"] for e in problem["errors"]}


# -- audits -----------------------------------------------------------------------------------


async def file_five(world) -> list[str]:
    """Four CMOM renewals filed today and a fifth one denied: the ids of the four."""
    ids = [
        await renewal_filed(world, "m-1"),
        await renewal_filed(world, "m-3", "2025-07-01"),
        await renewal_filed(world, "m-4", "2025-12-01"),
        await renewal_filed(world, "m-5", "2025-08-15"),
    ]
    await decide(world, await renewal_filed(world, "m-6", "2025-10-01"), "deny", "late")
    return ids


five_filed = world_with("five_filed", file_five)


@pytest.fixture
def filed(five_filed, world) -> list[str]:
    """Four CMOM renewals filed today and a fifth one denied (`file_five`, built once into a
    template that this test's database copies): the ids of the four."""
    return five_filed


async def draw(world, **body) -> dict:
    window = {"filed_from": "2026-06-01", "filed_to": "2026-06-30"}
    response = await world.api.post("/v1/programs/CMOM/audits", world.cmom_auditor, window | body)
    return await world.api.ok(response, 201)


async def test_the_same_seed_over_the_same_population_selects_the_same_renewals(world, filed):
    first = await draw(world, rate="0.5", seed=20260615)
    second = await draw(world, rate="0.5", seed=20260615)

    assert sorted(first["population"]) == sorted(filed)
    assert first["audit_id"] != second["audit_id"]
    assert (first["seed"], first["rate"]) == (20260615, "0.5")
    assert second["population"] == first["population"]
    assert second["selected"] == first["selected"]
    assert first["selected"] == drawn_by_hand(filed, "0.5", 20260615)


async def test_an_audit_draws_the_programs_audit_rate_with_a_random_seed_by_default(world, filed):
    drawn = await draw(world)

    assert drawn["rate"] == "0.10"
    assert isinstance(drawn["seed"], int)
    assert len(drawn["selected"]) == 1  # ceil(10% of 4)
    assert drawn["selected"] == drawn_by_hand(filed, "0.10", drawn["seed"])


async def test_an_audit_of_a_window_without_filings_selects_nothing(world, filed):
    drawn = await draw(world, filed_from="2026-01-01", filed_to="2026-06-14", seed=1)

    assert (drawn["population"], drawn["selected"]) == ([], [])


async def test_an_audit_reads_back_with_its_findings(world, filed):
    drawn = await draw(world, rate="0.5", seed=7)
    finding = {"renewal_id": drawn["selected"][0], "outcome": "passed", "note": "certificates ok"}
    await world.api.ok(
        await world.api.post(
            f"/v1/audits/{drawn['audit_id']}/findings", world.cmom_auditor, finding
        )
    )

    audit = await world.api.ok(
        await world.api.get(f"/v1/audits/{drawn['audit_id']}", world.cmom_auditor), 200
    )

    assert {k: audit[k] for k in drawn} == drawn | {"findings": audit["findings"]}
    [found] = audit["findings"]
    assert (found["renewal_id"], found["outcome"], found["note"]) == (
        drawn["selected"][0],
        "passed",
        "certificates ok",
    )


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"filed_from": "2026-07-01", "filed_to": "2026-06-01"}, {"filed_to"}),
        ({"rate": "0"}, {"rate"}),
        ({"rate": "1.5"}, {"rate"}),
        ({"rate": "-0.1"}, {"rate"}),
        ({"rate": "NaN"}, {"rate"}),
        ({"seed": -1}, {"seed"}),
        ({"filed_from": "June"}, {"filed_from"}),
        ({"size": 3}, {"size"}),
    ],
    ids=[
        "a window that ends before it starts",
        "a zero rate",
        "a rate above 1",
        "a negative rate",
        "a rate that is NaN",
        "a negative seed",
        "a window start that is not a date",
        "an unknown field",
    ],
)
async def test_a_bad_audit_draw_is_a_422_and_nothing_is_stored(shared_world, changes, fields):
    api = shared_world.api
    head = await api.head()
    body = {"filed_from": "2026-06-01", "filed_to": "2026-06-30", "seed": 1} | changes

    response = await api.post("/v1/programs/CMOM/audits", shared_world.cmom_auditor, body)

    assert bad_fields(response) >= fields
    assert await api.head() == head


async def test_an_audit_of_an_unknown_program_is_a_404(shared_world):
    body = {"filed_from": "2026-06-01", "filed_to": "2026-06-30"}
    cpc_auditor = await shared_world.api.unchecked_token("auditor", programs=("CPC",))

    assert_problem(await shared_world.api.post("/v1/programs/CPC/audits", cpc_auditor, body), 404)


async def test_an_unknown_audit_is_a_404(shared_world):
    path = "/v1/audits/00000000-0000-0000-0000-000000000000"

    assert_problem(await shared_world.api.get(path, shared_world.cmom_auditor), 404)
    finding = {"renewal_id": "00000000-0000-0000-0000-000000000000", "outcome": "passed"}
    assert_problem(
        await shared_world.api.post(f"{path}/findings", shared_world.cmom_auditor, finding), 404
    )


# -- findings ---------------------------------------------------------------------------------


async def test_a_failed_finding_revokes_the_certification(world, filed):
    api = world.api
    drawn = await draw(world, rate="0.25", seed=3)
    [renewal_id] = drawn["selected"]
    manager_id = next(
        r["manager_id"] for r in await register_rows(world) if r["renewal_id"] == renewal_id
    )
    finding = {"renewal_id": renewal_id, "outcome": "failed", "note": "certificates forged"}

    response = await api.post(
        f"/v1/audits/{drawn['audit_id']}/findings", world.cmom_auditor, finding
    )

    recorded = await api.ok(response, 201)
    assert (recorded["outcome"], recorded["revoked"]) == ("failed", True)
    cmom = await api.certification(world.admin, manager_id, "CMOM")
    assert cmom["status"] == "revoked"
    assert cmom["renewal_ready"] is False
    [row] = [r for r in await register_rows(world) if r["renewal_id"] == renewal_id]
    assert row["audit_outcome"] == "failed"
    cycles = await api.ok(
        await api.get(f"/v1/managers/{manager_id}/cycles", world.admin, program="CMOM"), 200
    )
    assert [(a["outcome"], a["note"]) for a in cycles[0]["audit"]] == [
        ("failed", "certificates forged")
    ]
    due = await api.ok(
        await api.get("/v1/programs/CMOM/due", world.cmom_auditor, within_days=3650), 200
    )
    assert manager_id not in {d["manager_id"] for d in due}


async def register_rows(world) -> list[dict]:
    response = await world.api.get("/v1/programs/CMOM/renewals", world.cmom_auditor)
    return await world.api.ok(response, 200)


async def test_a_passed_finding_leaves_the_certification_alone(world, filed):
    api = world.api
    drawn = await draw(world, rate="0.25", seed=3)
    finding = {"renewal_id": drawn["selected"][0], "outcome": "passed"}

    response = await api.post(
        f"/v1/audits/{drawn['audit_id']}/findings", world.cmom_auditor, finding
    )

    assert (await api.ok(response, 201))["revoked"] is False
    statuses = {
        (await api.certification(world.admin, m, "CMOM"))["status"] for m in ("m-1", "m-3", "m-4")
    }
    assert statuses == {"active"}


async def test_a_finding_on_a_renewal_not_selected_is_a_422(world, filed):
    api = world.api
    drawn = await draw(world, rate="0.25", seed=3)
    [not_selected, *_] = [r for r in filed if r not in drawn["selected"]]
    head = await api.head()
    finding = {"renewal_id": not_selected, "outcome": "failed"}

    response = await api.post(
        f"/v1/audits/{drawn['audit_id']}/findings", world.cmom_auditor, finding
    )

    assert bad_fields(response) == {"renewal_id"}
    assert await api.head() == head


async def test_a_second_finding_on_the_same_renewal_is_a_409(world, filed):
    api = world.api
    drawn = await draw(world, rate="0.25", seed=3)
    path = f"/v1/audits/{drawn['audit_id']}/findings"
    finding = {"renewal_id": drawn["selected"][0], "outcome": "passed"}
    await api.ok(await api.post(path, world.cmom_auditor, finding))

    response = await api.post(path, world.cmom_auditor, finding | {"outcome": "failed"})

    assert_problem(response, 409)


@pytest.mark.parametrize(
    ("finding", "field"),
    [
        ({"outcome": "passed"}, "renewal_id"),
        ({"renewal_id": "not-a-uuid", "outcome": "passed"}, "renewal_id"),
        ({"renewal_id": "00000000-0000-0000-0000-000000000000", "outcome": "ok"}, "outcome"),
    ],
    ids=["no renewal", "a renewal id that is not one", "an unknown outcome"],
)
async def test_a_bad_finding_is_a_422_naming_the_field(world, filed, finding, field):
    drawn = await draw(world, rate="0.25", seed=3)

    response = await world.api.post(
        f"/v1/audits/{drawn['audit_id']}/findings", world.cmom_auditor, finding
    )

    assert field in bad_fields(response)
