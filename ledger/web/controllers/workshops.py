"""A provider's workshop (SPEC 11): its agenda, who checked in and out of each session and for
how long, the close that derives the credit, and the kiosk of each session.

The kiosk shows the QR code of a signed check-in link (ledger/domain/workshops/door.py) and the
link itself as text.  Each load makes a new code, good for one minute; /static/kiosk.js (a
file: the pages' Content-Security-Policy allows no inline script, and stays as it is) loads
the page again every 30 seconds and swaps the new code in.  Not a `<meta http-equiv=refresh>`:
a page that reloads itself is a timing barrier axe-core calls critical.  The link is built on
LEDGER_PUBLIC_URL, never on the request's Host.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ledger.commands import workshops
from ledger.commands.messages import AgendaSession
from ledger.documents.filters import moment
from ledger.documents.render import qr_data_uri
from ledger.domain.catalogue import Activity
from ledger.domain.errors import DomainError, Invalid, NotFound
from ledger.domain.workshops.door import ROTATION, door_open, make_code
from ledger.http.authn import SESSION_GUARDED
from ledger.http.guards import provider_of_path, provider_themselves
from ledger.http.injected import CredentialsDep, LedgerDep, ReadsDep, RequestContext
from ledger.queries.reads import Reads
from ledger.queries.workshop_views import workshop_view, workshops_with_session
from ledger.web.controllers.door import DoorKey
from ledger.web.forms import FormInvalid, errors_of, parse_form
from ledger.web.session import OutOfScope, Viewer, flash, page_context, viewer

__all__ = ["AGENDA_COLUMNS", "SessionKiosk", "WorkshopPages", "agenda_from_text", "agenda_text"]

AGENDA_COLUMNS = ("session_id", "title", "starts_at", "ends_at", "ceus", "category")
AGENDA_LABELS = {
    "session_id": "a session id",
    "title": "a title",
    "starts_at": "the start as a date and time with its offset, such as 2026-06-17T09:00-05:00",
    "ends_at": "the end as a date and time with its offset, such as 2026-06-17T10:30-05:00",
    "ceus": "the CEUs",
    "category": "the category",
}
_SESSION_FIELD = re.compile(r"sessions\[(\d+)\]\.(\w+)")


def agenda_text(sessions: Any) -> str:
    """An agenda as the form's text: one session a line, its values separated by commas."""
    rows = (
        (s.session_id, s.title, s.starts_at.isoformat(), s.ends_at.isoformat(), s.ceus, s.category)
        for s in sessions
    )
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _line(n: int, row: list[str]) -> AgendaSession:
    if len(row) != len(AGENDA_COLUMNS):
        raise FormInvalid(
            {"": f"Session {n}: give {len(AGENDA_COLUMNS)} values separated by commas"
                 f" ({', '.join(AGENDA_COLUMNS)}); it has {len(row)}"}
        )  # fmt: skip
    values = dict(zip(AGENDA_COLUMNS, row, strict=True))
    for field in ("starts_at", "ends_at"):  # as people type them: 09:00, a space, Z
        with contextlib.suppress(ValueError):
            values[field] = datetime.fromisoformat(values[field]).isoformat()
    try:
        return parse_form(values, AgendaSession, AGENDA_LABELS)
    except FormInvalid as exc:
        said = [  # a time is said as the label says it, not as the parser does
            f"Enter {AGENDA_LABELS[field]}" if field in ("starts_at", "ends_at") else message
            for field, message in exc.errors.items()
        ]
        raise FormInvalid({"": f"Session {n}: {'; '.join(said)}"}) from exc


def agenda_from_text(text: str) -> list[AgendaSession]:
    """The sessions of the agenda form's text (a heading line of the columns may come first,
    as a spreadsheet writes it), or FormInvalid naming each bad line."""
    rows = [
        [c.strip() for c in r] for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)
    ]
    if rows and rows[0][0].casefold() == "session_id":
        rows = rows[1:]
    if not rows:
        raise FormInvalid({"agenda": "Give at least one session, one a line"})
    sessions, problems = [], []
    for n, row in enumerate(rows, start=1):
        try:
            sessions.append(_line(n, row))
        except FormInvalid as exc:
            problems.append(exc.errors[""])
    if problems:
        raise FormInvalid({"agenda": "; ".join(problems)})
    return sessions


def _agenda_errors(exc: DomainError) -> dict[str, str]:
    """The rules' refusal of an agenda, each session's problem said by its line."""
    if not isinstance(exc, Invalid):
        return {"agenda": exc.detail}
    said = []
    for e in exc.errors:
        found = _SESSION_FIELD.fullmatch(e.field)
        said.append(f"Session {int(found[1]) + 1}: {found[2]} {e.message}" if found else e.message)
    return {"agenda": "; ".join(said)}


async def _activity(reads: Reads, provider_id: str, activity_id: str) -> Activity:
    activity = await reads.catalogue.activity(activity_id)
    if activity is None:
        raise NotFound("activity", activity_id)
    if activity.provider_id != provider_id:
        raise OutOfScope(detail="That activity is not this provider's.")
    return activity


async def workshop_page(
    request: Request[Any, Any, Any],
    principal: Viewer,
    reads: Reads,
    provider_id: str,
    activity_id: str,
    *,
    errors: dict[str, str] | None = None,
    agenda_errors: dict[str, str] | None = None,
    agenda: str | None = None,
) -> Template:
    activity = await _activity(reads, provider_id, activity_id)
    view = await workshop_view(reads, activity, reads.clock())
    context = {
        **page_context(request, principal),
        "provider_id": provider_id,
        "view": view,
        "is_provider": principal.is_provider(provider_id),
        "errors": errors or {},
        "agenda_errors": agenda_errors or {},
        "agenda": agenda if agenda is not None else agenda_text(s.session for s in view.sessions),
        "agenda_columns": ",".join(AGENDA_COLUMNS),
    }
    failed = bool(errors or agenda_errors)
    return Template("workshop.html", context=context, status_code=422 if failed else 200)


class WorkshopPages(Controller):
    path = "/providers/{provider_id:str}/activities/{activity_id:str}"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [provider_of_path]
    opt = {SESSION_GUARDED: True}

    @get("/")
    async def page(
        self, request: Request[Any, Any, Any], provider_id: FromPath[str],
        activity_id: FromPath[str], principal: Viewer, reads: ReadsDep,
    ) -> Template:  # fmt: skip
        return await workshop_page(request, principal, reads, provider_id, activity_id)

    @post("/agenda", status_code=303, guards=[provider_themselves])
    async def give_agenda(
        self, request: Request[Any, Any, Any], provider_id: FromPath[str],
        activity_id: FromPath[str], principal: Viewer, reads: ReadsDep, ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        """The whole agenda, as PUT /v1/activities/{id}/sessions takes it; the same agenda
        again records nothing and says so."""
        await _activity(reads, provider_id, activity_id)
        text = str((await request.form()).get("agenda", ""))
        try:
            sessions = agenda_from_text(text)
            given = await workshops.schedule_sessions(
                ledger, ctx, provider_id, activity_id, sessions
            )
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else _agenda_errors(exc)
            return await workshop_page(
                request, principal, reads, provider_id, activity_id, agenda_errors=found,
                agenda=text,
            )  # fmt: skip
        if given is None:
            flash(request, "The agenda already says so: nothing new was recorded.")
        else:
            flash(request, f"The agenda is given: {len(sessions)} sessions.")
        return Redirect(
            f"/providers/{provider_id}/activities/{activity_id}#agenda", status_code=303
        )

    @post("/close", status_code=303, guards=[provider_themselves])
    async def close(
        self, request: Request[Any, Any, Any], provider_id: FromPath[str],
        activity_id: FromPath[str], principal: Viewer, reads: ReadsDep, ledger: LedgerDep,
        ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        """Close the workshop (as POST /v1/activities/{id}/close): each attendee's credit is
        derived.  Closing again records nothing new, and says so."""
        activity = await _activity(reads, provider_id, activity_id)
        if (await request.form()).get("confirm") != "yes":
            errors = {"confirm": "Tick the box to confirm: the close derives everyone's credit"}
            return await workshop_page(
                request, principal, reads, provider_id, activity_id, errors=errors
            )
        try:
            closed = await workshops.close_workshop(ledger, ctx, provider_id, activity_id)
        except DomainError as exc:
            return await workshop_page(
                request, principal, reads, provider_id, activity_id, errors=errors_of(exc)
            )
        credited = sum(1 for derived in closed.derived.values() if derived)
        if closed.created:
            flash(request, f"{activity.title} is closed: credit derived for {credited} of"
                           f" {len(closed.derived)} attendees.")  # fmt: skip
        elif credited:
            flash(request, f"{activity.title} was already closed: the credit of {credited}"
                           " attendees is brought up to date.")  # fmt: skip
        else:
            flash(request, f"{activity.title} was already closed: nothing new was recorded.")
        return Redirect(f"/providers/{provider_id}/activities/{activity_id}", status_code=303)

    @get("/sessions/{session_id:str}/kiosk", guards=[provider_themselves])
    async def kiosk(
        self, request: Request[Any, Any, Any], provider_id: FromPath[str],
        activity_id: FromPath[str], session_id: FromPath[str], principal: Viewer,
        reads: ReadsDep, credentials: CredentialsDep, check_in_key: DoorKey,
    ) -> Template:  # fmt: skip
        """The door's screen: a new code on each load; its script loads it again every 30 s."""
        activity = await _activity(reads, provider_id, activity_id)
        view = await workshop_view(reads, activity, now := reads.clock())
        found = next((s for s in view.sessions if s.session.session_id == session_id), None)
        if found is None:
            raise NotFound("session", session_id)
        link = None
        if door_open(found.session, now):
            code = make_code(check_in_key, activity_id, session_id, now)
            link = f"{credentials.public_url}/check-in/{code}"
        context = {
            **page_context(request, principal),
            "provider_id": provider_id,
            "activity": activity,
            "found": found,
            "link": link,
            "qr": qr_data_uri(link) if link else None,
            "refresh_seconds": int(ROTATION.total_seconds()),
            "made_at": moment(now),
        }
        return Template("kiosk.html", context=context)


class SessionKiosk(Controller):
    """SPEC 11's path of a session's kiosk, `/providers/{id}/sessions/{session_id}/kiosk`: a
    session id is unique only within its workshop, so this finds the provider's workshop with
    that session and sends the browser to its kiosk; when several workshops have one, it
    names them instead of guessing."""

    path = "/providers/{provider_id:str}/sessions/{session_id:str}/kiosk"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [provider_of_path]
    opt = {SESSION_GUARDED: True}

    @get("/", guards=[provider_themselves])
    async def kiosk(
        self, provider_id: FromPath[str], session_id: FromPath[str], reads: ReadsDep
    ) -> Redirect:
        found = await workshops_with_session(reads, provider_id, session_id)
        pages = [f"/providers/{provider_id}/activities/{a.activity_id}" for a in found]
        if not found:
            raise NotFound("session", session_id)
        if len(found) > 1:
            raise HTTPException(
                status_code=409,
                detail=f"Session {session_id} is on the agenda of {len(found)} workshops: open"
                f" its kiosk from the workshop's page ({', '.join(pages)}).",
            )
        return Redirect(f"{pages[0]}/sessions/{session_id}/kiosk", status_code=303)
