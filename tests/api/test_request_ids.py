"""Every request has an id: the client's X-Request-ID if sane, else a new one; it is echoed in
every answer (problems included), written in the metadata of the events the request records,
and in the request's one JSON log line."""

from __future__ import annotations

import json
import logging
import re

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from ledger.api.errors import EXCEPTION_HANDLERS
from ledger.http.request_log import RequestLogMiddleware
from ledger.infra.logs import RequestFilter, database_outage, json_formatter
from tests.api.world import ADMIN_TOKEN
from tests.web.pages_client import sign_in, submit, web_world

GENERATED = re.compile(r"[0-9a-f]{32}")
LOG_FIELDS = {"time", "level", "request_id", "method", "route", "status", "duration_ms"}


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ledger.request"]


async def last_metadata(dsn: str) -> dict[str, object]:
    conn = await asyncpg.connect(dsn)
    try:
        raw = await conn.fetchval("SELECT metadata::text FROM events ORDER BY position DESC")
    finally:
        await conn.close()
    return json.loads(raw)


async def test_a_sane_client_id_is_echoed_and_written_in_the_events_metadata(world, dsn):
    api = world.api
    headers = {"Authorization": f"Bearer {world.tma}", "X-Request-ID": "roster-2026.05:line-7"}
    body = {
        "external_id": "row-1", "manager_id": "m-1", "activity_id": "tma-billing",
        "completed_on": "2026-05-20", "ceus": "6",
    }  # fmt: skip

    response = await api.client.post("/v1/completions", json=body, headers=headers)

    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "roster-2026.05:line-7"
    assert (await last_metadata(dsn))["request_id"] == "roster-2026.05:line-7"


@pytest.mark.parametrize(
    "sent",
    ["x" * 65, "two words", "<script>", "ünïcode", ""],
    ids=["too long", "a space", "markup", "not ascii", "empty"],
)
async def test_an_insane_client_id_is_replaced_by_a_new_one_everywhere(world, dsn, sent):
    api = world.api
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Request-ID": sent.encode("utf-8")}
    body = {"manager_id": "m-9", "name": "Nine", "email": "m9@example.org"}

    response = await api.client.post("/v1/managers", json=body, headers=headers)

    assert response.status_code == 201, response.text
    echoed = response.headers["x-request-id"]
    assert GENERATED.fullmatch(echoed)
    assert (await last_metadata(dsn))["request_id"] == echoed


async def test_an_id_of_64_characters_is_the_longest_kept(api):
    response = await api.client.get("/health", headers={"X-Request-ID": "x" * 64})

    assert response.headers["x-request-id"] == "x" * 64


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("<img src=x onerror=alert(1)>", False), ("x" * 65, False), ("form-post.7", True)],
    ids=["markup", "too long", "sane"],
)
async def test_a_web_forms_raw_request_id_is_never_stored_in_the_events_metadata(dsn, sent, kept):
    async with web_world(dsn) as world:
        client = world.api.client
        await sign_in(client, world.tma)
        fields = {
            "activity_id": "tma-coding", "title": "Coding refresher", "format": "online",
            "ceus": "2", "category": "core", "programs": "CMM",
            "starts_on": "2026-01-01", "ends_on": "2026-12-31",
        }  # fmt: skip

        response = await submit(
            client, "/providers/tma", "/providers/tma/activities", fields,
            headers={"X-Request-ID": sent},
        )  # fmt: skip

    assert response.status_code == 303, response.text[:500]
    stored = (await last_metadata(dsn))["request_id"]
    assert stored == response.headers["x-request-id"]
    assert stored == sent if kept else GENERATED.fullmatch(str(stored))


async def test_two_requests_without_an_id_get_different_ones(api):
    first = await api.get("/health", None)
    second = await api.get("/health", None)

    assert first.status_code == second.status_code == 200
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert GENERATED.fullmatch(first.headers["x-request-id"])


@pytest.mark.parametrize(
    ("method", "path", "who", "body", "status"),
    [
        ("GET", "/v1/managers/m-1/status", None, None, 401),
        ("GET", "/v1/managers/m-2/status", "m1", None, 403),
        ("GET", "/v1/managers/nobody/status", "admin", None, 404),
        ("GET", "/v1/no-such-route", "admin", None, 404),
        ("DELETE", "/v1/programs", "admin", None, 405),
        ("POST", "/v1/managers", "admin", {"manager_id": "m-3"}, 422),
    ],
)
async def test_every_problem_answer_carries_the_request_id(world, method, path, who, body, status):
    headers = {"X-Request-ID": f"probe-{status}"}
    if who is not None:
        headers["Authorization"] = f"Bearer {getattr(world, who)}"

    response = await world.api.client.request(method, path, headers=headers, json=body)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-request-id"] == f"probe-{status}"


async def test_the_log_line_names_the_route_template_the_status_and_the_actor(world, caplog):
    caplog.set_level(logging.INFO, logger="ledger.request")
    headers = {"Authorization": f"Bearer {world.m1}", "X-Request-ID": "look-me-up"}

    response = await world.api.client.get("/v1/managers/m-1/status", headers=headers)

    assert response.status_code == 200
    (line,) = [r for r in request_lines(caplog) if r.request_id == "look-me-up"]
    assert line.method == "GET"
    assert line.route == "/v1/managers/{manager_id}/status", "the template, not the raw path"
    assert "m-1" not in line.route
    assert (line.status, line.actor_role) == (200, "manager")
    assert line.duration_ms >= 0


async def test_a_log_line_is_one_json_object_with_every_field(world, caplog):
    caplog.set_level(logging.INFO, logger="ledger.request")
    headers = {"Authorization": f"Bearer {world.cmm_auditor}", "X-Request-ID": "as-json"}

    await world.api.client.get("/v1/ledger/verify", headers=headers)

    (record,) = [r for r in request_lines(caplog) if r.request_id == "as-json"]
    text = json_formatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert LOG_FIELDS | {"actor_role"} <= line.keys()
    assert (line["level"], line["request_id"], line["route"]) == (
        "INFO",
        "as-json",
        "/v1/ledger/verify",
    )
    assert (line["status"], line["actor_role"]) == (200, "auditor")


# -- the middleware on its own: 500s, and records written while a request is served ----------


@get("/boom", sync_to_thread=False)
def boom() -> None:
    logging.getLogger("tests.inside").warning("about to fail")
    raise RuntimeError("a bug")


@get("/down", sync_to_thread=False)
def down() -> None:
    raise ConnectionError("the database went away")


def tiny_app() -> Litestar:
    app = Litestar([boom, down], exception_handlers=EXCEPTION_HANDLERS, logging_config=None)
    app.asgi_handler = RequestLogMiddleware(app.asgi_handler)
    return app


@pytest.mark.parametrize("path", ["/boom", "/down"])
async def test_server_errors_carry_the_request_id_too(path, caplog):
    caplog.set_level(logging.CRITICAL, logger="ledger.api.errors")  # the expected 500's log
    async with AsyncTestClient(tiny_app()) as client:
        response = await client.get(path, headers={"X-Request-ID": "when-it-breaks"})

    assert response.status_code >= 500
    assert response.headers["x-request-id"] == "when-it-breaks"


async def test_every_record_written_during_a_request_carries_its_id(caplog):
    caplog.set_level(logging.CRITICAL, logger="ledger.api.errors")  # (sets the handler's too)
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestFilter())
    async with AsyncTestClient(tiny_app()) as client:
        await client.get("/boom", headers={"X-Request-ID": "inside-1"})

    inside = [r for r in caplog.records if r.name == "tests.inside"]
    (line,) = request_lines(caplog)
    assert [r.request_id for r in inside] == ["inside-1"]
    assert (line.request_id, line.status, line.route) == ("inside-1", 500, "/boom")


async def test_an_exception_that_escapes_the_app_is_logged_as_a_500(caplog):
    caplog.set_level(logging.INFO, logger="ledger.request")

    async def broken(scope, receive, send) -> None:
        raise RuntimeError("before any answer")

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "state": {}}
    with pytest.raises(RuntimeError):
        await RequestLogMiddleware(broken)(scope, None, None)

    (line,) = request_lines(caplog)
    assert (line.status, line.route, line.method) == (500, None, "GET")


async def test_a_good_answer_from_the_database_ends_an_outage(api, caplog):
    caplog.set_level(logging.INFO, logger="ledger.outage")
    database_outage.up()  # whatever an earlier test of this process left it at
    caplog.clear()
    database_outage.down(ConnectionRefusedError("refused"))

    await api.get("/schema/openapi.json", None)  # does not touch the database
    still_down = database_outage.is_down
    response = await api.get("/health", None)

    assert response.status_code == 200
    assert still_down
    assert not database_outage.is_down
    assert [r.getMessage() for r in caplog.records] == ["database unavailable", "database back"]
