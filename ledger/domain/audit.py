"""Drawing a random audit sample that anyone can redraw.

Each renewal in the population is ranked by SHA-256(seed ":" renewal_id) and the first
ceil(rate x population) are selected.  The draw depends only on the seed and the population as
a set (not its order, not the Python version, not a random module's algorithm), and both are
recorded in the AuditSampleDrawn fact, so an outside auditor can check a draw with a few lines
of code in any language.
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

__all__ = ["sample_size", "select"]


def sample_size(population: int, rate: Decimal) -> int:
    if not 0 <= rate <= 1:
        raise ValueError("rate is a fraction between 0 and 1")
    return min(population, math.ceil(rate * population))


def _rank(seed: int, renewal_id: UUID) -> bytes:
    return hashlib.sha256(f"{seed}:{renewal_id}".encode()).digest()


def select(population: Iterable[UUID], rate: Decimal, seed: int) -> tuple[UUID, ...]:
    """The renewals drawn, in draw order."""
    unique = set(population)
    ranked = sorted(unique, key=lambda rid: _rank(seed, rid))
    return tuple(ranked[: sample_size(len(unique), rate)])
