"""OpenAPI documentation helpers for listings that answer JSON or CSV."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema

__all__ = ["CsvOperation", "describe", "json_or_csv"]


def json_or_csv(rows: Any) -> dict[int, ResponseSpec]:
    """The 200 of a listing: `rows` in JSON (and, with `CsvOperation`, CSV too)."""
    return {
        200: ResponseSpec(
            data_container=rows,
            description="the rows in JSON, or in CSV with format=csv",
            generate_examples=False,
        )
    }


@dataclass
class CsvOperation(Operation):
    """A listing that also answers `format=csv`: its 200 documents text/csv beside JSON."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            csv_schema = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
            ok.content = {**(ok.content or {}), "text/csv": csv_schema}


def describe(app: Litestar) -> None:
    """Give every operation of the API a summary and a description from its handler's
    docstring (its first sentence, and the whole text), before the schema is first built."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            doc = inspect.cleandoc(inspect.getdoc(handler.fn) or "")
            if doc and handler.summary is None:
                handler.summary = doc.split("\n\n")[0].split(". ")[0].rstrip(".").replace("\n", " ")
            if doc and handler.description is None:
                handler.description = doc
