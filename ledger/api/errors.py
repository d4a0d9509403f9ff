"""Every error the API returns, shaped once: RFC 9457 problem details.

Domain errors carry data, never status codes; this module decides the status.  A 422 always
has an `errors` list naming each bad field.  Anything unexpected is logged and answered with
a problem too (500), never a stack trace; the tests and the schemathesis run make sure that
does not happen for any input.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.openapi import ResponseSpec

from events.store import ConcurrencyConflict, DuplicateEventId
from ledger.access.errors import AccessError, Unauthenticated
from ledger.domain.errors import (
    DomainError,
    Invalid,
    RenewalNotReady,
)
from ledger.http.problems import RETRY_AFTER, human, status_of
from ledger.infra.logs import database_outage
from ledger.infra.workers import WorkersBusy
from ledger.queries.reads import ProjectionBehind

__all__ = [
    "BATCH_PROBLEMS",
    "DATABASE_ERRORS",
    "EXCEPTION_HANDLERS",
    "READ_PROBLEMS",
    "WRITE_PROBLEMS",
    "bad_query",
    "Problem",
    "field_problem",
    "ProblemResponse",
    "database_unavailable",
    "problem",
    "problems",
]

_log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
ProblemResponse = Response[dict[str, Any]]

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldProblem(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    message: str
    source: str | None = None


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """The body of every error (RFC 9457); some carry more members, such as the shortfalls of
    a renewal that is not ready."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldProblem] | None = None
    """For a 422: each bad field."""


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The OpenAPI `responses=` of a handler that may answer these problems."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_TITLES.get(status, "Error"),
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in statuses
    }


READ_PROBLEMS = problems(400, 401, 403, 404, 422, 503)
"""What any authenticated read may answer: a malformed or invalid query, no or a bad token,
outside the caller's scope, nothing there, or the database (or read model) not ready."""
WRITE_PROBLEMS = problems(400, 401, 403, 404, 409, 413, 415, 422, 503)
"""A read's problems, and a conflict, a body too large, or a body that is not JSON."""
BATCH_PROBLEMS = problems(400, 401, 403, 404, 409, 413, 415, 422, 503)
"""A write's problems, and a body neither JSON nor CSV."""


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")
"""msgspec names the field itself for an unknown or a missing one; the key is its parent."""
_AT = re.compile(r" - at (?:`key` in )?`\$\.?([^`]*)`$")
"""Where msgspec says the fault is: a field, or (`key` in) a mapping whose key is bad."""
_MISSING_PARAMETER = re.compile(r"Missing required (\w+) parameter '([^']+)'")


def field_problem(message: str, *, default: str) -> tuple[str, str]:
    """msgspec's `... - at `$.items[3].ceus``: the field it names and what is wrong with it."""
    field = default
    if (at := _AT.search(message)) is not None:
        field, message = at[1] or default, message[: at.start()]
    if (named := _NAMED_FIELD.search(message)) is not None:  # the field itself, not its parent
        field = named[1] if field in (default, "data", "body") else f"{field}.{named[1]}"
    return field, human(message)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> ProblemResponse:
    if not isinstance(exc.extra, list) or not exc.extra:
        if (missing := _MISSING_PARAMETER.match(exc.detail)) is not None:
            where, name = missing[1], missing[2]
            message = f"the {where} parameter is required"
            error = {"field": name, "message": message, "source": where}
            return problem(request, 422, f"missing {where} parameter {name!r}", errors=[error])
        # msgspec could not even parse the body (or the query string into the right shape).
        return problem(request, 400, f"malformed request: {exc.detail}")
    errors = []
    for item in exc.extra:
        message = str(item.get("message", "invalid"))
        field = item.get("key") or "body"
        if (named := _NAMED_FIELD.search(message)) is not None:
            field = named[1] if field in ("data", "body") else f"{field}.{named[1]}"
        source = item.get("source", "body")
        source = getattr(source, "value", source)  # Litestar's ParamType, e.g. "query"
        errors.append({"field": str(field), "message": human(message), "source": str(source)})
    return problem(request, 422, "the request has invalid fields", errors=errors)


def bad_query(name: str, message: str) -> ValidationException:
    """A 422 naming one query parameter (raise it)."""
    error = {"key": name, "message": message, "source": "query"}
    return ValidationException(detail="invalid query parameters", extra=[error])


def _domain(request: Request[Any, Any, Any], exc: DomainError) -> ProblemResponse:
    match exc:
        case Invalid():
            query = request.query_params
            errors = [
                {
                    "field": e.field,
                    "message": e.message,
                    "source": "query" if e.field in query else "body",
                }
                for e in exc.errors
            ]
            return problem(request, 422, exc.detail, errors=errors)
        case RenewalNotReady():
            shortfalls = [
                {
                    "field": f"categories.{s.category}"
                    if s.category
                    else f"sources.{s.source}"
                    if s.source
                    else s.requirement,
                    "message": s.words,
                }
                for s in exc.shortfalls
            ]
            if exc.status in ("lapsed", "revoked"):
                shortfalls.insert(
                    0, {"field": "status", "message": f"the certification is {exc.status}"}
                )
            return problem(
                request,
                422,
                f"renewal not ready: {exc.detail}",
                errors=shortfalls,
                status_of_certification=exc.status,
                shortfalls=[
                    {
                        "requirement": s.requirement,
                        "category": s.category,
                        "missing": str(s.missing),
                        **(
                            {
                                "source": s.source,
                                "required": str(s.required),
                                "counted": str(s.counted),
                            }
                            if s.source
                            else {}
                        ),
                    }
                    for s in exc.shortfalls
                ],
            )
    return problem(request, status_of(exc), exc.detail)


def _conflict(
    request: Request[Any, Any, Any], exc: ConcurrencyConflict | DuplicateEventId
) -> ProblemResponse:
    return problem(request, 409, str(exc))


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> ProblemResponse:
    headers = (
        {"WWW-Authenticate": 'Bearer realm="ceu-ledger"'}
        if isinstance(exc, NotAuthorizedException)
        else None
    )
    return problem(request, exc.status_code, exc.detail, headers=headers)


def _access(request: Request[Any, Any, Any], exc: AccessError) -> ProblemResponse:
    """Access's refusals: nobody is calling (401, with the scheme to use) or the caller may
    not (403)."""
    if isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="ceu-ledger"'}
        return problem(request, 401, exc.detail, headers=headers)
    return problem(request, 403, exc.detail)


DATABASE_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, the unix socket gone (FileNotFoundError), timeouts
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError
    asyncpg.exceptions.OperatorInterventionError,  # CannotConnectNow, AdminShutdown, Crash...
    asyncpg.exceptions.InsufficientResourcesError,  # TooManyConnectionsError, disk full
    asyncpg.InterfaceError,  # the connection closed under an operation
    asyncpg.InternalClientError,  # the protocol lost its state (seen from COMMIT on restart)
)
"""What asyncpg raises while PostgreSQL is unreachable, starting up or shutting down: the
client may try again (503), the request itself was fine."""


def database_unavailable(
    request: Request[Any, Any, Any], exc: Exception, **extra: Any
) -> ProblemResponse:
    database_outage.down(exc)  # one warning per outage; the request log marks its end
    return problem(
        request,
        503,
        "the database is unavailable; try again",
        headers={"Retry-After": RETRY_AFTER},
        **extra,
    )


def _read_only(request: Request[Any, Any, Any], exc: Exception) -> ProblemResponse:
    """A write reached a server that is no longer the primary (a planned switchover demoted
    it under an open connection): to the client, the same as no primary at all (503, try
    again).  The pool's connections are renewed, so that the retry connects anew and finds
    the writable host (`target_session_attrs=read-write`)."""
    pool = getattr(request.app.state, "pool", None)
    if pool is not None:
        task = asyncio.get_running_loop().create_task(pool.expire_connections())
        _renewals.add(task)
        task.add_done_callback(_renewals.discard)
    return database_unavailable(request, exc)


_renewals: set[asyncio.Task[None]] = set()
"""The pending `expire_connections` (an exception handler is not a coroutine)."""


def _unstorable(request: Request[Any, Any, Any], exc: Exception) -> ProblemResponse:
    """Text PostgreSQL refuses (a NUL character, say in a path segment such as a manager id):
    the request is bad, the server is fine."""
    return problem(request, 400, f"the request has text the ledger cannot store: {exc}")


def _out_of_range(request: Request[Any, Any, Any], exc: Exception) -> ProblemResponse:
    """A value PostgreSQL cannot hold (an integer past bigint, say): the request is bad."""
    return problem(request, 400, "the request has a value out of range")


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> ProblemResponse:
    return problem(request, 400, "the body is nested too deeply")


def _behind(request: Request[Any, Any, Any], exc: ProjectionBehind) -> ProblemResponse:
    return problem(
        request,
        503,
        "the read model is catching up; try again",
        headers={"Retry-After": RETRY_AFTER},
    )


def _busy(request: Request[Any, Any, Any], exc: WorkersBusy) -> ProblemResponse:
    """Too many PDFs (or large rosters) wait for a worker process: a retry, not a pile-up."""
    return problem(request, 503, str(exc), headers={"Retry-After": RETRY_AFTER})


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> ProblemResponse:
    _log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, 500, "an unexpected error occurred; it has been logged")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ValidationException: _validation,
    HTTPException: _http,
    DomainError: _domain,
    AccessError: _access,
    ConcurrencyConflict: _conflict,
    DuplicateEventId: _conflict,
    ProjectionBehind: _behind,
    WorkersBusy: _busy,
    asyncpg.CharacterNotInRepertoireError: _unstorable,
    asyncpg.UntranslatableCharacterError: _unstorable,
    asyncpg.DataError: _out_of_range,
    OverflowError: _out_of_range,
    RecursionError: _too_deep,
    **dict.fromkeys(DATABASE_ERRORS, database_unavailable),
    asyncpg.ReadOnlySQLTransactionError: _read_only,
    Exception: _unexpected,
}
