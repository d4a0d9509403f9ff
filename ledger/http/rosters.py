"""A roster's body in, its per-line results out (POST /v1/completions/batch).

The body is JSON `{items: [...]}` or CSV; each item stands alone, so an item that is not even
a well-formed posting is answered `rejected` on its own line and the others go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar.exceptions import ClientException, HTTPException
from msgspec import Meta

from ledger.commands import Outcome
from ledger.commands.messages import Message, PostCompletion, PostCompletionBatch, convert, decoder
from ledger.csv_io import RosterFormatError, parse_roster_csv
from ledger.domain.errors import DomainError, FieldError, Invalid
from ledger.domain.values import MAX_BATCH
from ledger.http.problems import human, status_of
from ledger.infra.workers import WorkerPool
from ledger.queries.views import BatchResult, ItemResult

__all__ = [
    "INLINE_BYTES",
    "batch_items",
    "batch_result",
    "csv_refusal",
    "field_of",
    "is_json",
    "read_batch",
    "read_off_the_loop",
    "spreadsheet_header",
]

Parsed = PostCompletion | ItemResult
T = TypeVar("T")

INLINE_BYTES = 256 * 1024
"""A body up to this size is read on the event loop: a roster of 1,000 lines is 30-150 KB and
takes 3-8 ms to read, less than handing it to a worker would cost.  A larger body (at most
the app's 2 MB, with at most 1,000 items) is read in a worker process (`_workers`): up to
about 50 ms of msgspec's C decoder or 150 ms of the csv module over blank lines, which a
thread would run holding the GIL, so the loop with it."""

_workers = WorkerPool("large rosters", waiting=8)


class _WellFormed(Message, frozen=True, kw_only=True):
    """A JSON roster whose every item is a well-formed posting, the common case: decoded from
    the bytes in one pass, as strictly as each item is checked on its own below."""

    items: Annotated[list[PostCompletion], Meta(min_length=1, max_length=MAX_BATCH)]


_well_formed = decoder(_WellFormed)


async def read_batch(body: bytes, content_type: str) -> list[Parsed]:
    """`batch_items`, off the event loop for a large body."""
    return await read_off_the_loop(_workers, batch_items, body, content_type)


async def read_off_the_loop(
    workers: WorkerPool, items: Callable[[bytes, str], list[T]], body: bytes, content_type: str
) -> list[T]:
    """`items(body, content_type)`: on the event loop for a small body, in a worker process
    of `workers` for a large one (SPEC 6: parsing a large roster never blocks the loop for
    other requests).  `items` is a module's function, so that a worker can be sent it."""
    if len(body) <= INLINE_BYTES:
        return items(body, content_type)
    read = await workers.run(_read_in_worker, items, body, content_type)
    if isinstance(read, _Refused):
        raise Invalid(read.errors)
    return read


class _Refused(msgspec.Struct, frozen=True):
    """A roster refused as a whole, as a worker sends it back (`Invalid` does not pickle)."""

    errors: list[FieldError]


def _read_in_worker(
    items: Callable[[bytes, str], list[T]], body: bytes, content_type: str
) -> list[T] | _Refused:
    try:
        return items(body, content_type)
    except Invalid as refused:
        return _Refused(list(refused.errors))


def csv_refusal(exc: RosterFormatError) -> Exception:
    """A CSV roster that cannot be read: a malformed body (400) or a bad header (422)."""
    if exc.field == "body":
        return ClientException(detail=exc.message)
    return Invalid([FieldError(exc.field, exc.message)])


def batch_items(body: bytes, content_type: str) -> list[Parsed]:
    """Each item as a posting, or its rejection if it is not a well-formed one."""
    if is_json(content_type):
        try:
            return list(_well_formed.decode(body).items)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
            pass  # not all well-formed: each item on its own, answered on its own line
    items = _raw_items(body, content_type)
    try:  # all at once if all are well-formed (a CSV roster, usually)
        return list(convert(items, list[PostCompletion]))
    except msgspec.ValidationError:
        return [_posting(raw) for raw in items]


def is_json(content_type: str) -> bool:
    return content_type.startswith("application/json") or not content_type


def batch_result(parsed: list[Parsed], outcomes: list[Outcome]) -> BatchResult:
    """The result of every line, in order: `outcomes` answer the postings among `parsed`."""
    answers = iter(outcomes)
    return BatchResult.of(
        [
            _item_result(p.external_id, next(answers)) if isinstance(p, PostCompletion) else p
            for p in parsed
        ]
    )


def _raw_items(body: bytes, content_type: str) -> list[Any]:
    if content_type.startswith("text/csv"):
        try:
            return parse_roster_csv(body, max_lines=MAX_BATCH)
        except RosterFormatError as exc:
            raise csv_refusal(exc) from exc
    if is_json(content_type):
        try:
            return msgspec.json.decode(body, type=PostCompletionBatch).items
        except msgspec.ValidationError as exc:
            raise Invalid([field_of(exc, "items")]) from exc
        except msgspec.DecodeError as exc:
            raise ClientException(detail=f"malformed JSON: {exc}") from exc
    raise HTTPException(status_code=415, detail="send application/json or text/csv")


_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


def field_of(exc: msgspec.ValidationError, default: str) -> FieldError:
    """msgspec says `... - at `$.items[3].ceus``: name the field."""
    message = str(exc)
    field = message.rsplit("at `$.", 1)[1].rstrip("`") if "at `$." in message else None
    if (named := _NAMED_FIELD.search(message)) is not None:  # the field itself, not its parent
        field = named[1] if field is None else f"{field}.{named[1]}"
    return FieldError(field or default, human(message.split(" - at ")[0]))


def _posting(raw: Any) -> Parsed:
    try:
        return convert(raw, PostCompletion)
    except msgspec.ValidationError as exc:
        external_id = raw.get("external_id") if isinstance(raw, dict) else None
        return ItemResult(
            external_id=external_id if isinstance(external_id, str) else None,
            status="rejected",
            error={"status": 422, "errors": [msgspec.to_builtins(field_of(exc, "item"))]},
        )


def _item_result(external_id: str, outcome: Outcome) -> ItemResult:
    if isinstance(outcome, DomainError):
        error: dict[str, Any] = {"status": status_of(outcome), "detail": outcome.detail}
        if isinstance(outcome, Invalid):
            error["errors"] = [msgspec.to_builtins(e) for e in outcome.errors]
        return ItemResult(external_id=external_id, status="rejected", error=error)
    status: Literal["created", "duplicate"] = "created" if outcome.created else "duplicate"
    receipt = outcome.receipt
    return ItemResult(
        external_id=external_id, status=status, id=receipt.id, position=receipt.position
    )


def spreadsheet_header(csv_bytes: bytes) -> bytes:
    """The roster with its first line's names in the API's spelling, as a spreadsheet writes
    them (`External ID` for external_id: any case, spaces for underscores, a byte order mark);
    the lines unchanged."""
    body = csv_bytes.removeprefix(b"\xef\xbb\xbf")
    first, newline, rest = body.partition(b"\n")
    names = first.rstrip(b"\r").split(b",")
    spelled = b",".join(b"_".join(name.strip(b' "').lower().split()) for name in names)
    return spelled + (b"\r" if first.endswith(b"\r") else b"") + newline + rest
