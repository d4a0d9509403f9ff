"""The source of a completion's credit for a program (SPEC 12): `self` for a manager's own
report, accepted; `approved` for an activity approved for the program; else `provider`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Set

    from events.catalog import Source
    from ledger.domain.record import Completion

__all__ = ["source_of"]


def source_of(completion: Completion, approved: Set[str]) -> Source:
    """Where a completion's credit comes from for a program whose approved activities are
    `approved`: the manager's own report, an approved activity, or any other posting."""
    if completion.self_report_id is not None:
        return "self"
    return "approved" if completion.activity_id in approved else "provider"
