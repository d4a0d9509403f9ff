"""Strict input, for every route at once: bodies decoded without coercion, query values checked
as written, error texts in the caller's words.

Why a DTO.  Litestar 2.x reads `data: JSONBody[SomeStruct]` by decoding the body to plain
Python values and converting them with `msgspec.convert(..., strict=False)` in the handler's
signature model: `"7500"` and `7500.0` become the integer 7500, and no type decoder can refuse
them (msgspec only asks a hook about types it does not know).  The supported way to own the
decoding is a DTO: `resolve_data_dto` asks the app's serialization plugins, and when a DTO
decodes the body the signature model takes the result as it is.  `StrictBodies` (a
serialization plugin) gives every handler whose `data` is one of the commands' input messages
(ledger/commands/messages.py)
the `StrictBody` DTO, which decodes the raw bytes with `msgspec.json.Decoder(type,
strict=True)`; handlers stay as they are.  The DTO decodes only (responses are encoded as
before) and documents the body with its own struct's schema.

A DTO cannot see a request that has no body or the wrong content type (Litestar skips it), nor
query strings; `check_request`, a `before_request` hook, refuses those before any parameter is
converted: a body must be `application/json` (else 415) and not empty (400); an integer query
value must be written as digits within PostgreSQL's bigint (the lax conversion would take
`1e3`, `1.0`, or 10**30 and overflow the database); a date as YYYY-MM-DD and an instant as an
ISO 8601 date-time (not a Unix timestamp).

`StrictInput` is the one plugin the app installs: it adds the two plugins and the hook.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.config.app import AppConfig
from litestar.dto import AbstractDTO
from litestar.enums import ParamType
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import KwargDefinition, ParameterKwarg
from litestar.plugins import InitPlugin, OpenAPISchemaPlugin, SerializationPlugin
from litestar.typing import FieldDefinition

from ledger.api.errors import field_problem
from ledger.commands.messages import Message
from ledger.domain.values import (
    MAX_INT,
    TEXT_PATTERN,
    dec_hook,
    is_decimal_marker,
    is_text_marker,
)

__all__ = ["StrictInput", "check_request", "decode", "invalid"]

T = TypeVar("T")


def decode(body: bytes, kind: type[T]) -> T:
    """A JSON body as `kind`, strictly; ValidationException (422) or ClientException (400)."""
    try:
        return msgspec.json.decode(body, type=kind, strict=True, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        raise invalid(exc) from exc
    except msgspec.DecodeError as exc:
        raise ClientException(detail=f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ClientException(detail="the body is nested too deeply") from exc


def invalid(exc: msgspec.ValidationError) -> ValidationException:
    field, message = field_problem(str(exc), default="body")
    error = {"key": field, "message": message, "source": "body"}
    return ValidationException(detail="the request has invalid fields", extra=[error])


class StrictBody(AbstractDTO[Any]):
    """Decodes a handler's `data` strictly (see the module docstring); one class for every
    handler, each handler's body type kept by handler id."""

    _kinds: dict[str, Any] = {}

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        cls._kinds[handler_id] = field_definition.annotation

    @classmethod
    def is_supported_model_type_field(cls, field_definition: FieldDefinition) -> bool:
        return False  # never a return DTO: responses are encoded as usual

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Any:
        return iter(())

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Any:
        return schema_creator.for_field_definition(
            FieldDefinition.from_annotation(cls._kinds[handler_id])
        )

    def decode_bytes(self, value: bytes) -> Any:
        return decode(value, self._kinds[self.asgi_connection.route_handler.handler_id])

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        raise HTTPException(status_code=415, detail="send the body as application/json")


class StrictBodies(SerializationPlugin):
    def supports_type(self, field_definition: FieldDefinition) -> bool:
        return field_definition.name == "data" and field_definition.is_subclass_of(Message)

    def create_dto_for_type(self, field_definition: FieldDefinition) -> type[AbstractDTO[Any]]:
        return StrictBody


class DecimalSchemas(OpenAPISchemaPlugin):
    """`Ceus` and `Fraction` in the OpenAPI document: a plain decimal string or a number."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return is_decimal_marker(value)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        marker = field_definition.annotation
        return Schema(
            one_of=[
                Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]+(\.[0-9]+)?$"),
                Schema(type=OpenAPIType.NUMBER, minimum=0, maximum=float(marker.LIMIT)),
            ],
            description=marker.DESCRIPTION,
        )


class TextSchemas(OpenAPISchemaPlugin):
    """The text markers (`Text`, `Reason`, `Email`, ...) in the OpenAPI document: a string of
    their lengths without the characters they refuse."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return is_text_marker(value)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        marker = field_definition.annotation
        return Schema(
            type=OpenAPIType.STRING,
            min_length=marker.MIN,
            max_length=marker.MAX,
            pattern=TEXT_PATTERN,
            description=marker.DESCRIPTION,
        )


_DIGITS = re.compile(r"-?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ].+")


def _scalar(field: FieldDefinition) -> Any:
    """The type a query parameter is converted to (`int` for `int | None`)."""
    if field.is_optional:
        inner = [t for t in field.inner_types if not t.is_none_type]
        return inner[0].annotation if len(inner) == 1 else None
    return field.annotation


def _query_problem(kind: Any, raw: str) -> str | None:
    if kind is int:
        if not _DIGITS.fullmatch(raw):
            return "must be a whole number written in digits"
        if abs(int(raw)) > MAX_INT:
            return f"at most {MAX_INT}"
    elif kind is date and not _DATE.fullmatch(raw):
        return "use YYYY-MM-DD"
    elif kind is datetime and not _INSTANT.fullmatch(raw):
        return "use an ISO 8601 instant such as 2026-06-15T14:30:00Z"
    return None


def _query_name(name: str, field: FieldDefinition) -> str:
    kwarg = field.kwarg_definition
    if isinstance(kwarg, ParameterKwarg) and kwarg.query:
        return kwarg.query
    return name


def _query_errors(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    errors = []
    for name, field in request.route_handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if isinstance(kwarg, KwargDefinition) and not isinstance(kwarg, ParameterKwarg):
            continue  # a body or a dependency
        if (isinstance(kwarg, ParameterKwarg) and kwarg.header) or name in request.path_params:
            continue
        key = _query_name(name, field)
        for raw in request.query_params.getall(key, []):
            if (why := _query_problem(_scalar(field), raw)) is not None:
                errors.append({"key": key, "message": why, "source": ParamType.QUERY.value})
    return errors


_JSON_TYPES: Collection[str] = ("application/json",)


async def check_request(request: Request[Any, Any, Any]) -> None:
    """The `before_request` hook: refuse what a DTO never sees (see the module docstring)."""
    if errors := _query_errors(request):
        raise ValidationException(detail="the request has invalid query values", extra=errors)
    handler = request.route_handler
    if handler.parsed_data_field is None or handler.resolve_data_dto() is not StrictBody:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in _JSON_TYPES:
        raise HTTPException(
            status_code=415, detail="send the body as application/json (Content-Type)"
        )
    if not (await request.body()).strip():
        raise ClientException(detail="the request has no body: send a JSON object")


class StrictInput(InitPlugin):
    """The one thing the app installs: strict bodies, their schemas, and `check_request`."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.plugins.extend([StrictBodies(), DecimalSchemas(), TextSchemas()])
        earlier = app_config.before_request
        if earlier is None:
            app_config.before_request = check_request
        else:

            async def both(request: Request[Any, Any, Any]) -> Any:
                await check_request(request)
                return await earlier(request)

            app_config.before_request = both
        return app_config
