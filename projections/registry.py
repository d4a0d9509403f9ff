"""Every projection the service runs, by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from projections.ceu import CeuProjection
from projections.claims import ClaimsProjection
from projections.notices import NoticeProjection
from projections.streams import StreamSummaries
from projections.verification import ChainVerification

if TYPE_CHECKING:
    from projections.engine import Projection

__all__ = ["all_projections", "by_name"]


def all_projections() -> list[Projection]:
    return [
        StreamSummaries(),
        CeuProjection(),
        NoticeProjection(),
        ChainVerification(),
        ClaimsProjection(),
    ]


def by_name(names: list[str]) -> list[Projection]:
    known = {p.name: p for p in all_projections()}
    unknown = sorted(set(names) - known.keys())
    if unknown:
        raise ValueError(f"unknown projection(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names] if names else list(known.values())
