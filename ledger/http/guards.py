"""Who may call a route, declared on the route: each guard is one sentence over the scope policy
(ledger/access/policy.py), the same on both doors.

Authentication comes first and once (`ledger.http.authn`): it puts the caller's `Principal` in
`connection.scope["user"]`, or None with the reason in `connection.scope["auth"]`.  A guard
reads it, and says no by raising an access error: `Unauthenticated` when nobody is calling
(the API answers 401 with `WWW-Authenticate`, the pages the sign-in page) or `Forbidden` when
the caller may not (403 problem details, or the pages' forbidden page).  Guards run before the
body is read and before any parameter is decoded, so a refusal never costs a decode and never
stores anything.

Every route declares at least one guard from this module; the ones anybody may call say so
with `public`.  `tests/api/test_authorization_matrix.py` reads the app's route table and fails
on a route without one.

What a guard cannot see.  A guard sees the caller and the path, never the body.  Where the
scope is named by a body field (a completion's provider in POST /v1/completions, the program
of a fee or a grant) or by a fact the path only points at (the program of a renewal, an audit
or a fee, the poster and programs of a completion), the route declares the guard that the
caller's role must pass (`auditor`, `admin_or_auditor`, `corrector`, ...) and its handler makes
the one remaining policy call once it has the fact in hand, with `deny_unless`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import HttpMethod
from litestar.handlers.base import BaseRouteHandler

from ledger.access.errors import Forbidden, Unauthenticated
from ledger.access.policy import ManagerScope, may_change_profile
from ledger.access.principals import Principal
from ledger.domain.catalogue import Activity
from ledger.http.positions import READS_KEY
from ledger.queries.managers import seen_by

__all__ = [
    "GUARDS",
    "MANAGER_SCOPE_KEY",
    "Guard",
    "admin",
    "admin_or_auditor",
    "attendee_of_path_activity",
    "answering_provider",
    "auditor",
    "auditor_of_path_program",
    "auditor_of_path_program_or_admin",
    "authenticated",
    "claimant_of_path",
    "corrector",
    "declared",
    "deny_unless",
    "holder_association_or_admin",
    "manager",
    "manager_of_path",
    "manager_or_admin_of_path",
    "manager_page_of_path",
    "manager_themselves",
    "principal_of",
    "provider",
    "provider_of_path",
    "provider_of_path_activity",
    "provider_themselves",
    "public",
    "reporter_association_or_admin",
    "seen_of_manager",
    "sentence",
]

Connection = ASGIConnection[Any, Any, Any, Any]
Guard = Callable[[Connection, BaseRouteHandler], Awaitable[None]]


def sentence(guard: Guard) -> Guard:
    """A guard, save for the answer Litestar makes itself to OPTIONS on every path (its Allow
    header), which is nobody's data and stays open to anybody, as before guards."""

    @functools.wraps(guard)
    async def checked(connection: Connection, handler: BaseRouteHandler) -> None:
        if getattr(handler, "http_methods", None) != {HttpMethod.OPTIONS}:
            await guard(connection, handler)

    return checked


MANAGER_SCOPE_KEY = "ledger.manager_scope"
"""Where `manager_of_path` leaves what the caller sees of the path's manager, for the handler."""


def declared(handler: BaseRouteHandler) -> list[object]:
    """The guards a route declares, on itself and on every layer above it, as declared
    (Litestar's `resolve_guards` hands them back wrapped)."""
    return [guard for layer in handler.ownership_layers for guard in (layer.guards or ())]


def deny_unless(condition: bool, detail: str) -> None:
    """Forbidden unless `condition`: the one policy call a handler keeps where the scope is in
    the body or behind a look-up (see the module docstring)."""
    if not condition:
        raise Forbidden(detail)


def principal_of(connection: Connection) -> Principal:
    """The caller authentication found, or Unauthenticated with the reason it gave."""
    user = connection.scope.get("user")
    if isinstance(user, Principal):
        return user
    refused = connection.scope.get("auth")
    if isinstance(refused, Unauthenticated):
        raise refused
    raise Unauthenticated("send Authorization: Bearer <token>")


def _path(connection: Connection, *names: str) -> str:
    for name in names:
        if (value := connection.path_params.get(name)) is not None:
            return str(value)
    raise LookupError(f"the route has none of the path parameters {names}")


# -- who anybody is ---------------------------------------------------------------------------


async def public(connection: Connection, _: BaseRouteHandler) -> None:
    """Anybody, signed in or not (health, metrics, the credentials' public documents, the
    verification page, the sign-in page, static files)."""


@sentence
async def authenticated(connection: Connection, _: BaseRouteHandler) -> None:
    """Any caller with a live token, whatever its role (the catalogue's reads)."""
    principal_of(connection)


@sentence
async def admin(connection: Connection, _: BaseRouteHandler) -> None:
    """An admin."""
    deny_unless(principal_of(connection).is_admin(), "only an admin")


@sentence
async def auditor(connection: Connection, _: BaseRouteHandler) -> None:
    """An auditor (of a program the handler checks once it has looked the program up)."""
    deny_unless(principal_of(connection).role == "auditor", "only an auditor")


@sentence
async def admin_or_auditor(connection: Connection, _: BaseRouteHandler) -> None:
    """An admin or an auditor (the log, enrolment, fees; a body's program checked after)."""
    principal = principal_of(connection)
    deny_unless(principal.is_admin() or principal.role == "auditor", "only an admin or an auditor")


@sentence
async def provider(connection: Connection, _: BaseRouteHandler) -> None:
    """A provider: it posts completions as itself (the provider is the token's, not a field)."""
    deny_unless(principal_of(connection).role == "provider", "only a provider posts completions")


@sentence
async def manager(connection: Connection, _: BaseRouteHandler) -> None:
    """A manager: checking in at a workshop's door, the code names the session and the caller
    is the person checked in."""
    deny_unless(principal_of(connection).role == "manager", "only a manager checks in")


@sentence
async def corrector(connection: Connection, _: BaseRouteHandler) -> None:
    """Who may void or amend a completion at all: a provider (its own postings, within the
    window), an auditor (of every program it counts for) or an admin; the completion's poster
    and programs are looked up, then `policy.corrects_freely` decides in the handler."""
    principal = principal_of(connection)
    deny_unless(
        principal.role in ("provider", "auditor", "admin"),
        "only the poster, an auditor of every program it counts for, or an admin",
    )


@sentence
async def holder_association_or_admin(connection: Connection, _: BaseRouteHandler) -> None:
    """A renewal's documents: a manager (its holder), an auditor (of its program) or an admin;
    the renewal is looked up, then the handler checks it is that manager's or program's."""
    principal = principal_of(connection)
    deny_unless(
        principal.role in ("manager", "auditor", "admin"),
        "a renewal's documents are its holder's, their association's and the admins'",
    )


# -- who the path names ---------------------------------------------------------------------


@sentence
async def provider_of_path(connection: Connection, _: BaseRouteHandler) -> None:
    """The path's provider itself, or an admin."""
    principal = principal_of(connection)
    provider_id = _path(connection, "provider_id")
    deny_unless(
        principal.is_admin() or principal.is_provider(provider_id),
        "only that provider or an admin",
    )


@sentence
async def auditor_of_path_program(connection: Connection, _: BaseRouteHandler) -> None:
    """An auditor of the path's program (its register, due list, audits, and the standing of
    its certifications): SPEC 6 names the association's auditors, not admins."""
    program = _path(connection, "program", "code")
    deny_unless(principal_of(connection).audits(program), f"only an auditor of {program}")


@sentence
async def provider_themselves(connection: Connection, _: BaseRouteHandler) -> None:
    """The path's provider itself, not even an admin (the pages' posting forms)."""
    provider_id = _path(connection, "provider_id")
    deny_unless(principal_of(connection).is_provider(provider_id), "only the provider itself posts")


@sentence
async def manager_themselves(connection: Connection, _: BaseRouteHandler) -> None:
    """The path's manager and nobody else (filing their own renewal: not even an admin)."""
    manager_id = _path(connection, "manager_id")
    deny_unless(
        principal_of(connection).is_manager(manager_id), "only the manager files their renewal"
    )


@sentence
async def manager_or_admin_of_path(connection: Connection, _: BaseRouteHandler) -> None:
    """The path's manager or an admin (a profile: the email is where notices go)."""
    manager_id = _path(connection, "manager_id")
    deny_unless(
        may_change_profile(principal_of(connection), manager_id),
        "only the manager or an admin changes a profile",
    )


@sentence
async def manager_of_path(connection: Connection, _: BaseRouteHandler) -> None:
    """Whoever sees something of the path's manager (`policy.scope_of`): the manager, an admin,
    or an auditor of a program the manager holds (an unknown manager is then a 404).  What the
    caller sees is left for the handler (`seen_of_manager`)."""
    await _manager_scope(connection, page=False)


@sentence
async def manager_page_of_path(connection: Connection, _: BaseRouteHandler) -> None:
    """`manager_of_path` for the pages: the same sentence, except that an auditor asking for an
    unknown manager sees nothing of it (the forbidden page, never "no such manager")."""
    await _manager_scope(connection, page=True)


async def _manager_scope(connection: Connection, *, page: bool) -> None:
    reads = connection.scope.get("state", {}).get(READS_KEY) or connection.app.state.reads
    scope = await seen_by(
        reads, principal_of(connection), _path(connection, "manager_id"),
        unknown_holds_nothing=page,
    )  # fmt: skip
    deny_unless(scope.any, "a manager's record is theirs, their associations' and the admins'")
    connection.scope.setdefault("state", {})[MANAGER_SCOPE_KEY] = scope


def seen_of_manager(connection: Connection) -> ManagerScope:
    """What `manager_of_path` found the caller sees of the path's manager."""
    scope = connection.scope.get("state", {}).get(MANAGER_SCOPE_KEY)
    if not isinstance(scope, ManagerScope):
        raise LookupError("the route does not declare the manager_of_path guard")
    return scope


@sentence
async def reporter_association_or_admin(connection: Connection, _: BaseRouteHandler) -> None:
    """A self-report's file: a manager (its reporter), an auditor (of one of its programs) or
    an admin; the report is looked up, then the handler asks the scope policy whether the
    caller sees it (ledger/queries/self_reports.py, `seen_report`)."""
    principal = principal_of(connection)
    deny_unless(
        principal.role in ("manager", "auditor", "admin"),
        "a self-report's evidence is its reporter's, their association's and the admins'",
    )


# -- claims (SPEC 11) ---------------------------------------------------------------------------


@sentence
async def claimant_of_path(connection: Connection, _: BaseRouteHandler) -> None:
    """The path's manager or an admin (filing a claim for the manager)."""
    principal = principal_of(connection)
    manager_id = _path(connection, "manager_id")
    deny_unless(
        principal.is_admin() or principal.is_manager(manager_id),
        "only the manager or an admin files the manager's claim",
    )


@sentence
async def answering_provider(connection: Connection, _: BaseRouteHandler) -> None:
    """A provider answering a claim; that it is the claim's own provider is decided once the
    claim is looked up (403 otherwise)."""
    deny_unless(
        principal_of(connection).role == "provider", "only the activity's provider answers a claim"
    )


@sentence
async def auditor_of_path_program_or_admin(connection: Connection, _: BaseRouteHandler) -> None:
    """An auditor of the path's program, or an admin (the providers' timeliness)."""
    principal = principal_of(connection)
    program = _path(connection, "program", "code")
    deny_unless(
        principal.is_admin() or principal.audits(program),
        f"only an auditor of {program} or an admin",
    )


GUARDS: frozenset[Guard] = frozenset(
    {
        public,
        authenticated,
        admin,
        auditor,
        admin_or_auditor,
        provider,
        corrector,
        holder_association_or_admin,
        provider_of_path,
        auditor_of_path_program,
        provider_themselves,
        manager_themselves,
        manager_or_admin_of_path,
        manager_of_path,
        manager_page_of_path,
        manager,
        reporter_association_or_admin,
        claimant_of_path,
        answering_provider,
        auditor_of_path_program_or_admin,
    }
)
"""Every guard of this module: a route declares at least one of them."""


# -- a workshop's routes (issue 18): who the path's activity belongs to ----------------------


async def _path_activity(connection: Connection) -> Activity | None:
    """The path's activity (None: not registered; the handler answers 404)."""
    reads = connection.scope.get("state", {}).get(READS_KEY) or connection.app.state.reads
    activity: Activity | None = await reads.catalogue.activity(_path(connection, "activity_id"))
    return activity


@sentence
async def provider_of_path_activity(connection: Connection, _: BaseRouteHandler) -> None:
    """The provider of the path's activity, or an admin: a workshop's agenda, attendance and
    close.  An activity nobody registered is left to the handler's 404 for a provider too
    (the catalogue is no secret: GET /v1/activities lists every activity to every role)."""
    principal = principal_of(connection)
    if principal.is_admin():
        return
    deny_unless(principal.role == "provider", "only the activity's provider or an admin")
    activity = await _path_activity(connection)
    deny_unless(
        activity is None or principal.is_provider(activity.provider_id),
        "only the activity's provider or an admin",
    )


@sentence
async def attendee_of_path_activity(connection: Connection, _: BaseRouteHandler) -> None:
    """One manager's attendance at the path's activity (their certificate): the activity's
    provider, the manager, an admin, or an auditor of a program the activity counts for that
    the manager holds (`policy.scope_of`: an auditor sees of a manager only its programs)."""
    principal = principal_of(connection)
    manager_id = _path(connection, "manager_id")
    if principal.is_admin() or principal.is_manager(manager_id):
        return
    activity = await _path_activity(connection)
    if principal.role == "provider":
        deny_unless(
            activity is None or principal.is_provider(activity.provider_id),
            "only the activity's provider, the manager, their association or an admin",
        )
        return
    deny_unless(principal.role == "auditor", "only the activity's provider, the manager, "
                "their association or an admin")  # fmt: skip
    reads = connection.scope.get("state", {}).get(READS_KEY) or connection.app.state.reads
    scope = await seen_by(reads, principal, manager_id, unknown_holds_nothing=False)
    deny_unless(
        scope.any and (activity is None or any(scope.program(c) for c in activity.programs)),
        "an auditor sees the attendance at activities of its programs, of managers holding them",
    )


GUARDS = GUARDS | {provider_of_path_activity, attendee_of_path_activity}
