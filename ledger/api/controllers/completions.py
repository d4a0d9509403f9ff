"""Provider postings: one at a time, or a roster in one request; reading and correcting them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, HTTPException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ledger.api import strict
from ledger.api.deps import CurrentPrincipal, LedgerDep, ReadsDep, RequestContext, allow
from ledger.api.errors import BATCH_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS, human, status_of
from ledger.api.schemas import MAX_BATCH, AmendBody, BatchBody, CompletionBody, VoidBody
from ledger.commands import Outcome, Posting, Receipt
from ledger.csv_io import CSV_HEADER, RosterFormatError, parse_roster_csv
from ledger.domain.errors import DomainError, FieldError, Invalid, NotFound
from ledger.domain.record import Change

__all__ = ["CompletionsController"]


class ReceiptView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    external_id: str
    provider_id: str
    manager_id: str
    position: int
    recorded_at: datetime


_RETRIED = {
    HTTP_200_OK: ResponseSpec(
        ReceiptView, description="an identical retry: the same receipt", generate_examples=False
    )
}


class ItemResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    external_id: str | None
    status: Literal["created", "duplicate", "rejected"]
    id: UUID | None = None
    position: int | None = None
    error: dict[str, Any] | None = None


class BatchResult(msgspec.Struct, frozen=True, kw_only=True):
    created: int
    duplicate: int
    rejected: int
    results: list[ItemResult]


class CompletionView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    external_id: str
    provider_id: str
    manager_id: str
    activity_id: str
    activity_title: str
    category: str
    programs: tuple[str, ...]
    completed_on: date
    ceus: Decimal
    posted_at: datetime
    position: int
    voided: bool
    amended: bool
    history: tuple[Change, ...]


def _receipt(receipt: Receipt) -> Response[ReceiptView]:
    view = ReceiptView(
        id=receipt.id,
        external_id=receipt.external_id,
        provider_id=receipt.provider_id,
        manager_id=receipt.manager_id,
        position=receipt.position,
        recorded_at=receipt.recorded_at,
    )
    return Response(view, status_code=HTTP_201_CREATED if receipt.created else HTTP_200_OK)


@dataclass
class _BatchOperation(Operation):
    """The batch body is JSON or CSV; the handler reads it itself, so document both here."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=f"Up to {MAX_BATCH} postings, as JSON `{{items: [...]}}`"
            " or as CSV with the header"
            f" `{','.join(CSV_HEADER)}`.  Each item stands alone.",
            content={
                "application/json": OpenAPIMediaType(
                    schema=Schema(type="object", required=["items"])
                ),
                "text/csv": OpenAPIMediaType(schema=Schema(type="string")),
            },
        )


def _items(request_body: bytes, content_type: str) -> list[Any]:
    if content_type.startswith("text/csv"):
        try:
            return parse_roster_csv(request_body, max_lines=MAX_BATCH)
        except RosterFormatError as exc:
            if exc.field == "body":
                raise ClientException(detail=exc.message) from exc
            raise Invalid([FieldError(exc.field, exc.message)]) from exc
    if content_type.startswith("application/json") or not content_type:
        try:
            return msgspec.json.decode(request_body, type=BatchBody).items
        except msgspec.ValidationError as exc:
            raise Invalid([_field_of(exc, "items")]) from exc
        except msgspec.DecodeError as exc:
            raise ClientException(detail=f"malformed JSON: {exc}") from exc
    raise HTTPException(status_code=415, detail="send application/json or text/csv")


_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


def _field_of(exc: msgspec.ValidationError, default: str) -> FieldError:
    """msgspec says `... - at `$.items[3].ceus``: name the field."""
    message = str(exc)
    field = message.rsplit("at `$.", 1)[1].rstrip("`") if "at `$." in message else None
    if (named := _NAMED_FIELD.search(message)) is not None:  # the field itself, not its parent
        field = named[1] if field is None else f"{field}.{named[1]}"
    return FieldError(field or default, human(message.split(" - at ")[0]))


def _posting(raw: Any) -> Posting | ItemResult:
    """A roster line as a posting, or its rejection if it is not even well formed."""
    try:
        body = strict.convert(raw, CompletionBody)
    except msgspec.ValidationError as exc:
        external_id = raw.get("external_id") if isinstance(raw, dict) else None
        return ItemResult(
            external_id=external_id if isinstance(external_id, str) else None,
            status="rejected",
            error={"status": 422, "errors": [msgspec.to_builtins(_field_of(exc, "item"))]},
        )
    return Posting(**msgspec.structs.asdict(body))


def _item_result(external_id: str, outcome: Outcome) -> ItemResult:
    if isinstance(outcome, DomainError):
        error: dict[str, Any] = {"status": status_of(outcome), "detail": outcome.detail}
        if isinstance(outcome, Invalid):
            error["errors"] = [msgspec.to_builtins(e) for e in outcome.errors]
        return ItemResult(external_id=external_id, status="rejected", error=error)
    status: Literal["created", "duplicate"] = "created" if outcome.created else "duplicate"
    return ItemResult(
        external_id=external_id, status=status, id=outcome.id, position=outcome.position
    )


class CompletionsController(Controller):
    path = "/v1/completions"
    tags = ("completions",)

    @post(
        "/",
        operation_id="postCompletion",
        responses=WRITE_PROBLEMS | _RETRIED,
        status_code=HTTP_201_CREATED,
    )
    async def post_one(
        self,
        data: JSONBody[CompletionBody],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> Response[ReceiptView]:
        """Post one completion.  201 with a receipt; an identical retry returns the same receipt
        with 200; the same external_id with other content is a 409."""
        allow(principal.role == "provider", "only a provider posts completions")
        assert principal.provider_id is not None
        posting = Posting(**msgspec.structs.asdict(data))
        return _receipt(await ledger.record_completion(ctx, principal.provider_id, posting))

    @post(
        "/batch",
        operation_id="postCompletionBatch",
        responses=BATCH_PROBLEMS,
        status_code=HTTP_200_OK,
        operation_class=_BatchOperation,
    )
    async def post_batch(
        self, request: Request, principal: CurrentPrincipal, ctx: RequestContext, ledger: LedgerDep
    ) -> BatchResult:
        """Post a roster: each item is recorded, found a duplicate, or rejected with its reason."""
        allow(principal.role == "provider", "only a provider posts completions")
        assert principal.provider_id is not None
        items = _items(await request.body(), request.headers.get("content-type", ""))
        parsed = [_posting(raw) for raw in items]
        postings = [p for p in parsed if isinstance(p, Posting)]
        outcomes = iter(await ledger.record_completions(ctx, principal.provider_id, postings))
        results = [
            _item_result(p.external_id, next(outcomes)) if isinstance(p, Posting) else p
            for p in parsed
        ]
        count = {
            s: sum(r.status == s for r in results) for s in ("created", "duplicate", "rejected")
        }
        return BatchResult(**count, results=results)

    @get("/{completion_id:uuid}", operation_id="getCompletion", responses=READ_PROBLEMS)
    async def get_one(
        self,
        completion_id: FromPath[UUID],
        principal: CurrentPrincipal,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> CompletionView:
        """One completion with its history (its poster, its manager, auditors and admins)."""
        found = await ledger.completion(completion_id)
        if found is None:
            raise NotFound("completion", completion_id)
        event, _ = found
        allow(
            principal.is_admin()
            or principal.role == "auditor"
            or principal.is_provider(event.provider_id)
            or principal.is_manager(event.manager_id),
            "only the poster, the manager, an auditor or an admin",
        )
        return await _view(completion_id, ledger, reads)

    async def _corrector(
        self, completion_id: FromPath[UUID], principal: CurrentPrincipal, ledger: LedgerDep
    ) -> str | None:
        """Who corrects: the posting provider (window applies), or None for an auditor or admin."""
        found = await ledger.completion(completion_id)
        if found is None:
            raise NotFound("completion", completion_id)
        event, _ = found
        if principal.is_admin() or (
            principal.role == "auditor" and set(principal.programs) & set(event.programs)
        ):
            return None
        allow(
            principal.is_provider(event.provider_id),
            "only the poster, an auditor of its programs, or an admin",
        )
        return principal.provider_id

    @post(
        "/{completion_id:uuid}/void",
        operation_id="voidCompletion",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
    )
    async def void(
        self,
        completion_id: FromPath[UUID],
        data: JSONBody[VoidBody],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> CompletionView:
        corrector = await self._corrector(completion_id, principal, ledger)
        await ledger.void_completion(ctx, completion_id, reason=data.reason, provider_id=corrector)
        return await _view(completion_id, ledger, reads)

    @post(
        "/{completion_id:uuid}/amend",
        operation_id="amendCompletion",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
    )
    async def amend(
        self,
        completion_id: FromPath[UUID],
        data: JSONBody[AmendBody],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> CompletionView:
        corrector = await self._corrector(completion_id, principal, ledger)
        await ledger.amend_completion(
            ctx,
            completion_id,
            reason=data.reason,
            ceus=data.ceus,
            completed_on=data.completed_on,
            provider_id=corrector,
        )
        return await _view(completion_id, ledger, reads)


async def _view(
    completion_id: FromPath[UUID], ledger: LedgerDep, reads: ReadsDep
) -> CompletionView:
    found = await ledger.completion(completion_id)
    assert found is not None
    event, recorded = found
    completion = (await reads.record(event.manager_id)).completions[completion_id]
    return CompletionView(
        id=completion_id,
        external_id=completion.external_id,
        provider_id=completion.provider_id,
        manager_id=event.manager_id,
        activity_id=completion.activity_id,
        activity_title=completion.activity_title,
        category=completion.category,
        programs=completion.programs,
        completed_on=completion.completed_on,
        ceus=completion.ceus,
        posted_at=completion.posted_at,
        position=recorded.position,
        voided=completion.voided,
        amended=completion.amended,
        history=completion.history,
    )
