"""Signing in with a token, signing out, and the front door."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from ledger.http.guards import public
from ledger.http.injected import SessionsDep, TokensDep
from ledger.web.session import (
    home_of,
    page_context,
    pending_check_in,
    principal_for_token,
    sign_in,
    sign_out,
)

__all__ = ["AuthPages"]


class AuthPages(Controller):
    include_in_schema = False
    guards = [public]

    @get("/")
    async def front_door(self, request: Request[Any, Any, Any]) -> Redirect:
        principal = request.user  # the session's (ledger/web/session.py)
        return Redirect(home_of(principal) if principal else "/login")

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        principal = request.user  # the session's (ledger/web/session.py)
        if principal is not None:
            return Redirect(home_of(principal))
        return Template("login.html", context={**page_context(request, None), "errors": {}})

    @post("/login", status_code=303)
    async def login(
        self, request: Request[Any, Any, Any], sessions: SessionsDep, tokens: TokensDep
    ) -> Template | Redirect:
        token = str((await request.form()).get("token", "")).strip()
        principal = await principal_for_token(tokens, token) if token else None
        if principal is None:
            message = "Enter your access token" if not token else "That token is not valid"
            return Template(
                "login.html",
                context={**page_context(request, None), "errors": {"token": message}},
                status_code=401,
            )
        back = pending_check_in(request)  # a door's code scanned before signing in
        home = await sign_in(request, sessions, principal)
        return Redirect(back if back and principal.role == "manager" else home, status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any], sessions: SessionsDep) -> Redirect:
        await sign_out(request, sessions)
        return Redirect("/login", status_code=303)
