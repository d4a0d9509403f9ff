"""Provider postings: one at a time, or a roster in one request; reading and correcting them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ledger.access import policy as access
from ledger.api.errors import BATCH_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS
from ledger.commands import Receipt
from ledger.commands import completions as cmd
from ledger.commands.loaders import require_completion
from ledger.commands.messages import AmendCompletion, PostCompletion, VoidCompletion
from ledger.commands.rosters import record_completions
from ledger.csv_io import CSV_HEADER
from ledger.domain.values import MAX_BATCH
from ledger.http.guards import authenticated, corrector, deny_unless, provider
from ledger.http.injected import CurrentPrincipal, LedgerDep, ReadsDep, RequestContext
from ledger.http.rosters import batch_result, read_batch
from ledger.queries.reads import Reads
from ledger.queries.views import BatchResult, CompletionView

__all__ = ["CompletionsController"]

_RETRIED = {
    HTTP_200_OK: ResponseSpec(
        Receipt, description="an identical retry: the same receipt", generate_examples=False
    )
}


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
                    schema=Schema(type=OpenAPIType.OBJECT, required=["items"])
                ),
                "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
            },
        )


def _provider(principal: CurrentPrincipal) -> str:
    """The poster is the token's provider (the `provider` guard let only providers in)."""
    assert principal.provider_id is not None
    return principal.provider_id


class CompletionsController(Controller):
    path = "/v1/completions"
    tags = ("completions",)

    @post(
        "/",
        operation_id="postCompletion",
        responses=WRITE_PROBLEMS | _RETRIED,
        status_code=HTTP_201_CREATED,
        guards=[provider],
    )
    async def post_one(
        self,
        data: JSONBody[PostCompletion],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> Response[Receipt]:
        """Post one completion.  201 with a receipt; an identical retry returns the same receipt
        with 200; the same external_id with other content is a 409."""
        posted = await cmd.record_completion(ledger, ctx, _provider(principal), data)
        return Response(posted.receipt, status_code=HTTP_201_CREATED if posted.created else 200)

    @post(
        "/batch",
        operation_id="postCompletionBatch",
        responses=BATCH_PROBLEMS,
        status_code=HTTP_200_OK,
        operation_class=_BatchOperation,
        guards=[provider],
    )
    async def post_batch(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
    ) -> BatchResult:
        """Post a roster: each item is recorded, found a duplicate, or rejected with its reason."""
        provider_id = _provider(principal)
        parsed = await read_batch(await request.body(), request.headers.get("content-type", ""))
        postings = [p for p in parsed if isinstance(p, PostCompletion)]
        outcomes = await record_completions(ledger, ctx, provider_id, postings)
        return batch_result(parsed, outcomes)

    @get(
        "/{completion_id:uuid}",
        operation_id="getCompletion",
        responses=READ_PROBLEMS,
        guards=[authenticated],
    )
    async def get_one(
        self, completion_id: FromPath[UUID], principal: CurrentPrincipal, reads: ReadsDep
    ) -> CompletionView:
        """One completion with its history: its poster, its manager, an admin, or an auditor
        of a program the manager holds that the completion counts for (ledger/access/policy.py)."""
        view = await reads.completion(completion_id)
        held = () if principal.role != "auditor" else await _held(reads, view.manager_id)
        deny_unless(
            access.may_read_completion(
                principal, manager_id=view.manager_id, provider_id=view.provider_id,
                programs=view.programs, held=held,
            ),
            "only the poster, the manager, an auditor of a program it counts for, or an admin",
        )  # fmt: skip
        return view

    @post(
        "/{completion_id:uuid}/void",
        operation_id="voidCompletion",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
        guards=[corrector],
    )
    async def void(
        self,
        completion_id: FromPath[UUID],
        data: JSONBody[VoidCompletion],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> CompletionView:
        """Void a completion; the poster within its correction window, an auditor or an admin."""
        corrector = await _corrector(completion_id, principal, ledger, reads)
        await cmd.void_completion(ledger, ctx, completion_id, data, provider_id=corrector)
        return await reads.completion(completion_id)

    @post(
        "/{completion_id:uuid}/amend",
        operation_id="amendCompletion",
        responses=WRITE_PROBLEMS,
        status_code=HTTP_200_OK,
        guards=[corrector],
    )
    async def amend(
        self,
        completion_id: FromPath[UUID],
        data: JSONBody[AmendCompletion],
        principal: CurrentPrincipal,
        ctx: RequestContext,
        ledger: LedgerDep,
        reads: ReadsDep,
    ) -> CompletionView:
        """Amend a completion (CEUs or date); the poster within its correction window."""
        corrector = await _corrector(completion_id, principal, ledger, reads)
        await cmd.amend_completion(ledger, ctx, completion_id, data, provider_id=corrector)
        return await reads.completion(completion_id)


async def _held(reads: Reads, manager_id: str) -> tuple[str, ...]:
    """The programs the manager holds now (what a completion counts for depends on them)."""
    return (await reads.profile(manager_id)).certifications


async def _corrector(
    completion_id: UUID, principal: CurrentPrincipal, ledger: Any, reads: Reads
) -> str | None:
    """Who corrects: the posting provider (window applies), or None for an admin or an
    auditor of every program the completion counts for (ledger/access/policy.py)."""
    posted = await require_completion(ledger.store, completion_id)
    if principal.is_admin():
        return None
    if principal.role == "auditor":
        held = await _held(reads, posted.manager_id)
        deny_unless(
            access.corrects_freely(principal, programs=posted.programs, held=held),
            "an auditor corrects only a completion that counts for its programs alone",
        )
        return None
    deny_unless(
        principal.is_provider(posted.provider_id),
        "only the poster, an auditor of every program it counts for, or an admin",
    )
    return principal.provider_id
