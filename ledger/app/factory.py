"""The application factory: one place that wires settings, the pool, the services and the routes."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from decimal import Decimal

from litestar import Litestar, Router
from litestar.exceptions import HTTPException, NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from events.metered import metered
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from events.store import utc_now
from ledger.access.sessions import WebSessions
from ledger.access.tokens import TokenStore
from ledger.api.controllers.activities import ActivitiesController
from ledger.api.controllers.approvals import ApprovalsController
from ledger.api.controllers.audits import AuditsController
from ledger.api.controllers.claims import ClaimsController
from ledger.api.controllers.completions import CompletionsController
from ledger.api.controllers.credentials import CredentialsController
from ledger.api.controllers.events import EventsController
from ledger.api.controllers.fees import FeesController
from ledger.api.controllers.issuers import IssuersController
from ledger.api.controllers.ledger import LedgerController
from ledger.api.controllers.managers import ManagersController
from ledger.api.controllers.operations import OperationsController
from ledger.api.controllers.programs import ProgramsController
from ledger.api.controllers.providers import ProvidersController
from ledger.api.controllers.renewals import RenewalsController
from ledger.api.controllers.self_reports import SelfReportsController
from ledger.api.controllers.status_lists import StatusListsController
from ledger.api.controllers.tokens import TokensController
from ledger.api.controllers.workshops import WorkshopsController
from ledger.api.errors import EXCEPTION_HANDLERS
from ledger.api.metrics import Metrics
from ledger.api.openapi import describe
from ledger.api.strict import StrictInput
from ledger.app.dependencies import DEPENDENCIES
from ledger.commands import Ledger
from ledger.commands.loaders import Catalogue, ManagerLoader
from ledger.credentials.kek import KeyEncryption
from ledger.credentials.registry import Registry
from ledger.credentials.service import CredentialService
from ledger.http.authn import BearerAuthentication
from ledger.http.guards import public
from ledger.http.headers import SecurityHeadersMiddleware
from ledger.http.positions import PositionsMiddleware, note_position
from ledger.http.request_log import RequestLogMiddleware
from ledger.http.throttle import FailureWindow, ThrottleMiddleware
from ledger.infra.evidence import PostgresEvidenceStore
from ledger.infra.limits import pool_options
from ledger.infra.notify import following_catalogue
from ledger.infra.projectors import running_deployment_tasks
from ledger.infra.replicas import Replica
from ledger.queries.reads import Reads
from ledger.settings import Settings
from ledger.web import openapi_render_plugins, static_routers, template_config, web_router
from ledger.web.controllers.verify import VerifyPages
from ledger.web.not_found import not_found_for
from projections.registry import all_projections

__all__ = ["MAX_BODY_BYTES", "create_app"]

MAX_BODY_BYTES = 2 * 1024 * 1024
"""Enough for a batch of 1000 postings in JSON or CSV; anything larger is a 413."""

CONTROLLERS = [
    TokensController,
    ProgramsController,
    ProvidersController,
    ActivitiesController,
    ManagersController,
    FeesController,
    CompletionsController,
    RenewalsController,
    AuditsController,
    EventsController,
    LedgerController,
    OperationsController,
    CredentialsController,
    StatusListsController,
    IssuersController,
    WorkshopsController,
    ApprovalsController,
    VerifyPages,
    SelfReportsController,
    ClaimsController,
]


def _openapi() -> OpenAPIConfig:
    """The OpenAPI document at /schema, with Swagger UI served from the app itself."""
    return OpenAPIConfig(
        title="CEU Ledger",
        version="1.0.0",
        openapi_router=Router(
            path="/schema", guards=[public], route_handlers=[], include_in_schema=False
        ),
        description="The continuing-education record of medical office managers.",
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
        ),
        security=[{"bearer": []}],
        render_plugins=openapi_render_plugins(),
    )


def _session_key(settings: Settings) -> bytes | None:
    """32 bytes for the pages' cookies, from LEDGER_SESSION_SECRET (None: one per process)."""
    if settings.session_secret is None:
        return None
    return hashlib.sha256(str(settings.session_secret).encode()).digest()


def secure_cookies(settings: Settings) -> bool:
    """The pages' cookies are Secure unless the public URL is plain http (the demo's
    127.0.0.1, a test's server): secure by default, LEDGER_PUBLIC_URL unset included."""
    return not (settings.public_url or "").lower().startswith("http://")


@contextlib.asynccontextmanager
async def replica_reads(
    settings: Settings, catalogue: Catalogue, clock: Callable[[], datetime]
) -> AsyncIterator[list[tuple[Replica, Reads]]]:
    """A pool, a Replica and the reads over it for each of DATABASE_REPLICA_URLS."""
    async with contextlib.AsyncExitStack() as stack:
        replicas = []
        for url in settings.database_replica_urls:
            pool = await stack.enter_async_context(
                create_pool(str(url), max_size=settings.pool_size, **pool_options())
            )
            store = PostgresEventStore(pool, clock=clock)
            replica = Replica(pool)
            stack.push_async_callback(replica.close)
            reads = Reads(store, ManagerLoader(store), catalogue, pool, clock)
            replicas.append((replica, reads))
        yield replicas


def create_app(
    settings: Settings,
    dsn: str,
    *,
    run_projectors: bool = True,
    clock: Callable[[], datetime] = utc_now,
    failures: FailureWindow | None = None,
) -> Litestar:
    """The API over the database at `dsn` (connecting as the service's role, never a
    superuser: ledger.infra.database.service_login).  The pool, the services and (with
    `run_projectors`) the projectors and reminders live exactly as long as the app's lifespan.
    `failures` counts failed logins and bad tokens per client address (ledger.http.throttle;
    a test passes one on its own clock)."""
    if settings.public_url is None:
        raise ValueError("LEDGER_PUBLIC_URL is not set: the address credentials and PDFs name")
    public_url = settings.public_url
    metrics = Metrics([p.name for p in all_projections()])
    kek = KeyEncryption.from_settings(settings.key_encryption_key, settings.data_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with create_pool(dsn, max_size=settings.pool_size, **pool_options()) as pool:
            primary = PostgresEventStore(pool, clock=clock)
            store = metered(primary, metrics.appended, note_position)
            ledger = Ledger(store, clock=clock)
            reads = Reads(store, ledger.managers, ledger.catalogue, pool, clock)
            app.state.update(
                pool=pool,
                ledger=ledger,
                reads=reads,
                credentials=CredentialService(reads, Registry(pool, kek), public_url),
                tokens=TokenStore(pool, clock=clock),
                sessions=WebSessions(pool, clock=clock),
                metrics=metrics,
                projectors=[],
            )
            app.state.evidence = PostgresEvidenceStore(pool, clock=clock)  # SPEC 12's files
            if settings.admin_token is not None:
                await app.state.tokens.ensure_admin(str(settings.admin_token))
            async with (
                following_catalogue(dsn, ledger.catalogue),
                replica_reads(settings, ledger.catalogue, clock) as replicas,
            ):
                app.state.replicas = replicas
                if not run_projectors:
                    yield
                    return
                # The projectors, the reminders and their sender, in this process (tests, and
                # `serve --projectors inline`); `serve` runs them in a process of their own.
                async with running_deployment_tasks(dsn, settings, clock=clock) as runners:
                    app.state.projectors = runners  # for /health and /metrics
                    yield

    app = Litestar(
        route_handlers=[
            *CONTROLLERS,
            web_router(_session_key(settings), secure_cookies=secure_cookies(settings)),
            *static_routers(),
        ],
        openapi_config=_openapi(),
        template_config=template_config(),
        dependencies=DEPENDENCIES,
        exception_handlers={
            **EXCEPTION_HANDLERS,
            NotFoundException: not_found_for(EXCEPTION_HANDLERS[HTTPException]),
        },
        middleware=[metrics.config.middleware, BearerAuthentication],
        plugins=[StrictInput()],
        lifespan=[lifespan],
        request_max_body_size=MAX_BODY_BYTES,
        type_encoders={Decimal: str},
        debug=False,
        logging_config=None,  # the process's logging is configured once: ledger.infra.logs
    )
    # Outside the router, so that every answer (404 and 405 included) has its id, its log line
    # and its security headers, a throttled attempt is refused before any route runs, and every
    # write answers with its Ledger-Position.
    throttled = ThrottleMiddleware(
        PositionsMiddleware(app.asgi_handler), failures or FailureWindow()
    )
    app.asgi_handler = RequestLogMiddleware(SecurityHeadersMiddleware(throttled))
    describe(app)
    return app
