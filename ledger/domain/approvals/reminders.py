"""Reminders to a provider 120 and 30 days before its approval for a program lapses (SPEC 12):
which notice a day calls for, identified so that each is sent once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal
from uuid import UUID, uuid5

import msgspec

if TYPE_CHECKING:
    from ledger.domain.approvals.providers import ProviderApprovals

__all__ = ["LAPSE_REMINDER_DAYS", "LapseKind", "LapseReminder", "lapse_reminders"]

LAPSE_REMINDER_DAYS = (120, 30)
LapseKind = Literal["approval_lapses_120", "approval_lapses_30"]
_NAMESPACE = UUID("0b8f3c1e-7a2d-4e55-8c19-5d2e7f6a4b30")


class LapseReminder(msgspec.Struct, frozen=True, kw_only=True):
    """One notice to a provider: its approval for a program lapses on `valid_until`.  Its key
    (provider, program, valid_until, kind) is sent once; a renewal lapses on another day."""

    provider_id: str
    program: str
    kind: LapseKind
    approval_number: str
    valid_until: date
    due_on: date
    email: str
    """The contact address of the application that was approved."""

    @property
    def notice_id(self) -> UUID:
        key = (self.provider_id, self.program, self.valid_until.isoformat(), self.kind)
        return uuid5(_NAMESPACE, "/".join(key))


def lapse_reminders(approvals: ProviderApprovals, on: date) -> list[LapseReminder]:
    """For each program, the tightest reminder whose day has come before the approval that
    lapses last lapses (valid_until - N <= on < valid_until); one already renewed by an
    approval lapsing later is not reminded of.  A reminder whose day passed unseen is not
    sent late: the next one is."""
    found = []
    for program in sorted({a.program for a in approvals.applications}):
        latest = approvals.latest(program)
        if latest is None or latest.valid_until is None or not on < latest.valid_until:
            continue
        left = (latest.valid_until - on).days
        days = next((n for n in sorted(LAPSE_REMINDER_DAYS) if left <= n), None)
        if days is None:
            continue
        kind: LapseKind = f"approval_lapses_{days}"  # type: ignore[assignment]
        found.append(
            LapseReminder(
                provider_id=approvals.provider_id, program=program, kind=kind,
                approval_number=latest.approval_number, valid_until=latest.valid_until,
                due_on=latest.valid_until - timedelta(days=days), email=latest.contact_email,
            )
        )  # fmt: skip
    return found
