"""Which notices a certification's life calls for, and on which day.

A notice is one message to a manager, identified by `(manager, program, cycle, kind)`: each
is called for at most once, however often the question is asked.  Two families:

* Date-driven, for the cycle being renewed on day D (`renewing`), unless the certification is
  revoked or that cycle's renewal is approved (`on_date`):
  - `deadline_90`, `deadline_45`, `deadline_15`, `deadline_1`: the tightest reminder whose
    day has come (deadline - N <= D < deadline), so on any one day at most one is called
    for.  A reminder whose days passed unseen (the scheduler was down, the certification was
    granted 30 days before its deadline) is not sent late: the next one is.  None while a
    renewal of that cycle is filed and undecided: the manager has done their part.
  - `grace_started`: deadline <= D < end of grace.
  - `lapsed`: D >= end of grace.
* `claim_overdue`, one per claim still open on its overdue day (`on_overdue_claim`): to the
  manager (program: the first of the activity's that the manager holds), and to each
  association whose program the
  activity counts for and the manager holds (`AssociationNotice`, listed on its page: an
  association has no address).
* Event-driven, on the day the fact was recorded: `renewal_approved`, `renewal_denied`
  (`on_decision`) and `audit_selected`, one per renewal drawn (`on_selection`).

`called_for` is the whole answer for a record on a day: every event-driven notice recorded by
then, and the date-driven one of that day.  Only the first notice of a key counts: a second
denial in the same cycle, or a reminder again after an extension moved the deadline, is the
same key and is not called for twice.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal
from uuid import UUID, uuid5

import msgspec

from events.catalog import RenewalApproved
from ledger.domain.cycles import renewing

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    from events.catalog import AuditSampleDrawn, RenewalDenied, RenewalFiled, Rules
    from ledger.domain.record import Certification, ManagerRecord

__all__ = [
    "KINDS",
    "NAMESPACE",
    "REMINDER_DAYS",
    "Kind",
    "AssociationNotice",
    "Notice",
    "called_for",
    "on_overdue_claim",
    "on_date",
    "on_decision",
    "on_selection",
]

Kind = Literal[
    "deadline_90",
    "deadline_45",
    "deadline_15",
    "deadline_1",
    "grace_started",
    "lapsed",
    "renewal_approved",
    "renewal_denied",
    "audit_selected",
    "claim_overdue",
]
KINDS: tuple[Kind, ...] = Kind.__args__  # type: ignore[attr-defined]
REMINDER_DAYS = (90, 45, 15, 1)
NAMESPACE = UUID("6f0c7c52-4c1e-4a5e-9d0b-2f8a1e0b9c11")
"""Of `Notice.notice_id`: a notice's id is a name-based UUID of its key, the same whoever
computes it, so it can serve as the mail's Message-ID across retries, restarts and rebuilds."""


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    manager_id: str
    program: str
    cycle: int
    kind: Kind
    due_on: date
    """The day it became due: the reminder's day, the deadline, the end of grace, or the day
    of the decision or draw."""
    deadline: date | None = None
    grace_ends_on: date | None = None
    renewal_id: UUID | None = None
    audit_id: UUID | None = None
    reason: str = ""
    claim_id: UUID | None = None
    """Of a `claim_overdue` notice: the claim, which is then its key (one notice per claim)."""

    @property
    def key(self) -> tuple[object, ...]:
        if self.claim_id is not None:
            return ("claim", self.claim_id, self.kind)
        return (self.manager_id, self.program, self.cycle, self.kind)

    @property
    def notice_id(self) -> UUID:
        return uuid5(NAMESPACE, "/".join(map(str, self.key)))


def _reminder(days_left: int) -> int | None:
    """The tightest reminder reached with `days_left` (> 0) days to go, if any."""
    return next((n for n in reversed(REMINDER_DAYS) if days_left <= n), None)


def _for_cert(
    manager_id: str, cert: Certification, versions: Sequence[Rules], on: date
) -> Notice | None:
    if cert.revoked:
        return None
    window = renewing(cert, versions, on)
    number, deadline = window.cycle.number, window.deadline
    states = {r.state for r in cert.renewals if r.cycle == number}
    if "approved" in states:
        return None
    grace_ends_on = deadline + timedelta(days=window.cycle.rules.grace_days)
    due = Notice(
        manager_id=manager_id, program=cert.program, cycle=number, kind="lapsed",
        due_on=grace_ends_on, deadline=deadline, grace_ends_on=grace_ends_on,
    )  # fmt: skip
    if on >= grace_ends_on:
        return due
    if on >= deadline:
        return msgspec.structs.replace(due, kind="grace_started", due_on=deadline)
    days = _reminder((deadline - on).days)
    pending = any(r.state == "filed" for r in cert.renewals if r.cycle == number)
    if days is None or pending:
        return None
    kind: Kind = f"deadline_{days}"  # type: ignore[assignment]
    return msgspec.structs.replace(due, kind=kind, due_on=deadline - timedelta(days=days))


def on_date(
    record: ManagerRecord, versions: Mapping[str, Sequence[Rules]], on: date
) -> list[Notice]:
    """The date-driven notices of day `on`, at most one per certification."""
    found = (
        _for_cert(record.manager_id, cert, versions[code], on)
        for code, cert in sorted(record.certifications.items())
    )
    return [n for n in found if n is not None]


def _decision(
    manager_id: str, program: str, cycle: int, renewal_id: UUID, approved: bool, reason: str,
    decided_on: date,
) -> Notice:  # fmt: skip
    kind: Kind = "renewal_approved" if approved else "renewal_denied"
    return Notice(
        manager_id=manager_id, program=program, cycle=cycle, kind=kind, due_on=decided_on,
        renewal_id=renewal_id, reason=reason,
    )  # fmt: skip


def _selected(
    manager_id: str, program: str, cycle: int, renewal_id: UUID, audit_id: UUID, drawn_on: date
) -> Notice:
    return Notice(
        manager_id=manager_id, program=program, cycle=cycle, kind="audit_selected",
        due_on=drawn_on, renewal_id=renewal_id, audit_id=audit_id,
    )  # fmt: skip


def on_decision(event: RenewalApproved | RenewalDenied, decided_on: date) -> Notice:
    return _decision(
        event.manager_id, event.program, event.cycle, event.renewal_id,
        isinstance(event, RenewalApproved), event.reason, decided_on,
    )  # fmt: skip


def on_selection(
    draw: AuditSampleDrawn, drawn_on: date, filings: Iterable[RenewalFiled]
) -> list[Notice]:
    """One notice per renewal drawn, for the filings among `filings` that were drawn."""
    selected = set(draw.selected)
    return [
        _selected(f.manager_id, f.program, f.cycle, f.renewal_id, draw.audit_id, drawn_on)
        for f in sorted(filings, key=lambda f: str(f.renewal_id))
        if f.renewal_id in selected
    ]


def called_for(
    record: ManagerRecord,
    versions: Mapping[str, Sequence[Rules]],
    on: date,
    draws: Iterable[tuple[AuditSampleDrawn, date]] = (),
) -> list[Notice]:
    """Every notice due by day `on`: the events' recorded by then, and that day's reminders.
    `draws` are the audits drawn, with their day; the record says which renewals are ours."""
    mid, found = record.manager_id, on_date(record, versions, on)
    drawn = [(d, day) for d, day in draws if day <= on]
    for code, cert in sorted(record.certifications.items()):
        for r in cert.renewals:
            if r.decided_at is not None and r.decided_at.date() <= on:
                approved = r.state == "approved"
                day = r.decided_at.date()
                found.append(_decision(mid, code, r.cycle, r.renewal_id, approved, r.reason, day))
            found += [
                _selected(mid, code, r.cycle, r.renewal_id, d.audit_id, day)
                for d, day in drawn
                if r.renewal_id in d.selected
            ]
    return _first_of_each_key(found)


def _first_of_each_key(notices: Iterable[Notice]) -> list[Notice]:
    first: dict[tuple[object, ...], Notice] = {}
    for notice in sorted(notices, key=lambda n: (n.due_on, n.program, n.cycle, n.kind)):
        first.setdefault(notice.key, notice)
    return list(first.values())


class AssociationNotice(msgspec.Struct, frozen=True, kw_only=True):
    """A notice to the association of `program` (listed on its page): one per claim."""

    program: str
    kind: Literal["claim_overdue"]
    claim_id: UUID
    manager_id: str
    due_on: date

    @property
    def notice_id(self) -> UUID:
        return uuid5(NAMESPACE, f"association/{self.program}/{self.kind}/{self.claim_id}")


def on_overdue_claim(
    claim_id: UUID,
    manager_id: str,
    activity_id: str,
    programs: Sequence[str],
    overdue_on: date,
    held: Collection[str],
) -> tuple[Notice, list[AssociationNotice]]:
    """The notices of a claim still open on `overdue_on`: the manager's (its reason names the
    activity) and one per program the activity counts for that the manager holds (`held`):
    an association sees nothing of a manager who holds none of its programs (SPEC 6)."""
    counted = [code for code in programs if code in held]
    mine = Notice(
        manager_id=manager_id, program=(counted or [*programs, ""])[0], cycle=0,
        kind="claim_overdue", due_on=overdue_on, reason=activity_id, claim_id=claim_id,
    )  # fmt: skip
    theirs = [
        AssociationNotice(
            program=code,
            kind="claim_overdue",
            claim_id=claim_id,
            manager_id=manager_id,
            due_on=overdue_on,
        )
        for code in sorted(set(counted))
    ]
    return mine, theirs
