"""Schemathesis against the app's own OpenAPI (`/schema/openapi.json`), served by uvicorn on
loopback: no input gives a 5xx, input the schema forbids gets a 4xx, and every answer is one
the schema declares (its status code, its content type, its body).

The server runs in a thread with its own event loop, because schemathesis calls it
synchronously; the database is the test's own, holding the API tests' world plus a completion,
a filed renewal and an audit, so that generated requests reach real records too.  Each
operation gets valid and invalid inputs (schemathesis' positive and negative modes), with any
path parameters, and with path parameters naming records that exist.  Every operation is
called as each role (admin, provider, manager, auditor).  Generation is bounded and seeded:
a run is repeatable and takes about a minute and a half in all.  There is no stateful phase:
the app's OpenAPI declares no links for schemathesis to follow, and the records it would
create are made up front instead (`_records`), so that generated requests reach a real
completion, renewal and audit.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator

import httpx
import hypothesis
import pytest
import schemathesis
import uvicorn
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.app.factory import create_app
from ledger.cli import SYSTEM
from ledger.commands import Ledger
from ledger.commands.catalogue import ensure_default_programs
from ledger.settings import Secret, Settings
from tests.api.world import ADMIN_TOKEN, Api, World
from tests.builders import SteppingClock

SEED = 20260615
MAX_EXAMPLES = 20
SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    database=None,  # nothing kept between runs: the seed alone decides the inputs
    deadline=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # no shrinking: bounded time
    suppress_health_check=list(hypothesis.HealthCheck),
)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,  # invalid input is answered with a 4xx, never accepted
]
RENEWAL = {"program": "CMM"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The app on 127.0.0.1, the world's tokens, and the records that exist."""

    def __init__(self, base_url: str, world: World, known: dict[str, list[str]]) -> None:
        self.base_url, self.world, self.known = base_url, world, known

    def schema(self) -> schemathesis.BaseSchema:
        return schemathesis.openapi.from_url(f"{self.base_url}/schema/openapi.json")


async def _records(api: Api, world: World) -> dict[str, list[str]]:
    """A completion of m-1's; m-2's CMM renewal (24 CEUs and the fee); an audit selecting it.
    The values path parameters (and `program` in a query) take to name what exists."""
    law = {
        "activity_id": "tma-law", "title": "Health law", "format": "online", "ceus": "12",
        "category": "general", "programs": ["CMM"],
        "starts_on": "2026-01-01", "ends_on": "2026-12-31",
    }  # fmt: skip
    await api.ok(await api.post("/v1/providers/tma/activities", world.tma, law))
    completion = await api.ok(await api.post_completion(world.tma, "m1-billing", ceus="6"))
    for external_id, activity_id in (("m2-billing", "tma-billing"), ("m2-law", "tma-law")):
        await api.ok(
            await api.post_completion(
                world.tma, external_id, manager_id="m-2", activity_id=activity_id, ceus="12"
            )
        )
    fee = {"program": "CMM", "amount_cents": 7500, "reference": "cheque 1001"}
    await api.ok(await api.post("/v1/managers/m-2/fees", world.admin, fee))
    renewal = await api.ok(await api.post("/v1/managers/m-2/renewals", world.m2, RENEWAL))
    window = {"filed_from": "2026-06-01", "filed_to": "2026-06-30", "rate": "1", "seed": 7}
    audit = await api.ok(await api.post("/v1/programs/CMM/audits", world.cmm_auditor, window))
    # Workshops (SPEC 11): tma-billing's agenda and m-1's attendance at its one session.
    session = {
        "session_id": "s-1", "title": "Coding", "ceus": "2", "category": "core",
        "starts_at": "2026-05-18T09:00:00-05:00", "ends_at": "2026-05-18T11:00:00-05:00",
    }  # fmt: skip
    agenda = await api.client.put(
        "/v1/activities/tma-billing/sessions", json=[session],
        headers={"Authorization": f"Bearer {world.tma}"},
    )  # fmt: skip
    assert agenda.status_code == 201, agenda.text
    attended = {"manager_id": "m-1", "session_id": "s-1", "checked_in_at": session["starts_at"],
                "checked_out_at": session["ends_at"]}  # fmt: skip
    await api.ok(
        await api.post("/v1/activities/tma-billing/attendance", world.tma, {"items": [attended]}),
        200,
    )
    return {
        "activity_id": ["tma-billing"],
        "session_id": ["s-1"],
        "manager_id": ["m-1", "m-2"],
        "provider_id": ["tma", "mgma"],
        "code": ["CMM", "CMOM"],
        "program": ["CMM", "CMOM"],
        "completion_id": [completion["id"]],
        "renewal_id": [renewal["renewal_id"]],
        "audit_id": [audit["audit_id"]],
    }


@pytest.fixture
async def server(dsn: str, clock: SteppingClock) -> AsyncIterator[Server]:
    async with create_pool(dsn, min_size=1, max_size=2) as pool:  # what `serve` does at start
        await ensure_default_programs(
            Ledger(PostgresEventStore(pool, clock=clock), clock=clock), SYSTEM
        )
    port = _free_port()
    settings = Settings(
        admin_token=Secret(ADMIN_TOKEN), poll_interval=0.05, pool_size=4,
        public_url=f"http://127.0.0.1:{port}",
    )  # fmt: skip
    app = create_app(settings, dsn, clock=clock)
    served = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    # Its own thread and loop: schemathesis blocks the test's loop while it calls the server.
    thread = threading.Thread(target=served.run, name="schemathesis-server", daemon=True)
    thread.start()
    try:
        async with asyncio.timeout(30):
            while not served.started:
                assert thread.is_alive(), "the server did not start"
                await asyncio.sleep(0.02)
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url) as client:
            api = Api(client)  # type: ignore[arg-type]
            world = await World.build(api)
            known = await _records(api, world)
        yield Server(base_url, world, known)
    finally:
        served.should_exit = True
        await asyncio.to_thread(thread.join, 30)


def _cases(
    operation: schemathesis.APIOperation, headers: dict[str, str], known: dict[str, list[str]]
) -> st.SearchStrategy[schemathesis.Case]:
    """Valid and invalid inputs, and valid inputs whose path (and `program`) name records that
    exist."""
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
    ]
    path = [p.name for p in operation.path_parameters]
    query = [p.name for p in operation.query if p.name in known]
    if (path or query) and all(name in known for name in path):
        existing = st.fixed_dictionaries({n: st.sampled_from(known[n]) for n in path + query})
        strategies.append(
            existing.flatmap(
                lambda values: operation.as_strategy(
                    GenerationMode.POSITIVE,
                    headers=headers,
                    path_parameters={n: values[n] for n in path} or None,
                    query={n: values[n] for n in query} or None,
                )
            )
        )
    return st.one_of(strategies)


def exercise(
    schema: schemathesis.BaseSchema,
    token: str,
    known: dict[str, list[str]],
    subtests: pytest.Subtests,
) -> list[str]:
    """Every operation of `schema` called with `token`, each in a subtest; their labels."""
    headers = {"Authorization": f"Bearer {token}"}
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.seed(SEED)
        @SETTINGS
        @hypothesis.given(case=_cases(operation, headers, known))
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        with subtests.test(operation=operation.label):
            call()
        labels.append(operation.label)
    return labels


ROLES = ["admin", "tma", "m1", "cmm_auditor"]
"""One caller of each role: every operation is called as each of them (most answer a 403
for most roles, which must be a declared problem too; their own routes get past the guard)."""


@pytest.mark.parametrize("caller", ROLES)
def test_no_input_from_any_role_breaks_the_server_or_the_schema(server, subtests, caller):
    labels = exercise(server.schema(), getattr(server.world, caller), server.known, subtests)

    assert len(labels) >= 30
    assert "POST /v1/completions/batch" in labels


def test_the_feed_past_any_bigint_is_a_4xx_regression(server):
    """Found by this fuzzer once: `after=701618058646647598489830162432` overflowed bigint."""
    headers = {"Authorization": f"Bearer {server.world.admin}"}
    response = httpx.get(f"{server.base_url}/v1/events?after={10**30}", headers=headers)

    assert response.status_code == 422, response.text


def test_health_and_metrics_are_public_in_the_openapi(server):
    document = httpx.get(f"{server.base_url}/schema/openapi.json").json()

    assert document["security"] == [{"bearer": []}]
    assert document["paths"]["/health"]["get"]["security"] == []
    assert document["paths"]["/metrics"]["get"]["security"] == []
    assert "security" not in document["paths"]["/v1/events"]["get"]
