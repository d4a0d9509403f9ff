"""The API's refusal inside a handler (the dependencies handlers are given live in
ledger/app/dependencies.py, their markers in ledger/http/injected.py)."""

from __future__ import annotations

from ledger.access.errors import Forbidden

__all__ = ["allow"]


def allow(condition: bool, detail: str) -> None:
    """403 unless `condition`: the caller is known (or we would have answered 401) but may
    not do this."""
    if not condition:
        raise Forbidden(detail)
