"""What handlers are given: who is calling, the request's context, and the services."""

from __future__ import annotations

import uuid

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from ledger.access.policy import ManagerScope
from ledger.access.principals import Principal
from ledger.access.tokens import TokenStore
from ledger.commands import Context, Ledger
from ledger.http.guards import principal_of, seen_of_manager
from ledger.http.positions import READS_KEY
from ledger.http.request_log import request_info
from ledger.queries.reads import Reads

__all__ = [
    "DEPENDENCIES",
    "CurrentPrincipal",
    "LedgerDep",
    "PoolDep",
    "ReadsDep",
    "RequestContext",
    "SeenDep",
    "TokensDep",
]

# Handler parameters injected by name (Litestar wants them marked explicitly).
CurrentPrincipal = NamedDependency[Principal]
RequestContext = NamedDependency[Context]
LedgerDep = NamedDependency[Ledger]
ReadsDep = NamedDependency[Reads]
PoolDep = NamedDependency[asyncpg.Pool]
SeenDep = NamedDependency[ManagerScope]
TokensDep = NamedDependency[TokenStore]


def provide_principal(request: Request) -> Principal:
    """The caller `BearerAuthentication` found (ledger/http/authn.py), or Unauthenticated;
    the route's guards have asked already."""
    return principal_of(request)


def provide_seen(request: Request, principal: CurrentPrincipal) -> ManagerScope:
    """What the caller sees of the path's manager, as the `manager_of_path` guard found it."""
    return seen_of_manager(request)


def provide_context(request: Request, principal: CurrentPrincipal) -> Context:
    """The actor and the request id (the one `RequestLogMiddleware` echoes and logs)."""
    info = request_info(request.scope)
    request_id = info.request_id if info is not None else uuid.uuid4().hex
    return Context(actor=principal.actor, request_id=request_id)


# The services below are handed out after the caller is known (`principal`, unused; the
# ledger after the request's context, which follows from it): every handler that takes one
# takes the principal too, and these dependencies make Litestar resolve them one batch after
# the other.  Side by side, principal and a service would be
# one batch of two, which Litestar resolves in an anyio task group: about a tenth of the
# CPU time of a GET status (py-spy, bench/request_path.py).  A public handler (no caller)
# reads the state itself, as the credentials do (controllers/documents.py).


def provide_ledger(state: State, ctx: RequestContext) -> Ledger:
    return state.ledger


def provide_reads(request: Request, state: State, principal: CurrentPrincipal) -> Reads:
    """The primary's reads, or a replica's that `PositionsMiddleware` chose for this read."""
    return request.scope.get("state", {}).get(READS_KEY) or state.reads


def provide_pool(state: State, principal: CurrentPrincipal) -> asyncpg.Pool:
    return state.pool


def provide_tokens(state: State, principal: CurrentPrincipal) -> TokenStore:
    return state.tokens


DEPENDENCIES = {
    "principal": Provide(provide_principal, sync_to_thread=False),
    "ctx": Provide(provide_context, sync_to_thread=False),
    "ledger": Provide(provide_ledger, sync_to_thread=False),
    "reads": Provide(provide_reads, sync_to_thread=False),
    "pool": Provide(provide_pool, sync_to_thread=False),
    "tokens": Provide(provide_tokens, sync_to_thread=False),
    "seen": Provide(provide_seen, sync_to_thread=False),
}
