"""Every route's authorization, generated from the app's route table (issue 17).

1. Every route handler declares at least one guard of ledger/http/guards.py, on itself or on
   its controller or router; a route anybody may call says so with `public`.  A new route
   without a guard fails `test_every_route_declares_a_guard`, naming it.
2. Every guarded API route, called by each role, is refused or let through as its guards say:
   401 for nobody, 403 for a role a guard refuses, anything but 401 and 403 for a role every
   guard lets through; and a refusal stores nothing (the log's head does not move).
3. Every page (GET) route, opened by each role signed in on the pages, likewise: the sign-in
   page for nobody, the forbidden page (403) for a role a guard refuses.

The requests carry no valid body and name ids that do not exist, so a role the guards let
through meets the route's own answer (400, 404, 422, or a read), never a change: the whole
module runs on one shared world.  What a guard cannot see (the program of a body or of a
looked-up renewal, fee or completion) is pinned by test_authorization.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from ledger.app.factory import create_app
from ledger.http import guards as g
from ledger.http.authn import SESSION_GUARDED
from ledger.http.guards import GUARDS, declared
from ledger.settings import Settings
from tests.api.test_authorization import refusal_problems
from tests.api.world import ADMIN_TOKEN, Api, World
from tests.conftest import fresh_database
from tests.web.pages_client import pages, sign_in

ROLES = (
    "anonymous",
    "another_provider",
    "the_provider",
    "another_auditor",
    "the_auditor",
    "the_manager",
    "another_manager",
    "admin",
)
"""Who calls.  The path's provider is tma (mgma is another); its manager is m-2, who holds CMM
only (m-1 is another manager); its program is CMM (the CMOM auditor is another association's)."""

TOKEN_OF = {
    "another_provider": "mgma",
    "the_provider": "tma",
    "another_auditor": "cmom_auditor",
    "the_auditor": "cmm_auditor",
    "the_manager": "m2",
    "another_manager": "m1",
}

EVERYBODY = frozenset(ROLES)
SIGNED_IN = EVERYBODY - {"anonymous"}
PROVIDERS = frozenset({"another_provider", "the_provider"})
AUDITORS = frozenset({"another_auditor", "the_auditor"})
MANAGERS = frozenset({"the_manager", "another_manager"})

LETS_THROUGH = {
    g.public: EVERYBODY,
    g.authenticated: SIGNED_IN,
    g.admin: {"admin"},
    g.auditor: AUDITORS,
    g.admin_or_auditor: AUDITORS | {"admin"},
    g.provider: PROVIDERS,
    g.corrector: PROVIDERS | AUDITORS | {"admin"},
    g.holder_association_or_admin: MANAGERS | AUDITORS | {"admin"},
    g.provider_of_path: {"the_provider", "admin"},
    g.provider_themselves: {"the_provider"},
    g.auditor_of_path_program: {"the_auditor"},
    g.manager_themselves: {"the_manager"},
    g.manager_or_admin_of_path: {"the_manager", "admin"},
    # m-2 holds CMM only: the CMOM auditor sees nothing of it.
    g.manager_of_path: {"the_manager", "admin", "the_auditor"},
    g.manager_page_of_path: {"the_manager", "admin", "the_auditor"},
    # The path's activity is tma-billing (tma's, counting for CMM and CMOM).
    g.provider_of_path_activity: {"the_provider", "admin"},
    g.attendee_of_path_activity: {"the_provider", "the_manager", "the_auditor", "admin"},
    g.manager: MANAGERS,
    # A self-report's file: then the report itself decides (tests/api/test_self_reports_api.py).
    g.reporter_association_or_admin: MANAGERS | AUDITORS | {"admin"},
    g.claimant_of_path: {"the_manager", "admin"},
    g.answering_provider: PROVIDERS,
    g.auditor_of_path_program_or_admin: {"the_auditor", "admin"},
}
"""Whom each guard lets through in this world: one sentence of the policy each."""

PATH_VALUES = {
    "provider_id": "tma",
    "manager_id": "m-2",
    "program": "CMM",
    "code": "CMM",
    "purpose": "revocation",
    "thumbprint": "none",
    "activity_id": "tma-billing",
}
"""What a path parameter names; any other (an id) is a random UUID the ledger does not have."""


def _app_routes() -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    """(method, path, handler) of every route of the app, as Litestar's route table has it,
    without Litestar's own OPTIONS answers."""
    app = create_app(Settings(public_url="http://testserver.local"), "postgresql://unused/none")
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method != "OPTIONS":
                    yield method, route.path, handler


ROUTES = sorted(_app_routes(), key=lambda route: (route[1], route[0]))
"""By path, then method: the same order in every process (pytest-xdist's workers collect alike)."""


def _guards(handler: HTTPRouteHandler) -> list[object]:
    return [guard for guard in declared(handler) if guard in GUARDS]


def test_every_route_declares_a_guard():
    unguarded = [f"{method} {path}" for method, path, handler in ROUTES if not _guards(handler)]

    assert unguarded == [], "routes without a guard of ledger/http/guards.py"


def test_every_guard_has_its_sentence_in_this_table():
    assert set(LETS_THROUGH) == set(GUARDS)


def _allowed(handler: HTTPRouteHandler) -> frozenset[str]:
    allowed = EVERYBODY
    for guard in _guards(handler):
        allowed &= LETS_THROUGH[guard]  # type: ignore[index]
    return allowed


def _filled(path: str) -> str:
    for name in [p.split(":")[0] for p in path.split("{")[1:]]:
        kind = path.split("{" + name + ":")[1].split("}")[0]
        value = PATH_VALUES.get(name, str(uuid.uuid4()))
        path = path.replace(f"{{{name}:{kind}}}", value)
    return path


API_CASES = [
    pytest.param(method, path, role, role in _allowed(handler), id=f"{method} {path} {role}")
    for method, path, handler in ROUTES
    if path.startswith("/v1/") and g.public not in _guards(handler)
    for role in ROLES
]


def _token(world: World, role: str) -> str | None:
    if role == "anonymous":
        return None
    return ADMIN_TOKEN if role == "admin" else getattr(world, TOKEN_OF[role])


@pytest.mark.parametrize(("method", "path", "role", "allowed"), API_CASES)
async def test_each_role_is_refused_or_let_through_as_the_routes_guards_say(
    shared_world, method, path, role, allowed
):
    api = shared_world.api
    token = _token(shared_world, role)
    head = await api.head()

    if method == "GET":
        response = await api.get(_filled(path), token)
    elif method == "PUT":
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        response = await api.client.put(_filled(path), headers=headers, json={})
    else:
        response = await api.post(_filled(path), token, {})

    if allowed:
        assert response.status_code not in (401, 403), response.text
        return
    assert response.status_code == (401 if role == "anonymous" else 403), response.text
    assert refusal_problems(response) == []
    assert await api.head() == head


# -- the pages ---------------------------------------------------------------------------------

PAGE_CASES = [
    pytest.param(path, role, role in _allowed(handler), id=f"GET {path} {role}")
    for method, path, handler in ROUTES
    if method == "GET" and handler.opt.get(SESSION_GUARDED)
    for role in ROLES
]


@pytest.fixture(scope="module")
async def signed_in(admin_dsn, template_dsn):
    """The pages on a world of their own, and each role's session cookies."""
    async with fresh_database(admin_dsn) as dsn, pages(dsn) as client:
        world = await World.build(Api(client))
        jars: dict[str, dict[str, str]] = {"anonymous": {}}
        for role in ROLES[1:]:
            client.cookies.clear()
            await sign_in(client, _token(world, role))  # type: ignore[arg-type]
            jars[role] = dict(client.cookies)
        yield client, jars


@pytest.mark.parametrize(("path", "role", "allowed"), PAGE_CASES)
async def test_each_role_opens_or_is_refused_each_page_as_its_guards_say(
    signed_in, path, role, allowed
):
    client, jars = signed_in
    client.cookies.clear()
    client.cookies.update(jars[role])

    response = await client.get(_filled(path), follow_redirects=False)

    to_login = response.status_code in (302, 303) and response.headers["location"] == "/login"
    if allowed:
        assert response.status_code != 403, response.text[:300]
        assert not to_login
    elif role == "anonymous":
        assert to_login, (response.status_code, response.text[:300])
    else:
        assert response.status_code == 403, response.text[:300]
