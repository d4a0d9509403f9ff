"""What an association's pages read beyond the API's views: the managers' names, a renewal
with its line of the register.  The program page's paginated register, due list and
verification checkpoint are in ledger/queries/program_page.py."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from events.catalog import RenewalFiled
from ledger.commands.loaders import find_renewal
from ledger.queries.reads import Reads
from projections.ceu_queries import RegisterRow

__all__ = ["manager_names", "renewal_evidence", "renewal_register"]


async def renewal_register(
    reads: Reads, code: str, *, state: str | None = None,
    cycle_ends_from: date | None = None, cycle_ends_to: date | None = None,
) -> list[RegisterRow]:  # fmt: skip
    """GET /v1/programs/{code}/renewals."""
    return await reads.register(
        code, state=state, cycle_ends_from=cycle_ends_from, cycle_ends_to=cycle_ends_to
    )


async def renewal_evidence(
    reads: Reads, renewal_id: UUID
) -> tuple[RenewalFiled, RegisterRow | None]:
    """The filing with its frozen evidence, and its line of the register (state, decision)."""
    filed = await find_renewal(reads.store, renewal_id)
    rows = await renewal_register(reads, filed.program)
    return filed, next((r for r in rows if r.renewal_id == renewal_id), None)


async def manager_names(reads: Reads, code: str) -> dict[str, str]:
    """Manager id -> name, of every manager certified in `code`: GET /v1/managers?program=,
    the read that shows an association the managers of its program, page by page."""
    names: dict[str, str] = {}
    after = 0
    while True:
        page = await reads.managers_list(program=code, q=None, status=None, after=after, limit=500)
        names.update((m.manager_id, m.name) for m in page.managers)
        if page.next_after is None:
            return names
        after = page.next_after
