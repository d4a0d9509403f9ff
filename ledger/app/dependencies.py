"""The dependencies both doors take: who is calling, the request's context, and the services,
declared once for the whole app (`create_app` hands them to Litestar).  A handler of the API
or of the pages names the one it needs with the markers of ledger/http/injected.py.

`principal` here is the API's (the bearer token); the pages' router overrides it with the
session's (ledger/web/session.py), and every dependency below that follows the caller follows
whichever it is.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from ledger.access.policy import ManagerScope
from ledger.access.principals import Principal
from ledger.access.sessions import WebSessions
from ledger.access.tokens import TokenStore
from ledger.commands import Context, Ledger
from ledger.credentials.service import CredentialService
from ledger.evidence.store import EvidenceStore
from ledger.http.guards import principal_of, seen_of_manager
from ledger.http.injected import CurrentPrincipal, ReadsDep, RequestContext
from ledger.http.positions import READS_KEY
from ledger.http.request_log import request_info
from ledger.queries.reads import Reads

__all__ = ["DEPENDENCIES"]


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The caller `BearerAuthentication` found (ledger/http/authn.py), or Unauthenticated;
    the route's guards have asked already."""
    return principal_of(request)


def provide_seen(request: Request[Any, Any, Any], reads: ReadsDep) -> ManagerScope:
    """What the caller sees of the path's manager, as the `manager_of_path` guard found it.
    (`reads`, unused, puts it in the batch after the reads': see below.)"""
    return seen_of_manager(request)


def provide_context(request: Request[Any, Any, Any], principal: CurrentPrincipal) -> Context:
    """The actor and the request id (the one `RequestLogMiddleware` echoes and logs)."""
    info = request_info(request.scope)
    request_id = info.request_id if info is not None else uuid.uuid4().hex
    return Context(actor=principal.actor, request_id=request_id)


# The services below are handed out after the caller is known (`principal`, unused; the
# ledger after the request's context, which follows from it): every handler that takes one
# takes the principal too, and these dependencies make Litestar resolve them one batch after
# the other.  Side by side, principal and a service would be
# one batch of two, which Litestar resolves in an anyio task group: about a tenth of the
# CPU time of a GET status (py-spy, bench/request_path.py).  The token store, the sessions and
# the credentials serve callers not known yet (signing in, a public credential), so they
# follow nothing.


def provide_ledger(state: State, ctx: RequestContext) -> Ledger:
    ledger: Ledger = state.ledger
    return ledger


def provide_reads(
    request: Request[Any, Any, Any], state: State, principal: CurrentPrincipal
) -> Reads:
    """The primary's reads, or a replica's that `PositionsMiddleware` chose for this read."""
    reads: Reads = request.scope.get("state", {}).get(READS_KEY) or state.reads
    return reads


def provide_pool(state: State, principal: CurrentPrincipal) -> asyncpg.Pool:
    pool: asyncpg.Pool = state.pool
    return pool


def provide_tokens(state: State) -> TokenStore:
    tokens: TokenStore = state.tokens
    return tokens


def provide_sessions(state: State) -> WebSessions:
    sessions: WebSessions = state.sessions
    return sessions


def provide_credentials(state: State) -> CredentialService:
    credentials: CredentialService = state.credentials
    return credentials


def provide_evidence(state: State, principal: CurrentPrincipal) -> EvidenceStore:
    """The evidence store (SPEC 12's files): PostgreSQL's, over the app's pool."""
    evidence: EvidenceStore = state.evidence
    return evidence


DEPENDENCIES = {
    "principal": Provide(provide_principal, sync_to_thread=False),
    "ctx": Provide(provide_context, sync_to_thread=False),
    "ledger": Provide(provide_ledger, sync_to_thread=False),
    "reads": Provide(provide_reads, sync_to_thread=False),
    "pool": Provide(provide_pool, sync_to_thread=False),
    "tokens": Provide(provide_tokens, sync_to_thread=False),
    "sessions": Provide(provide_sessions, sync_to_thread=False),
    "credentials": Provide(provide_credentials, sync_to_thread=False),
    "seen": Provide(provide_seen, sync_to_thread=False),
    "evidence": Provide(provide_evidence, sync_to_thread=False),
}
