"""The catalogue through the API: tokens, programs and their rule versions, providers and their
activities.  Today is 2026-06-15; CMM and CMOM are on every fresh ledger."""

from __future__ import annotations

import hashlib
from typing import Any

import asyncpg
import pytest

from tests.api.world import ADMIN_TOKEN, assert_problem, bad_fields

RULES = {
    "effective_from": "2026-07-01",
    "cycle_months": 24,
    "required_ceus": "30",
    "categories": ["core", "general", "coding"],
    "category_minimums": {"coding": "6"},
    "grace_days": 45,
    "fee_cents": 9000,
}


def activity(activity_id: str = "tma-ethics", **changes: Any) -> dict[str, Any]:
    return {
        "activity_id": activity_id,
        "title": "Ethics in the front office",
        "format": "webinar",
        "ceus": "1.5",
        "category": "general",
        "programs": ["CMM"],
        "starts_on": "2026-06-01",
        "ends_on": "2026-06-30",
    } | changes


# -- tokens -----------------------------------------------------------------------------------


async def test_an_admin_issues_a_token_that_works_at_once(world):
    api = world.api

    response = await api.post("/v1/tokens", world.admin, {"role": "manager", "manager_id": "m-2"})

    created = await api.ok(response, 201)
    assert created["role"] == "manager"
    assert created["manager_id"] == "m-2"
    assert created["token"]
    status = await api.get("/v1/managers/m-2/status", created["token"])
    assert (await api.ok(status, 200))["manager_id"] == "m-2"


@pytest.mark.parametrize(
    "scope",
    [
        {"role": "admin"},
        {"role": "provider", "provider_id": "mgma"},
        {"role": "manager", "manager_id": "m-1"},
        {"role": "auditor", "programs": ["CMM", "CMOM"]},
    ],
    ids=["admin", "provider", "manager", "auditor"],
)
async def test_a_token_of_every_role_is_issued_with_its_scope(shared_world, scope):
    created = await shared_world.api.ok(
        await shared_world.api.post("/v1/tokens", shared_world.admin, scope)
    )

    assert {k: created[k] for k in scope} == scope
    assert created["token"] != created["token_id"]


async def test_a_token_is_stored_only_as_its_sha256(world, dsn):
    token = await world.api.token("auditor", programs=["CMM"])

    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT * FROM api_tokens")
    finally:
        await conn.close()

    assert hashlib.sha256(token.encode()).digest() in {row["token_hash"] for row in rows}
    assert not any(token in str(value) for row in rows for value in row.values())


async def test_two_tokens_for_the_same_scope_differ(shared_world):
    first = await shared_world.api.token("provider", provider_id="tma")
    second = await shared_world.api.token("provider", provider_id="tma")

    assert first != second


@pytest.mark.parametrize(
    ("scope", "fields"),
    [
        ({"role": "provider"}, {"provider_id"}),
        ({"role": "manager", "manager_id": "m-1", "provider_id": "tma"}, {"provider_id"}),
        ({"role": "auditor"}, {"programs"}),
        ({"role": "admin", "manager_id": "m-1", "programs": ["CMM"]}, {"manager_id", "programs"}),
        ({"role": "king"}, {"role"}),
        ({"role": "admin", "expires": "never"}, {"expires"}),
        ({"provider_id": "tma"}, {"role"}),
        ({"role": "auditor", "programs": ["cmm"]}, {"programs[0]"}),
    ],
    ids=[
        "a provider token without provider_id",
        "a manager token with a provider_id",
        "an auditor token without programs",
        "an admin token with a scope",
        "an unknown role",
        "an unknown field",
        "no role",
        "a program code that is not one",
    ],
)
async def test_a_token_with_a_wrong_scope_is_a_422_naming_the_fields(shared_world, scope, fields):
    response = await shared_world.api.post("/v1/tokens", shared_world.admin, scope)

    assert bad_fields(response) >= fields


# -- programs ---------------------------------------------------------------------------------


async def test_every_fresh_ledger_has_cmm_and_cmom_with_their_rules(shared_world):
    programs = await shared_world.api.ok(
        await shared_world.api.get("/v1/programs", shared_world.m1), 200
    )

    by_code = {p["code"]: p for p in programs}
    assert sorted(by_code) == ["CMM", "CMOM"]
    [cmm] = by_code["CMM"]["rules"]
    assert (cmm["cycle_months"], cmm["required_ceus"], cmm["grace_days"]) == (24, "24", 30)
    assert (cmm["fee_cents"], cmm["audit_rate"], cmm["correction_window_days"]) == (
        7500,
        "0.10",
        60,
    )
    assert cmm["carryover_max_ceus"] == "0"
    [cmom] = by_code["CMOM"]["rules"]
    assert (cmom["cycle_months"], cmom["required_ceus"]) == (12, "12")
    assert cmom["category_minimums"] == {"core": "9"}
    assert by_code["CMM"]["association"] == "PAHCOM"


async def test_one_program_reads_by_its_code(shared_world):
    program = await shared_world.api.ok(
        await shared_world.api.get("/v1/programs/CMOM", shared_world.tma), 200
    )

    assert (program["code"], program["name"]) == ("CMOM", "Certified Medical Office Manager")
    assert len(program["rules"]) == 1


@pytest.mark.parametrize("code", ["CPC", "cmm", "x"])
async def test_an_unknown_program_is_a_404(shared_world, code):
    assert_problem(await shared_world.api.get(f"/v1/programs/{code}", shared_world.m1), 404)


async def test_an_admin_defines_a_program_that_everyone_then_sees(world):
    api = world.api
    body = {
        "code": "CPC",
        "name": "Certified Professional Coder",
        "association": "AAPC",
        "rules": RULES | {"effective_from": "2020-01-01"},
    }

    created = await api.ok(await api.post("/v1/programs", world.admin, body), 201)

    assert created["code"] == "CPC"
    [rules] = created["rules"]
    assert (rules["required_ceus"], rules["category_minimums"]) == ("30", {"coding": "6"})
    assert (rules["audit_rate"], rules["correction_window_days"]) == ("0.10", 60)
    listed = await api.ok(await api.get("/v1/programs", world.m2), 200)
    assert [p["code"] for p in listed] == ["CMM", "CMOM", "CPC"]


async def test_defining_a_program_twice_is_a_409(shared_world):
    body = {"code": "CMM", "name": "again", "association": "PAHCOM", "rules": RULES}

    assert_problem(await shared_world.api.post("/v1/programs", shared_world.admin, body), 409)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"code": "cpc"}, {"code"}),
        ({"name": ""}, {"name"}),
        ({"rules": RULES | {"cycle_months": 0}}, {"rules.cycle_months"}),
        ({"rules": RULES | {"required_ceus": "0"}}, {"required_ceus"}),
        ({"rules": RULES | {"required_ceus": "24.125"}}, {"required_ceus"}),
        ({"rules": RULES | {"category_minimums": {"coding": "31"}}}, {"category_minimums"}),
        ({"rules": RULES | {"audit_rate": "1.5"}}, {"audit_rate"}),
        ({"rules": RULES | {"audit_rate": "NaN"}}, {"rules.audit_rate"}),
        ({"rules": RULES | {"carryover_max_ceus": "-1"}}, {"carryover_max_ceus"}),
        ({"rules": RULES | {"effective_from": "someday"}}, {"rules.effective_from"}),
        ({"rules": RULES | {"fee": 1}}, {"rules.fee"}),
    ],
    ids=[
        "a lowercase code",
        "an empty name",
        "zero-month cycles",
        "zero required CEUs",
        "required CEUs with 3 decimals",
        "category minimums above the required CEUs",
        "an audit rate above 1",
        "an audit rate that is NaN",
        "a negative carry-over",
        "an effective date that is not a date",
        "an unknown rules field",
    ],
)
async def test_a_bad_program_is_a_422_naming_the_fields_and_nothing_is_stored(
    shared_world, changes, fields
):
    api = shared_world.api
    head = await api.head()
    body = {"code": "CPC", "name": "Coder", "association": "AAPC", "rules": RULES} | changes

    response = await api.post("/v1/programs", shared_world.admin, body)

    assert bad_fields(response) >= fields
    assert await api.head() == head
    assert_problem(await api.get("/v1/programs/CPC", shared_world.admin), 404)


# -- rule versions ----------------------------------------------------------------------------


async def test_an_admin_adds_a_rule_version_listed_after_the_earlier_ones(world):
    api = world.api

    response = await api.post("/v1/programs/CMM/rules", world.admin, RULES)

    program = await api.ok(response, 201)
    assert [r["effective_from"] for r in program["rules"]] == ["2000-01-01", "2026-07-01"]
    assert program["rules"][1]["required_ceus"] == "30"
    listed = await api.ok(await api.get("/v1/programs/CMM", world.m1), 200)
    assert listed == program


async def test_a_rule_version_sets_the_workshop_rules_and_they_default_otherwise(world):
    api = world.api

    response = await api.post(
        "/v1/programs/CMM/rules",
        world.admin,
        RULES | {"min_presence": "0.75", "claim_window_days": 45},
    )

    first, second = (await api.ok(response, 201))["rules"]
    assert (first["min_presence"], first["claim_window_days"]) == ("0.9", 30)
    assert (second["min_presence"], second["claim_window_days"]) == ("0.75", 45)


async def test_a_rule_version_judges_only_cycles_that_start_after_it(world):
    api = world.api
    await api.ok(await api.post("/v1/programs/CMM/rules", world.admin, RULES))

    cycles = await api.ok(
        await api.get("/v1/managers/m-2/cycles", world.m2, program="CMM", as_of="2028-06-02"), 200
    )

    assert [(c["number"], c["rules_effective_from"], c["ceus_required"]) for c in cycles] == [
        (1, "2000-01-01", "24"),
        (2, "2000-01-01", "24"),
        (3, "2026-07-01", "30"),
    ]


async def test_a_rule_version_effective_today_is_accepted(world):
    response = await world.api.post(
        "/v1/programs/CMOM/rules", world.admin, RULES | {"effective_from": "2026-06-15"}
    )

    assert len((await world.api.ok(response, 201))["rules"]) == 2


async def test_a_rule_version_in_the_past_is_a_422_and_nothing_is_stored(shared_world):
    api = shared_world.api
    head = await api.head()

    response = await api.post(
        "/v1/programs/CMM/rules", shared_world.admin, RULES | {"effective_from": "2026-06-14"}
    )

    assert bad_fields(response) == {"effective_from"}
    assert await api.head() == head


async def test_a_second_rule_version_on_the_same_day_is_a_409(world):
    api = world.api
    await api.ok(await api.post("/v1/programs/CMM/rules", world.admin, RULES))

    assert_problem(await api.post("/v1/programs/CMM/rules", world.admin, RULES), 409)


async def test_rules_for_an_unknown_program_are_a_404(shared_world):
    assert_problem(
        await shared_world.api.post("/v1/programs/CPC/rules", shared_world.admin, RULES), 404
    )


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"grace_days": -1}, {"grace_days"}),
        ({"fee_cents": "free"}, {"fee_cents"}),
        ({"audit_rate": "NaN"}, {"audit_rate"}),
        ({"carryover_max_ceus": "Infinity"}, {"carryover_max_ceus"}),
        ({"required_ceus": "sNaN"}, {"required_ceus"}),
        ({"category_minimums": {"core": "NaN"}}, {"category_minimums.core"}),
        ({"cycle_months": None}, {"cycle_months"}),
        ({"min_presence": "0"}, {"min_presence"}),
        ({"min_presence": "1.5"}, {"min_presence"}),
        ({"min_presence": "NaN"}, {"min_presence"}),
        ({"claim_window_days": 0}, {"claim_window_days"}),
    ],
    ids=[
        "negative grace days",
        "a fee that is not a number",
        "an audit rate that is NaN",
        "an infinite carry-over",
        "required CEUs that are a signalling NaN",
        "a category minimum that is NaN",
        "no cycle length",
        "no presence needed at all",
        "more presence than the session",
        "a presence share that is NaN",
        "a claim window of no days",
    ],
)
async def test_a_bad_rule_version_is_a_422_naming_the_fields(shared_world, changes, fields):
    api = shared_world.api
    head = await api.head()

    response = await api.post("/v1/programs/CMM/rules", shared_world.admin, RULES | changes)

    assert bad_fields(response) >= fields
    assert await api.head() == head


# -- providers and activities -----------------------------------------------------------------


async def test_an_admin_registers_a_provider_that_then_registers_activities(world):
    api = world.api
    body = {"provider_id": "pmi-ed", "name": "PMI Education", "programs": ["CMOM"]}

    registered = await api.ok(await api.post("/v1/providers", world.admin, body), 201)
    token = await api.token("provider", provider_id="pmi-ed")
    created = await api.post(
        "/v1/providers/pmi-ed/activities", token, activity("pmi-1", programs=["CMOM"])
    )

    assert registered == body
    assert (await api.ok(created, 201))["activity_id"] == "pmi-1"


async def test_registering_a_provider_twice_is_a_409(shared_world):
    body = {"provider_id": "tma", "name": "TMA again", "programs": ["CMM"]}

    assert_problem(await shared_world.api.post("/v1/providers", shared_world.admin, body), 409)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"provider_id": "p-1", "name": "P", "programs": ["CPC"]}, {"programs"}),
        ({"provider_id": "p-1", "name": "P", "programs": []}, {"programs"}),
        ({"provider_id": "p 1", "name": "P", "programs": ["CMM"]}, {"provider_id"}),
        ({"provider_id": "p-1", "programs": ["CMM"]}, {"name"}),
        ({"provider_id": "p-1", "name": "P", "programs": ["CMM"], "url": "x"}, {"url"}),
    ],
    ids=["an unknown program", "no programs", "a bad id", "no name", "an unknown field"],
)
async def test_a_bad_provider_is_a_422_naming_the_fields(shared_world, body, fields):
    api = shared_world.api
    head = await api.head()

    assert bad_fields(await api.post("/v1/providers", shared_world.admin, body)) >= fields
    assert await api.head() == head


async def test_a_provider_registers_an_activity_that_it_can_then_post_for(world):
    api = world.api

    response = await api.post("/v1/providers/tma/activities", world.tma, activity())

    assert await api.ok(response, 201) == activity()
    posted = await api.post_completion(
        world.tma, "row-1", activity_id="tma-ethics", completed_on="2026-06-02", ceus="1.5"
    )
    assert (await api.ok(posted, 201))["manager_id"] == "m-1"


async def test_an_admin_registers_an_activity_for_a_provider(world):
    response = await world.api.post("/v1/providers/mgma/activities", world.admin, activity("m-x"))

    await world.api.ok(response, 201)


async def test_an_activity_id_is_unique_across_providers(shared_world):
    response = await shared_world.api.post(
        "/v1/providers/mgma/activities", shared_world.mgma, activity("tma-billing")
    )

    assert_problem(response, 409)


async def test_an_activity_of_an_unknown_provider_is_a_404(shared_world):
    response = await shared_world.api.post(
        "/v1/providers/nobody/activities", ADMIN_TOKEN, activity()
    )

    assert_problem(response, 404)


async def test_a_provider_id_with_a_nul_character_is_a_clear_4xx(shared_world):
    api = shared_world.api
    head = await api.head()

    response = await api.post("/v1/providers/t%00a/activities", shared_world.admin, activity())

    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)
    assert await api.head() == head


async def test_a_provider_cannot_register_an_activity_for_another(shared_world):
    response = await shared_world.api.post(
        "/v1/providers/tma/activities", shared_world.mgma, activity()
    )

    assert_problem(response, 403)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"ceus": "1.255"}, {"ceus"}),
        ({"ceus": "0"}, {"ceus"}),
        ({"ceus": "NaN"}, {"ceus"}),
        ({"starts_on": "2026-07-01", "ends_on": "2026-06-30"}, {"ends_on"}),
        ({"programs": ["CMOM"]}, {"programs"}),
        ({"programs": ["CPC"]}, {"programs"}),
        ({"programs": []}, {"programs"}),
        ({"starts_on": "June 1st"}, {"starts_on"}),
        (
            {"ceus": "1.255", "starts_on": "2026-07-01", "ends_on": "2026-06-30"},
            {"ceus", "ends_on"},
        ),
        ({"level": "advanced"}, {"level"}),
    ],
    ids=[
        "ceus with 3 decimals",
        "zero ceus",
        "ceus that are NaN",
        "an end before the start",
        "a program the provider is not approved for",
        "an unknown program",
        "no programs",
        "a start that is not a date",
        "two bad fields at once",
        "an unknown field",
    ],
)
async def test_a_bad_activity_is_a_422_naming_every_bad_field(shared_world, changes, fields):
    api = shared_world.api
    head = await api.head()

    response = await api.post(
        "/v1/providers/mgma/activities", shared_world.mgma, activity(**changes)
    )

    assert bad_fields(response) >= fields
    assert await api.head() == head
