"""A workshop activity's sessions, attendance, close and certificate of attendance (SPEC 11).

Every route is under `/v1/activities/{activity_id}`.  The provider of the activity (or an
admin, acting for it) gives the agenda, records attendance one roster at a time (JSON items
or CSV, at most 5,000 lines, one transaction, a result per line), corrects it within the
correction window, and closes the workshop, which derives each attendee's credit.  A
manager's attendance and certificate are read by the provider, the manager, an auditor of a
program the activity counts for that the manager holds, and an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import Meta

from ledger.api.errors import BATCH_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS, problems
from ledger.api.strict import decode
from ledger.commands import workshops as cmd
from ledger.commands.messages import (
    MAX_ATTENDANCE,
    AgendaSession,
    CorrectAttendance,
    RecordAttendance,
)
from ledger.documents.pdfs import attendance_pdf
from ledger.domain.errors import NotFound
from ledger.http.attendance import ATTENDANCE_HEADER, read_attendance, roster_answer
from ledger.http.guards import attendee_of_path_activity, authenticated, provider_of_path_activity
from ledger.http.injected import (
    CredentialsDep,
    CurrentPrincipal,
    LedgerDep,
    ReadsDep,
    RequestContext,
)
from ledger.http.responses import pdf_response
from ledger.queries.reads import Reads
from ledger.queries.workshops import (
    AgendaView,
    AttendeeView,
    ClosedView,
    CorrectedView,
    RosterResult,
    attendee_at,
    closed_view,
    read_workshop,
)

__all__ = ["WorkshopsController"]

MAX_SESSIONS = 500
Agenda = Annotated[list[AgendaSession], Meta(min_length=1, max_length=MAX_SESSIONS)]

_INSTANT = Schema(type=OpenAPIType.STRING, format="date-time")  # type: ignore[arg-type]
_SESSION = Schema(
    type=OpenAPIType.OBJECT,
    required=["session_id", "title", "starts_at", "ends_at", "ceus", "category"],
    properties={
        "session_id": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "starts_at": _INSTANT,
        "ends_at": _INSTANT,
        "ceus": Schema(type=OpenAPIType.STRING, description="CEUs, at most 2 decimals"),
        "category": Schema(type=OpenAPIType.STRING),
    },
)

PDF_RESPONSE = {
    200: ResponseSpec(data_container=bytes, media_type="application/pdf", description="a PDF")
}


@dataclass
class _AgendaOperation(Operation):
    """The agenda is a JSON array, read strictly by the handler itself: documented here."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=f"The whole agenda, 1 to {MAX_SESSIONS} sessions (times with their"
            " offset; sessions may overlap); their CEUs add up to at most the activity's.",
            content={
                "application/json": OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.ARRAY, items=_SESSION)
                )
            },
        )


@dataclass
class _RosterOperation(Operation):
    """The roster is JSON or CSV; the handler reads it itself, so document both here."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=f"Up to {MAX_ATTENDANCE} lines, as JSON `{{items: [{{manager_id,"
            " session_id, checked_in_at, checked_out_at?, method?}]}`"
            f" or as CSV with the header `{','.join(ATTENDANCE_HEADER)}` (an empty"
            " checked_out_at: a check-in only).  Each line stands alone; the roster is"
            " written in one transaction.",
            content={
                "application/json": OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.OBJECT, required=["items"])
                ),
                "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
            },
        )


async def _acting_provider(reads: Reads, principal: CurrentPrincipal, activity_id: str) -> str:
    """Who acts on the workshop: the provider calling, or for an admin the activity's own
    (an activity nobody registered: the decision answers 404)."""
    if principal.provider_id is not None:
        return principal.provider_id
    activity = await reads.catalogue.activity(activity_id)
    return "" if activity is None else activity.provider_id


async def _agenda(reads: Reads, activity_id: str) -> AgendaView:
    workshop, last = await read_workshop(reads.store, activity_id)
    if workshop is None or last is None or not workshop.sessions:
        raise NotFound("agenda for activity", activity_id)
    return AgendaView(
        activity_id=activity_id,
        sessions=workshop.sessions,
        closed_at=workshop.closed_at,
        position=last.position,
    )


class WorkshopsController(Controller):
    path = "/v1/activities/{activity_id:str}"
    tags = ("workshops",)

    @put(
        "/sessions",
        operation_id="scheduleSessions",
        responses=WRITE_PROBLEMS
        | {HTTP_200_OK: ResponseSpec(AgendaView, description="the agenda already said so")},
        status_code=HTTP_201_CREATED,
        operation_class=_AgendaOperation,
        guards=[provider_of_path_activity],
    )
    async def schedule(
        self,
        activity_id: FromPath[str],
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> Response[AgendaView]:
        """Give a workshop its whole agenda, or change it.  201 when recorded; 200 when the
        agenda already said so; 409 if it changes or drops a session with attendance."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise HTTPException(status_code=415, detail="send the agenda as application/json")
        sessions = decode(await request.body(), Agenda)
        provider_id = await _acting_provider(reads, principal, activity_id)
        recorded = await cmd.schedule_sessions(ledger, ctx, provider_id, activity_id, sessions)
        status = HTTP_200_OK if recorded is None else HTTP_201_CREATED
        return Response(await _agenda(reads, activity_id), status_code=status)

    @get(
        "/sessions",
        operation_id="getSessions",
        responses=READ_PROBLEMS,
        guards=[authenticated],
    )
    async def sessions(self, activity_id: FromPath[str], reads: ReadsDep) -> AgendaView:
        """A workshop's agenda (any role: it is part of the catalogue)."""
        return await _agenda(reads, activity_id)

    @post(
        "/attendance",
        operation_id="recordAttendance",
        responses=BATCH_PROBLEMS,
        status_code=HTTP_200_OK,
        operation_class=_RosterOperation,
        guards=[provider_of_path_activity],
    )
    async def attendance(
        self,
        activity_id: FromPath[str],
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> RosterResult:
        """Record a roster of attendance: each line created, unchanged (recorded just so
        before), or rejected with its problem (409: other times for the same manager and
        session).  One transaction for the whole roster."""
        parsed = await read_attendance(
            await request.body(), request.headers.get("content-type", "")
        )
        given = [p for p in parsed if isinstance(p, RecordAttendance)]
        provider_id = await _acting_provider(reads, principal, activity_id)
        roster = await cmd.record_roster(ledger, ctx, provider_id, activity_id, given)
        return roster_answer(parsed, roster)

    @get(
        "/attendance/{manager_id:str}",
        operation_id="getAttendance",
        responses=READ_PROBLEMS,
        guards=[attendee_of_path_activity],
    )
    async def attendee(
        self, activity_id: FromPath[str], manager_id: FromPath[str], reads: ReadsDep
    ) -> AttendeeView:
        """One manager at the workshop: every session, counted or why not, and the CEUs per
        category (the certificate's figures)."""
        return await attendee_at(reads, activity_id, manager_id)

    @post(
        "/attendance/{manager_id:str}/{session_id:str}/correction",
        operation_id="correctAttendance",
        responses=WRITE_PROBLEMS
        | {HTTP_200_OK: ResponseSpec(CorrectedView, description="the attendance already said so")},
        status_code=HTTP_201_CREATED,
        guards=[provider_of_path_activity],
    )
    async def correct(
        self,
        activity_id: FromPath[str],
        manager_id: FromPath[str],
        session_id: FromPath[str],
        data: JSONBody[CorrectAttendance],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> Response[CorrectedView]:
        """Correct one attendance (new times, or `removed`) with a reason: the provider within
        the correction window, an admin at any time.  201 when recorded, 200 when it already
        said so; the attendee's credit follows if the workshop is closed."""
        corrector = principal.provider_id  # None for an admin: no window
        attended = await cmd.correct_attendance(
            ledger, ctx, corrector, activity_id, manager_id, session_id, data
        )
        status = HTTP_201_CREATED if attended.created else HTTP_200_OK
        try:
            view: AttendeeView | None = await attendee_at(reads, activity_id, manager_id)
        except NotFound:  # the correction removed the manager's last attendance there
            view = None
        corrected = CorrectedView(
            activity_id=activity_id, manager_id=manager_id, session_id=session_id, attendee=view
        )
        return Response(corrected, status_code=status)

    @get(
        "/attendance/{manager_id:str}/certificate.pdf",
        operation_id="getAttendanceCertificate",
        responses=problems(401, 403, 404, 503) | PDF_RESPONSE,
        media_type="application/pdf",
        guards=[attendee_of_path_activity],
        tags=["documents"],
    )
    async def certificate(
        self,
        activity_id: FromPath[str],
        manager_id: FromPath[str],
        reads: ReadsDep,
        credentials: CredentialsDep,
    ) -> Response[bytes]:
        """The manager's certificate of attendance: the sessions, their times, the CEUs per
        category, the provider, and the ledger position and hash it was made from, with a QR
        code of that event in the ledger's feed."""
        view = await attendee_at(reads, activity_id, manager_id)
        return pdf_response(*await attendance_pdf(reads, credentials, view))

    @post(
        "/close",
        operation_id="closeWorkshop",
        responses=WRITE_PROBLEMS
        | {HTTP_200_OK: ResponseSpec(ClosedView, description="closed before: nothing new")},
        status_code=HTTP_201_CREATED,
        guards=[provider_of_path_activity],
    )
    async def close(
        self,
        activity_id: FromPath[str],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> Response[ClosedView]:
        """Close the workshop after its last session: each attendee's credit is derived (one
        completion per category, partial credit).  201 when closed now; closing again is 200
        and records nothing new (unless attendance changed, whose difference it derives)."""
        provider_id = await _acting_provider(reads, principal, activity_id)
        closed = await cmd.close_workshop(ledger, ctx, provider_id, activity_id)
        activity = await reads.catalogue.activity(activity_id)
        workshop, _ = await read_workshop(reads.store, activity_id)
        assert activity is not None  # the close found them
        assert workshop is not None
        view = closed_view(
            workshop, activity, await reads.catalogue.programs(),
            created=closed.created, derived=closed.derived,
        )  # fmt: skip
        return Response(view, status_code=HTTP_201_CREATED if closed.created else HTTP_200_OK)
