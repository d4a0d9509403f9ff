"""Managers and their certifications: enrolling, profile changes, grants.  Their fold is
ledger/domain/record.py; every decision about a manager starts from `require_manager`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.catalog import CertificationGranted, Event, ManagerEnrolled, ManagerProfileChanged
from ledger.domain.errors import AlreadyExists, FieldError, Invalid, NotFound, Unchanged, invalid
from ledger.domain.values import EARLIEST, in_range

if TYPE_CHECKING:
    from datetime import date

    from ledger.domain.catalogue import Program
    from ledger.domain.record import Certification, ManagerRecord

__all__ = [
    "certification",
    "change_profile",
    "enroll_manager",
    "grant_certification",
    "require_manager",
]


def require_manager(record: ManagerRecord | None, manager_id: str) -> ManagerRecord:
    """The record, or NotFound: the one check that a manager exists."""
    if record is None:
        raise NotFound("manager", manager_id)
    return record


def certification(record: ManagerRecord, program: str) -> Certification:
    cert = record.certifications.get(program)
    if cert is None:
        raise NotFound(f"{program} certification for manager", record.manager_id)
    return cert


def _email_error(email: str) -> FieldError | None:
    local, at, domain = email.partition("@")
    if local and at and "." in domain.strip("."):
        return None
    return FieldError("email", "not an email address")


def enroll_manager(existing: ManagerRecord | None, enrolled: ManagerEnrolled) -> list[Event]:
    """The enrolment as the message gave it (its event built from the message's fields)."""
    if existing is not None:
        raise AlreadyExists("manager", enrolled.manager_id)
    if (error := _email_error(enrolled.email)) is not None:
        raise Invalid([error])
    return [enrolled]


def change_profile(record: ManagerRecord | None, changed: ManagerProfileChanged) -> list[Event]:
    """A new name, email or both; what is not given (None) stays as it is.  Asking for the
    profile as it already is records nothing (Unchanged)."""
    name, email = changed.name, changed.email
    record = require_manager(record, changed.manager_id)
    errors: list[FieldError] = []
    if name is None and email is None:
        errors.append(FieldError("name", "give name, email or both"))
    if name is not None and not name.strip():
        errors.append(FieldError("name", "must not be empty"))
    if email is not None and (error := _email_error(email)) is not None:
        errors.append(error)
    if errors:
        raise Invalid(errors)
    if (name in (None, record.name)) and (email in (None, record.email)):
        raise Unchanged("the profile already says so")
    return [changed]


def grant_certification(
    record: ManagerRecord | None,
    program: Program | None,
    granted: CertificationGranted,
    *,
    today: date,
) -> list[Event]:
    code, certified_on = granted.program, granted.certified_on
    record = require_manager(record, granted.manager_id)
    if program is None:
        raise NotFound("program", code)
    if code in record.certifications:
        raise AlreadyExists(f"{code} certification for manager", granted.manager_id)
    if certified_on > today:
        raise invalid("certified_on", "must not be in the future")
    if not in_range(certified_on):
        raise invalid("certified_on", f"must be on or after {EARLIEST}")
    return [granted]
