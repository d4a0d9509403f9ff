"""CSV in and out, for the API and the CLI alike.

In: rosters, the format providers export from their registration systems: a header line
`external_id,manager_id,activity_id,completed_on,ceus`, then one posting per line.  Used by
POST /v1/completions/batch (text/csv) and `ceu-ledger import-roster`.

Out: transcripts and the renewal register.  A cell that a spreadsheet would run as a formula
(it begins with `=`, `+`, `-`, `@`, a tab or a carriage return) is written with a leading `'`,
so an activity titled `=HYPERLINK(...)` stays text (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

import msgspec

__all__ = [
    "CSV_HEADER",
    "RosterFormatError",
    "columns_of",
    "csv_text",
    "parse_csv_lines",
    "parse_roster_csv",
    "safe_cell",
]

CSV_HEADER = ("external_id", "manager_id", "activity_id", "completed_on", "ceus")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RosterFormatError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def parse_roster_csv(data: bytes, *, max_lines: int) -> list[dict[str, object]]:
    """A completions roster's lines (`parse_csv_lines` with the postings' header)."""
    return parse_csv_lines(data, header=CSV_HEADER, max_lines=max_lines)


def parse_csv_lines(
    data: bytes, *, header: tuple[str, ...], max_lines: int
) -> list[dict[str, object]]:
    """The roster's lines as field dicts (values still unchecked: each line stands alone).

    A roster of more than `max_lines` lines is refused as soon as its line `max_lines + 1` is
    read, before that line or any after it is made into a posting's fields: a body of a
    million one-character lines costs a thousand lines' work, not a million.  The reader is
    lazy, so blank lines are skipped without being kept and a quoted cell may still span
    lines."""
    try:
        rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
        first = next(rows, None)
        if first is None or tuple(c.strip() for c in first) != header:
            raise RosterFormatError("header", f"the first line must be {','.join(header)}")
        lines: list[dict[str, object]] = []
        for row in rows:
            if not any(row):
                continue
            if len(lines) == max_lines:
                raise RosterFormatError("items", f"at most {max_lines} lines per roster")
            lines.append(_line(row, header))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise RosterFormatError("body", f"unreadable CSV: {exc}") from exc
    return lines


def _line(row: list[str], header: tuple[str, ...]) -> dict[str, object]:
    """A CSV line as a posting's fields.  Cells past the header's are kept as `extra_cells`, a
    field no posting has, so that a shifted line (`...,2,5` for 2.5 CEUs) is refused rather
    than read as 2 CEUs; empty trailing cells are ignored."""
    cells = [c.strip() for c in row]
    line: dict[str, object] = dict(zip(header, cells, strict=False))
    if any(cells[len(header) :]):
        line["extra_cells"] = cells[len(header) :]
    return line


def safe_cell(value: object) -> object:
    """One cell's text: booleans as true/false, dates and instants in ISO 8601, lists joined by
    spaces, and text a spreadsheet would evaluate prefixed with `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        value = " ".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: Iterable[msgspec.Struct | Mapping[str, object]]) -> str:
    """`columns` of each row (a Struct's attributes or a mapping's keys) with a header line,
    every cell through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        get = row.get if isinstance(row, Mapping) else lambda c, row=row: getattr(row, c)
        writer.writerow([safe_cell(get(c)) for c in columns])
    return out.getvalue()


def columns_of(row_type: type[msgspec.Struct]) -> tuple[str, ...]:
    """Every field of a row type, in field order: a listing's CSV columns."""
    return tuple(f.name for f in msgspec.structs.fields(row_type))
