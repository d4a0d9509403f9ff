"""Web pages for people (SPEC section 9): server-rendered HTML on the same app and the same
reads as the JSON API, plain forms that work without JavaScript, every asset served here."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from jinja2 import Environment
from litestar import Router
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from ledger.documents.filters import FILTERS
from ledger.http.guards import public
from ledger.web.controllers.admin import AdminPages
from ledger.web.controllers.approvals import ProgramApprovalPages, ProviderApprovalPages
from ledger.web.controllers.auth import AuthPages
from ledger.web.controllers.door import DoorPages, door_key_dependency
from ledger.web.controllers.managers import ManagerPages
from ledger.web.controllers.programs import ProgramPages
from ledger.web.controllers.providers import ProviderPages
from ledger.web.controllers.self_reports import EvidencePages, ReportPages, ReviewPages
from ledger.web.controllers.workshops import SessionKiosk, WorkshopPages
from ledger.web.session import WEB_EXCEPTION_HANDLERS, session_middleware

__all__ = ["openapi_render_plugins", "static_routers", "template_config", "web_router"]

HERE = Path(__file__).parent
PAGES = [AuthPages, ManagerPages, ProviderPages, ProgramPages, AdminPages]
WORKSHOP_PAGES = [WorkshopPages, SessionKiosk, DoorPages]
"""SPEC 11: the provider's workshop and kiosk, the door's check-in."""
APPROVAL_PAGES = [ProviderApprovalPages, ProgramApprovalPages]
"""SPEC 12: the provider applies and submits, the association decides."""
SELF_REPORT_PAGES = [ReportPages, ReviewPages, EvidencePages]
"""SPEC 12: the manager's upload, the association's review queue, a report's file."""
SWAGGER_UI = Path(swagger_ui_bundle.swagger_ui_path)


def web_router(secret: bytes | None = None, *, secure_cookies: bool = True) -> Router:
    """The pages, with their session cookie and CSRF checks.  `secret` signs and encrypts both;
    several processes behind one load balancer must share it (default: new per process).
    `secure_cookies`: the cookie's Secure flag (off only where the site is plain http)."""
    secret = secret or secrets.token_bytes(32)
    return Router(
        path="/",
        route_handlers=[*PAGES, *WORKSHOP_PAGES, *SELF_REPORT_PAGES, *APPROVAL_PAGES],
        middleware=session_middleware(secret, secure=secure_cookies),
        # the workshops' check-in codes are signed with a key of their own from the secret
        dependencies={"check_in_key": door_key_dependency(secret)},
        exception_handlers=WEB_EXCEPTION_HANDLERS,
        include_in_schema=False,
    )


def _register_filters(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.filters.update(FILTERS)


def template_config() -> TemplateConfig[Any]:
    return TemplateConfig(
        directory=HERE / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=_register_filters,
    )


def static_routers() -> list[Router]:
    """The pages' CSS, and Swagger UI's pinned files from the swagger-ui-bundle-v2 wheel."""
    return [
        create_static_files_router(
            path="/static", directories=[HERE / "static"], include_in_schema=False, guards=[public]
        ),
        create_static_files_router(
            path="/static/swagger-ui",
            directories=[SWAGGER_UI],
            include_in_schema=False,
            guards=[public],
        ),
    ]


def openapi_render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at /schema and /schema/swagger, from this app's own files (no CDN)."""
    return [
        SwaggerRenderPlugin(
            path=["/", "/swagger"],
            js_url="/static/swagger-ui/swagger-ui-bundle.js",
            css_url="/static/swagger-ui/swagger-ui.css",
            standalone_preset_js_url="/static/swagger-ui/swagger-ui-standalone-preset.js",
            favicon=(
                "<link rel='icon' type='image/png' href='/static/swagger-ui/favicon-32x32.png'>"
            ),
        )
    ]
