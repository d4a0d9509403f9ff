"""Managers: enrolment, their profile, and the certifications they hold.  Each command takes
its message (ledger/commands/messages.py) and builds the event from the message's own fields;
the rule (ledger/domain/managers.py) decides on that event."""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec.structs import asdict

from events.catalog import CertificationGranted, ManagerEnrolled, ManagerProfileChanged
from ledger.commands.base import write_manager
from ledger.domain import managers as rules
from ledger.domain.errors import Unchanged

if TYPE_CHECKING:
    from events.store import AppendResult
    from ledger.commands.base import Context, Ledger
    from ledger.commands.messages import ChangeProfile, EnrollManager, GrantCertification

__all__ = ["change_profile", "enroll_manager", "grant_certification"]


async def enroll_manager(ledger: Ledger, ctx: Context, enrol: EnrollManager) -> AppendResult:
    enrolled = ManagerEnrolled(**asdict(enrol))
    written = await write_manager(
        ledger, ctx, enrol.manager_id, lambda existing: rules.enroll_manager(existing, enrolled)
    )
    return written.result


async def change_profile(
    ledger: Ledger, ctx: Context, manager_id: str, change: ChangeProfile
) -> AppendResult | None:
    """Where the change was recorded, or None if the profile already said so."""
    changed = ManagerProfileChanged(manager_id=manager_id, **asdict(change))
    try:
        written = await write_manager(
            ledger, ctx, manager_id, lambda record: rules.change_profile(record, changed)
        )
    except Unchanged:
        return None
    return written.result


async def grant_certification(
    ledger: Ledger, ctx: Context, manager_id: str, grant: GrantCertification
) -> AppendResult:
    known, today = (await ledger.catalogue.programs()).get(grant.program), ledger.today()
    granted = CertificationGranted(manager_id=manager_id, **asdict(grant))
    written = await write_manager(
        ledger,
        ctx,
        manager_id,
        lambda record: rules.grant_certification(record, known, granted, today=today),
    )
    return written.result
