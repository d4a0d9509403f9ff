"""Check-in at a workshop's door (SPEC 11): `/check-in/{code}`, the link of the kiosk's QR code.

A manager scans the code on a phone.  Not signed in, they sign in and come back here
(ledger/web/session.py remembers this page).  The page (GET: nothing recorded) shows the
session and one button, "Check in" or "Check out"; the button posts the code back with the
session's CSRF token and the scan is recorded (ledger/commands/door.py), then the manager's
page says what was recorded.  A code that cannot be used is a page saying why, with its own
status: 400 not a code of this ledger, 410 past its minute, 409 already used or nothing more to
record, 404 a session no longer on the agenda.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ledger.commands import door
from ledger.documents.filters import moment
from ledger.domain.errors import AlreadyExists, DomainError, NotFound, WrongState
from ledger.domain.workshops.door import (
    CodeExpired,
    CodeRefused,
    CodeUnreadable,
    door_key,
    read_code,
)
from ledger.http.authn import SESSION_GUARDED
from ledger.http.guards import manager
from ledger.http.injected import LedgerDep, RequestContext
from ledger.web.session import Viewer, flash, page_context, viewer

__all__ = ["DoorKey", "DoorPages", "door_key_dependency"]

DoorKey = NamedDependency[bytes]
"""The key the check-in codes are signed with (`door_key`), from the pages' secret."""


def door_key_dependency(secret: bytes) -> Provide:
    key = door_key(secret)

    def provide() -> bytes:
        return key

    return Provide(provide, sync_to_thread=False)


def _status(refused: DomainError) -> int:
    match refused:
        case CodeUnreadable():
            return 400
        case CodeExpired():
            return 410
        case NotFound():
            return 404
        case CodeRefused() | WrongState() | AlreadyExists():
            return 409
    return 422


def refused_page(
    request: Request[Any, Any, Any], principal: Viewer, refused: DomainError
) -> Template:
    """Why this code cannot be used, in words, with the status that says so."""
    status = _status(refused)
    reason = getattr(refused, "reason", "refused")
    context = {
        **page_context(request, principal),
        "status": status,
        "reason": reason,
        "detail": refused.detail[:1].upper() + refused.detail[1:],
    }
    return Template("check_in_refused.html", context=context, status_code=status)


class DoorPages(Controller):
    path = "/check-in"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [manager]
    opt = {SESSION_GUARDED: True}

    @get("/{code:str}")
    async def look(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        ledger: LedgerDep, check_in_key: DoorKey,
    ) -> Template:  # fmt: skip
        now = ledger.clock()
        assert principal.manager_id is not None  # the `manager` guard
        try:
            found = read_code(check_in_key, code, now)
            at_door = await door.at_the_door(ledger, found, principal.manager_id, now)
        except DomainError as refused:
            return refused_page(request, principal, refused)
        context = {**page_context(request, principal), "door": at_door, "code": code}
        return Template("check_in.html", context=context)

    @post("/{code:str}", status_code=303)
    async def confirm(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        ledger: LedgerDep, ctx: RequestContext, check_in_key: DoorKey,
    ) -> Template | Redirect:  # fmt: skip
        """Record the scan; the same form sent again (a reload, a captured request replayed)
        is refused as a used code, and nothing more is recorded."""
        manager_id = principal.manager_id
        assert manager_id is not None  # the `manager` guard
        try:
            found = read_code(check_in_key, code, ledger.clock())
            at_door = await door.scan(ledger, ctx, found, manager_id)
        except DomainError as refused:
            return refused_page(request, principal, refused)
        step, session = at_door.step, at_door.session
        if step.direction == "in":
            said = f"You checked in at {session.title} on {moment(step.checked_in_at)}."
        else:
            said = f"You checked out of {session.title} on {moment(step.checked_out_at)}."
        flash(request, said)
        return Redirect(f"/managers/{manager_id}#workshops", status_code=303)
