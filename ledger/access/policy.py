"""The one scope policy: what a caller may see and correct of a manager (SPEC 6, "Privacy").

Every door asks this module, and nothing else decides: the API's controllers and its event
feed, the web pages and the PDFs.  It is pure: it decides from who is calling and the facts it
is handed (the programs a manager holds, the programs a completion counts for), and loads
nothing, so that a check cannot drift between the routes that show the same record.

The rule.  An admin and the manager itself see the whole record.  An auditor sees of a manager
only the programs it audits *that the manager holds* (`ManagerScope.programs`): those
certifications with their fees, renewals, audits and extensions, and the completions whose
activity counts for one of them.  A manager holding none of them is outside its scope
altogether: not even the name or the email.  So granting its program to a manager another
association enrolled opens exactly that program's view, and no more.  A provider reads only
what it posted.  Only the manager or an admin changes a profile.  An auditor corrects (voids
or amends) a completion only when it audits every program the completion counts for for that
manager (SPEC 3: the activity's programs the manager holds): otherwise its correction would
move another association's figures.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import msgspec

if TYPE_CHECKING:
    from ledger.domain.record import ManagerRecord

__all__ = [
    "WHOLE",
    "Caller",
    "ManagerScope",
    "corrects_freely",
    "counts_for",
    "may_change_profile",
    "may_read_completion",
    "scope_of",
]


class Caller(Protocol):
    """Who is calling, as the policy needs it (the API's `Principal` is one)."""

    @property
    def role(self) -> str: ...

    @property
    def manager_id(self) -> str | None: ...

    @property
    def provider_id(self) -> str | None: ...

    @property
    def programs(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class ManagerScope:
    """What one caller sees of one manager: all of it (`whole`), or only `programs`."""

    whole: bool = False
    programs: frozenset[str] = frozenset()

    @property
    def any(self) -> bool:
        """Whether the caller sees anything of the manager (name and email included)."""
        return self.whole or bool(self.programs)

    def program(self, code: str) -> bool:
        """A certification of `code`, with its fees, renewals, audits and standing."""
        return self.whole or code in self.programs

    def completion(self, programs: Iterable[str]) -> bool:
        """A completion whose activity counts for `programs`."""
        return self.whole or any(p in self.programs for p in programs)

    def record(self, record: ManagerRecord) -> ManagerRecord:
        """The record as this caller sees it: only its certifications and the completions
        that count for one of them.  Every figure of a certification it sees stays the same,
        since a completion that counts only elsewhere never counts toward it."""
        if self.whole:
            return record
        return msgspec.structs.replace(
            record,
            certifications={k: v for k, v in record.certifications.items() if self.program(k)},
            completions={
                k: c for k, c in record.completions.items() if self.completion(c.programs)
            },
        )


WHOLE = ManagerScope(whole=True)
_NOTHING = ManagerScope()


def scope_of(caller: Caller, manager_id: str, held: Collection[str]) -> ManagerScope:
    """What `caller` sees of the manager `manager_id`, who holds (or held) `held`."""
    if caller.role == "admin" or (caller.role == "manager" and caller.manager_id == manager_id):
        return WHOLE
    if caller.role == "auditor":
        return ManagerScope(programs=frozenset(held) & frozenset(caller.programs))
    return _NOTHING


def counts_for(activity_programs: Iterable[str], held: Collection[str]) -> frozenset[str]:
    """The programs a completion counts for: its activity's programs that the manager holds."""
    return frozenset(p for p in activity_programs if p in held)


def may_read_completion(
    caller: Caller, *, manager_id: str, provider_id: str, programs: Iterable[str],
    held: Collection[str],
) -> bool:  # fmt: skip
    """GET /v1/completions/{id}: its poster, or whoever sees it in the manager's record."""
    if caller.role == "provider" and caller.provider_id == provider_id:
        return True
    return scope_of(caller, manager_id, held).completion(programs)


def corrects_freely(caller: Caller, *, programs: Iterable[str], held: Collection[str]) -> bool:
    """Whether `caller` voids or amends a completion without the poster's correction window:
    an admin; an auditor of every program it counts for (and of at least one, so a completion
    that counts for nothing is an admin's to correct)."""
    if caller.role == "admin":
        return True
    counted = counts_for(programs, held)
    return caller.role == "auditor" and bool(counted) and counted <= set(caller.programs)


def may_change_profile(caller: Caller, manager_id: str) -> bool:
    """Only the manager or an admin changes a name or an email (where notices are sent)."""
    return caller.role == "admin" or (caller.role == "manager" and caller.manager_id == manager_id)
