"""Renewal cycles: anniversary-based, back to back from the certification date.

Cycle n runs [starts_on, ends_on).  Every boundary is counted from `certified_on` itself, never
from the previous boundary, so month ends do not drift: certified on Jan 31 with 1-month
cycles gives Feb 28 (or 29), Mar 31, Apr 30, ...  A boundary that falls on a day the month
does not have (the 31st, Feb 29 in a common year) is that month's last day.

Rules can change between cycles; each cycle takes `cycle_months` from the rule version in
force on the day it starts (`rules_in_force`).

A certification's cycle is judged by its `deadline`: the anniversary end, or later if an
association extended it.  A cycle's counting window is [previous deadline, deadline), so
windows partition time from the certification date on.  `renewing` is the one cycle being
renewed, for the status, the fees, the filing and the read models alike.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from events.catalog import Rules

if TYPE_CHECKING:
    from ledger.domain.record import Certification

__all__ = [
    "Cycle",
    "Window",
    "add_months",
    "cycle_on",
    "cycles",
    "deadline",
    "open_cycle",
    "renewing",
    "rules_in_force",
    "windows",
    "windows_until",
]


class Cycle(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    starts_on: date
    ends_on: date
    rules: Rules

    def contains(self, day: date) -> bool:
        return self.starts_on <= day < self.ends_on


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day if it is shorter."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def rules_in_force(versions: Sequence[Rules], on: date) -> Rules:
    """The latest version effective on `on`; before the first version, the first version
    (a program's original rules govern cycles that began before it was recorded here)."""
    if not versions:
        raise ValueError("a program has at least one rule version")
    in_force = versions[0]
    for version in versions:  # sorted by effective_from
        if version.effective_from <= on:
            in_force = version
    return in_force


def cycles(certified_on: date, versions: Sequence[Rules]) -> Iterator[Cycle]:
    """Cycle 1, 2, 3, ... without end."""
    months, number = 0, 1
    while True:
        starts_on = add_months(certified_on, months)
        rules = rules_in_force(versions, starts_on)
        months += rules.cycle_months
        yield Cycle(
            number=number,
            starts_on=starts_on,
            ends_on=add_months(certified_on, months),
            rules=rules,
        )
        number += 1


def cycle_on(certified_on: date, versions: Sequence[Rules], day: date) -> Cycle:
    """The cycle containing `day` (cycle 1 for days before the certification date)."""
    for cycle in cycles(certified_on, versions):
        if day < cycle.ends_on:
            return cycle
    raise AssertionError("unreachable: cycles() never ends")


class Window(NamedTuple):
    """A cycle with its counting window [counts_from, deadline)."""

    cycle: Cycle
    counts_from: date
    deadline: date


def deadline(cert: Certification, cycle: Cycle) -> date:
    """When `cycle` must be complete: its anniversary end, or the extension if later."""
    return max(cert.extensions.get(cycle.number, cycle.ends_on), cycle.ends_on)


def windows(cert: Certification, versions: Sequence[Rules]) -> Iterator[Window]:
    """Every cycle's window, back to back from the certification date, without end."""
    counts_from = cert.certified_on
    for cycle in cycles(cert.certified_on, versions):
        window = Window(cycle, counts_from, deadline(cert, cycle))
        yield window
        counts_from = window.deadline


def windows_until(cert: Certification, versions: Sequence[Rules], as_of: date) -> list[Window]:
    """Cycles 1.. up to the one whose window holds `as_of`."""
    found: list[Window] = []
    for window in windows(cert, versions):
        found.append(window)
        if as_of < window.deadline:
            return found
    raise AssertionError("unreachable: cycles() never ends")


def renewing(cert: Certification, versions: Sequence[Rules], as_of: date | None = None) -> Window:
    """The cycle being renewed: the first without an approved renewal.  As of a day, never one
    whose window has not opened yet: once every cycle so far is renewed, the one holding it."""
    approved = {r.cycle for r in cert.renewals if r.state == "approved"}
    for window in windows(cert, versions):
        if window.cycle.number not in approved or (as_of is not None and as_of < window.deadline):
            return window
    raise AssertionError("unreachable: cycles() never ends")


def open_cycle(cert: Certification, versions: Sequence[Rules]) -> tuple[Cycle, date]:
    """The cycle being renewed and its deadline, with no date: it changes only when events
    do, so a read model can keep it."""
    window = renewing(cert, versions)
    return window.cycle, window.deadline
