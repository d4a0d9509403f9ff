"""The admin's page: tokens (create, list, revoke), programs and their rules, providers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ledger.api.auth import Created
from ledger.api.schemas import ProviderBody, TokenBody
from ledger.domain.errors import DomainError
from ledger.web import data
from ledger.web.forms import FormInvalid, errors_of, form_values, parse_form
from ledger.web.session import OutOfScope, Viewer, context_of, flash, page_context, viewer

__all__ = ["AdminPages"]

TOKEN_LABELS = {
    "role": "the role",
    "provider_id": "the provider id",
    "manager_id": "the manager id",
    "programs": "the programs",
}
PROVIDER_LABELS = {"provider_id": "the provider id", "name": "the name", "programs": "programs"}


def _admin(principal: Viewer) -> None:
    if not principal.is_admin():
        raise OutOfScope(detail="This page is for administrators.")


def _scope_errors(body: TokenBody) -> dict[str, str]:
    """The checks of TokensController.create, in words."""
    errors = {}
    if (body.role == "provider") != (body.provider_id is not None):
        errors["provider_id"] = "Enter a provider id for a provider token, and only for one"
    if (body.role == "manager") != (body.manager_id is not None):
        errors["manager_id"] = "Enter a manager id for a manager token, and only for one"
    if (body.role == "auditor") != bool(body.programs):
        errors["programs"] = "Enter the programs of an auditor token, and only of one"
    return errors


async def admin_page(
    request: Request[Any, Any, Any],
    principal: Viewer,
    *,
    created: Created | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Template:
    state = request.app.state
    context = {
        **page_context(request, principal),
        "tokens": await data.tokens(state),
        "programs": await data.programs(state),
        "providers": await data.providers(state),
        "created": created,
        "errors": errors or {},
        "values": values or {},
    }
    return Template("admin.html", context=context, status_code=status_code)


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}

    @get("/")
    async def page(self, request: Request[Any, Any, Any], principal: Viewer) -> Template:
        _admin(principal)
        return await admin_page(request, principal)

    @post("/tokens", status_code=201)
    async def create_token(self, request: Request[Any, Any, Any], principal: Viewer) -> Template:
        _admin(principal)
        values = form_values(await request.form(), lists=("programs",))
        try:
            body = parse_form(values, TokenBody, TOKEN_LABELS)
            if errors := _scope_errors(body):
                raise FormInvalid(errors)
            created = await data.create_token(
                request.app.state,
                principal,
                role=body.role,
                provider_id=body.provider_id,
                manager_id=body.manager_id,
                programs=tuple(body.programs),
            )
        except FormInvalid as exc:
            values["programs"] = " ".join(values.get("programs", []))
            return await admin_page(
                request, principal, errors={"token": exc.errors}, values={"token": values},
                status_code=422,
            )  # fmt: skip
        return await admin_page(request, principal, created=created, status_code=201)

    @post("/tokens/{token_id:uuid}/revoke", status_code=303)
    async def revoke_token(
        self, request: Request[Any, Any, Any], token_id: FromPath[UUID], principal: Viewer
    ) -> Redirect:
        _admin(principal)
        found = await data.revoke_token(request.app.state, token_id)
        flash(request, f"Token {token_id} {'revoked' if found else 'does not exist'}.")
        return Redirect("/admin#tokens", status_code=303)

    @post("/providers", status_code=303)
    async def register_provider(
        self, request: Request[Any, Any, Any], principal: Viewer
    ) -> Template | Redirect:
        _admin(principal)
        values = form_values(await request.form(), lists=("programs",))
        try:
            body = parse_form(values, ProviderBody, PROVIDER_LABELS)
            await data.register_provider(
                request.app.state,
                context_of(request, principal),
                provider_id=body.provider_id,
                name=body.name,
                programs=tuple(body.programs),
            )
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            values["programs"] = " ".join(values.get("programs", []))
            return await admin_page(
                request, principal, errors={"provider": found}, values={"provider": values},
                status_code=422,
            )  # fmt: skip
        flash(request, f"Provider {body.provider_id} registered.")
        return Redirect("/admin#providers", status_code=303)
