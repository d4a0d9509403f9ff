"""Why a command was refused, as data.  The HTTP layer maps each class to a status code once
(ledger/api/errors.py); nothing here knows about HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    from ledger.domain.assess import Shortfall, Status

__all__ = [
    "AlreadyExists",
    "AlreadyRecorded",
    "DomainError",
    "FieldError",
    "Invalid",
    "NotAllowed",
    "NotFound",
    "RenewalNotReady",
    "Unchanged",
    "WrongState",
]


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class DomainError(Exception):
    """Base class: a command that the rules refuse."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} {key}")
        self.kind, self.key = kind, key


class AlreadyExists(DomainError):
    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key} already exists")
        self.kind, self.key = kind, key


class AlreadyRecorded(DomainError):
    """The same manager, activity and completion date were recorded before, under another
    posting: the completion already recorded, and the provider's external_id for it."""

    def __init__(self, completion_id: UUID, external_id: str) -> None:
        super().__init__(
            f"already recorded as completion {completion_id} (external_id {external_id!r})"
        )
        self.completion_id, self.external_id = completion_id, external_id


class WrongState(DomainError):
    """The thing exists but is not in a state that allows this (e.g. deciding a decided renewal)."""


class NotAllowed(DomainError):
    """The actor may not do this (e.g. a provider correcting after the correction window)."""


class Invalid(DomainError):
    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = tuple(errors)


def invalid(field: str, message: str) -> Invalid:
    return Invalid([FieldError(field, message)])


class Unchanged(DomainError):
    """The command asks for what is already so: there is nothing to record (not an error to
    the caller; the command layer answers with the state as it is)."""


class RenewalNotReady(DomainError):
    def __init__(self, status: Status, shortfalls: Sequence[Shortfall], reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.shortfalls = tuple(shortfalls)
