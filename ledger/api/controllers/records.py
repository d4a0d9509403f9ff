"""What a manager stands at: status, its explanation, the transcript, the cycle history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery, QueryParameter

from ledger.api.errors import READ_PROBLEMS, bad_query
from ledger.api.openapi import CsvOperation, json_or_csv
from ledger.api.privacy import require_program
from ledger.documents.pdfs import transcript_pdf
from ledger.domain.reports import CycleReport, TranscriptLine
from ledger.domain.values import LATEST
from ledger.http.guards import manager_of_path
from ledger.http.injected import CredentialsDep, CurrentPrincipal, ReadsDep, SeenDep
from ledger.http.responses import csv_response, pdf_response
from ledger.queries.views import TRANSCRIPT_COLUMNS, ExplainView, StatusView

__all__ = ["RecordsController"]

AsOf = Annotated[date | None, QueryParameter(description="judge as of this day (default today)")]
KnownAt = Annotated[
    datetime | None, QueryParameter(description="only what had been recorded by this instant")
]


def _check_as_of(as_of: date | None) -> None:
    """422 for an `as_of` past the dates the ledger deals in: cycles are laid out up to the one
    holding it, and far enough ahead they would end past the calendar's year 9999 (a 500)."""
    if as_of is not None and as_of > LATEST:
        raise bad_query("as_of", f"at most {LATEST}")


class RecordsController(Controller):
    path = "/v1/managers/{manager_id:str}"
    tags = ("managers",)
    guards = [manager_of_path]

    @get("/status", operation_id="getStatus", responses=READ_PROBLEMS)
    async def status(
        self,
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        seen: SeenDep,
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> StatusView:
        """Status of every certification: totals, shortfalls, renewal, days to the deadline."""
        scope = seen
        _check_as_of(as_of)
        return await reads.status(manager_id, as_of=as_of, known_at=known_at, scope=scope)

    @get("/status/explain", operation_id="explainStatus", responses=READ_PROBLEMS)
    async def explain(
        self,
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        seen: SeenDep,
        program: Annotated[str, QueryParameter(description="the program to explain")],
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> ExplainView:
        """Where every completion counted, or why it did not."""
        scope = seen
        require_program(scope, principal, program)
        _check_as_of(as_of)
        return await reads.explain(manager_id, program, as_of=as_of, known_at=known_at, scope=scope)

    @get(
        "/transcript",
        operation_id="getTranscript",
        # list[dict], not list[TranscriptLine]: its `history: tuple[Change, ...]` names a type
        # imported for type checking only, so Litestar cannot resolve it for the schema.
        responses=READ_PROBLEMS | json_or_csv(list[dict[str, Any]]),
        operation_class=CsvOperation,
    )
    async def transcript(
        self,
        request: Request[Any, Any, Any],
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        seen: SeenDep,
        credentials: CredentialsDep,
        program: Annotated[
            str | None, QueryParameter(description="one program (default all)")
        ] = None,
        format: FromQuery[Literal["json", "csv", "pdf"]] = "json",
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> Response[list[TranscriptLine]] | Response[str] | Response[bytes]:
        """Every completion with its state (counted, amended, voided, late, repeat); as a
        PDF with the status, the ledger position it was made from and verification links."""
        scope = seen
        require_program(scope, principal, program)
        _check_as_of(as_of)
        if format == "pdf":
            return pdf_response(
                *await transcript_pdf(
                    reads, credentials, manager_id, program, as_of=as_of, known_at=known_at,
                    scope=scope,
                )
            )  # fmt: skip
        lines = await reads.transcript(
            manager_id, program, as_of=as_of, known_at=known_at, scope=scope
        )
        if format == "json":
            return Response(lines)
        return csv_response(TRANSCRIPT_COLUMNS, lines, f"{manager_id}-transcript.csv")

    @get("/cycles", operation_id="getCycles", responses=READ_PROBLEMS)
    async def cycles(
        self,
        manager_id: FromPath[str],
        principal: CurrentPrincipal,
        reads: ReadsDep,
        seen: SeenDep,
        program: Annotated[str, QueryParameter(description="the program")],
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> list[CycleReport]:
        """Renewal-cycle history: dates, rules, CEUs, fee, renewal, late credits, audit."""
        scope = seen
        require_program(scope, principal, program)
        _check_as_of(as_of)
        return await reads.cycles(manager_id, program, as_of=as_of, known_at=known_at, scope=scope)
