"""The log through the API: the event feed (dense positions, chained hashes), the chain check,
and the operations pages (health, metrics, the OpenAPI document)."""

from __future__ import annotations

import asyncio
import itertools
import re

import asyncpg
import pytest

from tests.api.world import ADMIN_TOKEN, assert_problem, bad_fields

GENESIS = "00" * 32


async def feed(api, token: str = ADMIN_TOKEN, **params) -> dict:
    return await api.ok(await api.get("/v1/events", token, **params), 200)


async def all_events(api, limit: int = 5) -> list[dict]:
    """The whole log, page by page, following next_after."""
    events, after = [], 0
    while page := (await feed(api, after=after, limit=limit))["events"]:
        events += page
        after = page[-1]["position"]
    return events


# -- the event feed ---------------------------------------------------------------------------


async def test_the_feed_pages_through_the_log_in_position_order(world):
    api = world.api
    head = await api.head()

    first = await feed(api, limit=5)
    second = await feed(api, token=world.cmm_auditor, after=first["next_after"], limit=5)

    assert [e["position"] for e in first["events"]] == [1, 2, 3, 4, 5]
    assert first["next_after"] == 5
    assert [e["position"] for e in second["events"]] == [6, 7, 8, 9, 10]
    assert second["next_after"] == 10
    past_the_end = await feed(api, after=head)
    assert past_the_end == {"events": [], "next_after": head}


async def test_the_feed_positions_are_dense_and_the_hashes_chain(world):
    api = world.api
    await api.ok(await api.post_completion(world.tma, "row-1"))
    assert_problem(await api.post_completion(world.tma, "row-1", ceus="7"), 409)  # not stored
    await api.ok(await api.post_completion(world.tma, "row-2", completed_on="2026-05-21"))

    events = await all_events(api)

    assert [e["position"] for e in events] == list(range(1, await api.head() + 1))
    assert events[0]["prev_hash"] == GENESIS
    for previous, event in itertools.pairwise(events):
        assert event["prev_hash"] == previous["hash"]
    assert all(re.fullmatch("[0-9a-f]{64}", e["hash"]) for e in events)
    assert len({e["hash"] for e in events}) == len(events)


async def test_each_event_in_the_feed_carries_its_stream_type_and_data(world):
    api = world.api
    receipt = await api.ok(await api.post_completion(world.tma, "row-1", ceus="2.5"))

    [event] = (await feed(api, after=receipt["position"] - 1, limit=1))["events"]

    assert event["position"] == receipt["position"]
    assert (event["stream_id"], event["type"]) == ("manager-m-1", "completion_recorded")
    assert event["version"] >= 1
    assert event["recorded_at"] == receipt["recorded_at"]
    assert event["data"]["completion_id"] == receipt["id"]
    assert event["data"]["ceus"] == "2.50"
    assert event["data"]["external_id"] == "row-1"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"after": -1}, "after"),
        ({"after": "start"}, "after"),
    ],
)
async def test_a_bad_feed_query_is_a_422_naming_it(shared_world, params, field):
    response = await shared_world.api.get("/v1/events", shared_world.admin, **params)

    assert field in bad_fields(response)


# -- verify -----------------------------------------------------------------------------------


async def test_verify_walks_the_whole_chain_and_gives_the_head_hash(world):
    api = world.api
    events = await all_events(api, limit=1000)

    report = await api.ok(await api.get("/v1/ledger/verify", world.cmom_auditor), 200)

    assert report["ok"] is True
    assert report["events_checked"] == report["head_position"] == len(events)
    assert report["head_hash"] == events[-1]["hash"]
    assert report["first_bad_position"] is None


async def test_verify_names_the_first_event_changed_behind_the_ledgers_back(world, dsn):
    api = world.api
    receipt = await api.ok(await api.post_completion(world.tma, "row-1", ceus="2"))
    await api.ok(await api.post_completion(world.tma, "row-2", ceus="3", completed_on="2026-05-21"))
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():  # only a superuser can get past the append-only triggers
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(
                "UPDATE events SET data = replace(data::text, '\"2.00\"', '\"12.00\"')::json"
                " WHERE position = $1",
                receipt["position"],
            )
    finally:
        await conn.close()

    report = await api.ok(await api.get("/v1/ledger/verify", world.admin), 200)

    assert report["ok"] is False
    assert report["first_bad_position"] == receipt["position"]


# -- health, metrics, OpenAPI -----------------------------------------------------------------


async def test_health_needs_no_token_and_reports_the_database_and_the_head(world):
    response = await world.api.get("/health", None)

    health = await world.api.ok(response, 200)
    assert (health["status"], health["database"]) == ("ok", "ok")
    assert set(health["projections"]) == {
        "ceu",
        "chain_verification",
        "claims",
        "notices",
        "stream_summaries",
    }
    assert health["head_position"] == (await feed(world.api, limit=1000))["next_after"]


def samples(text: str, name: str) -> dict[str, float]:
    """Prometheus samples of metric `name`, by their label set."""
    found = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, _, value = line[len(name) :].rpartition(" ")
            found[labels] = float(value)
    return found


def sample(text: str, name: str, **labels: str) -> float:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    matching = [v for k, v in samples(text, name).items() if all(w in k for w in wanted)]
    return sum(matching)


async def metrics(api) -> str:
    response = await api.get("/metrics", None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_count_requests_by_route_and_status_with_their_latency(world):
    api = world.api
    status_route = {"path": "/v1/managers/{manager_id}/status", "method": "GET"}
    before = await metrics(api)

    await api.ok(await api.get("/v1/managers/m-1/status", world.m1), 200)
    await api.ok(await api.get("/v1/managers/m-2/status", world.m2), 200)
    assert_problem(await api.get("/v1/managers/m-9/status", world.admin), 404)
    after = await metrics(api)

    def requests(text: str, status: str) -> float:
        return sample(text, "ceu_ledger_requests_total", **status_route, status_code=status)

    assert requests(after, "200") - requests(before, "200") == 2
    assert requests(after, "404") - requests(before, "404") == 1
    count = "ceu_ledger_request_duration_seconds_count"
    assert sample(after, count, **status_route) - sample(before, count, **status_route) == 3
    assert sample(after, "ceu_ledger_request_duration_seconds_bucket", le="+Inf", **status_route)
    assert "# TYPE ceu_ledger_request_duration_seconds histogram" in after


async def test_metrics_count_events_appended_and_show_the_head_and_projection_lag(world):
    api = world.api
    before = await metrics(api)

    await api.ok(await api.post_completion(world.tma, "row-1"))
    await api.ok(await api.post_completion(world.tma, "row-2", completed_on="2026-05-21"))
    after = await metrics(api)

    appended = "ceu_ledger_events_appended_total"
    recorded = {"type": "completion_recorded"}
    assert sample(after, appended, **recorded) - sample(before, appended, **recorded) == 2
    assert sample(after, "ceu_ledger_log_head_position") == await api.head()
    assert {'{projection="ceu"}', '{projection="stream_summaries"}'} <= set(
        samples(after, "ceu_ledger_projection_lag_events")
    )
    for _ in range(200):  # the projectors catch up: the lag goes back to zero
        text = await metrics(api)
        if not any(samples(text, "ceu_ledger_projection_lag_events").values()):
            break
        await asyncio.sleep(0.05)
    assert not any(samples(text, "ceu_ledger_projection_lag_events").values()), text


SECTION_6 = [
    ("post", "/v1/tokens"),
    ("get", "/v1/programs"),
    ("post", "/v1/programs"),
    ("get", "/v1/programs/{code}"),
    ("post", "/v1/programs/{code}/rules"),
    ("post", "/v1/providers"),
    ("post", "/v1/providers/{provider_id}/activities"),
    ("post", "/v1/managers"),
    ("post", "/v1/managers/{manager_id}/certifications"),
    ("post", "/v1/completions"),
    ("post", "/v1/completions/batch"),
    ("get", "/v1/completions/{completion_id}"),
    ("post", "/v1/completions/{completion_id}/void"),
    ("post", "/v1/completions/{completion_id}/amend"),
    ("get", "/v1/managers/{manager_id}/status"),
    ("get", "/v1/managers/{manager_id}/status/explain"),
    ("get", "/v1/managers/{manager_id}/transcript"),
    ("get", "/v1/managers/{manager_id}/cycles"),
    ("post", "/v1/managers/{manager_id}/fees"),
    ("post", "/v1/managers/{manager_id}/renewals"),
    ("post", "/v1/renewals/{renewal_id}/decision"),
    ("get", "/v1/programs/{code}/renewals"),
    ("get", "/v1/programs/{code}/due"),
    ("post", "/v1/programs/{code}/audits"),
    ("get", "/v1/audits/{audit_id}"),
    ("post", "/v1/audits/{audit_id}/findings"),
    ("get", "/v1/events"),
    ("get", "/v1/ledger/verify"),
    ("get", "/health"),
    ("get", "/metrics"),
]


async def test_the_openapi_document_describes_every_endpoint_of_the_api(shared_world):
    response = await shared_world.api.get("/schema/openapi.json", None)

    assert response.status_code == 200, response.text
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "CEU Ledger"
    described = {(method, path) for path, item in document["paths"].items() for method in item}
    assert set(SECTION_6) <= described, sorted(set(SECTION_6) - described)
    assert "bearer" in document["components"]["securitySchemes"]
