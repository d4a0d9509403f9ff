"""The downloads both doors answer with: a CSV and a PDF."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from litestar import Response

from ledger.csv_io import csv_text

__all__ = ["csv_response", "pdf_response"]


def csv_response(columns: Sequence[str], rows: Iterable[Any], filename: str) -> Response[str]:
    """A CSV download of `columns` of the rows."""
    return Response(
        csv_text(columns, rows),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def pdf_response(content: bytes, filename: str) -> Response[bytes]:
    """A PDF, shown in the browser."""
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
