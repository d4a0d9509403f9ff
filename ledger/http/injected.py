"""What a handler of either door is given, by name: the parameters the composition root
provides (ledger/app/dependencies.py) and their types.

A handler names the one it needs (`reads: ReadsDep`) and gets the same service on the API and
on the pages.  `principal` is who is calling: the bearer token's principal on the API, the
session's on the pages (their routers override it); the request's context and the services
that follow it are built from whichever it is.
"""

from __future__ import annotations

import asyncpg
from litestar.di import NamedDependency

from ledger.access.policy import ManagerScope
from ledger.access.principals import Principal
from ledger.access.sessions import WebSessions
from ledger.access.tokens import TokenStore
from ledger.commands import Context, Ledger
from ledger.credentials.service import CredentialService
from ledger.evidence.store import EvidenceStore
from ledger.queries.reads import Reads

__all__ = [
    "CredentialsDep",
    "CurrentPrincipal",
    "EvidenceDep",
    "LedgerDep",
    "PoolDep",
    "ReadsDep",
    "RequestContext",
    "SeenDep",
    "SessionsDep",
    "TokensDep",
]

# Handler parameters injected by name (Litestar wants them marked explicitly).
CurrentPrincipal = NamedDependency[Principal]
RequestContext = NamedDependency[Context]
LedgerDep = NamedDependency[Ledger]
ReadsDep = NamedDependency[Reads]
PoolDep = NamedDependency[asyncpg.Pool]
TokensDep = NamedDependency[TokenStore]
SessionsDep = NamedDependency[WebSessions]
SeenDep = NamedDependency[ManagerScope]
"""What the caller may see of the path's manager (the `manager_of_path` guard's finding)."""
CredentialsDep = NamedDependency[CredentialService]
EvidenceDep = NamedDependency[EvidenceStore]
"""The evidence store: the files behind self-reports (ledger/evidence/store.py)."""
