"""Managers: enrolment, their profile, and the certifications they hold."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.commands.base import write_manager
from ledger.domain import managers as rules
from ledger.domain.errors import Unchanged

if TYPE_CHECKING:
    from datetime import date

    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger

__all__ = ["change_profile", "enroll_manager", "grant_certification"]


async def enroll_manager(
    ledger: Ledger, ctx: Context, *, manager_id: str, name: str, email: str
) -> AppendResult:
    written = await write_manager(
        ledger,
        ctx,
        manager_id,
        lambda existing: rules.enroll_manager(
            existing, manager_id=manager_id, name=name, email=email
        ),
    )
    return written.result


async def change_profile(
    ledger: Ledger, ctx: Context, manager_id: str, *, name: str | None, email: str | None
) -> AppendResult | None:
    """Where the change was recorded, or None if the profile already said so."""
    try:
        written = await write_manager(
            ledger,
            ctx,
            manager_id,
            lambda record: rules.change_profile(record, manager_id, name=name, email=email),
        )
    except Unchanged:
        return None
    return written.result


async def grant_certification(
    ledger: Ledger, ctx: Context, manager_id: str, *, program: str, certified_on: date
) -> AppendResult:
    known, today = (await ledger.catalogue.programs()).get(program), ledger.today()
    written = await write_manager(
        ledger,
        ctx,
        manager_id,
        lambda record: rules.grant_certification(
            record, known, manager_id=manager_id, code=program, certified_on=certified_on,
            today=today,
        ),
    )  # fmt: skip
    return written.result
