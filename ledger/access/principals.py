"""Who is calling: a principal is what a live token stands for, on either door (a bearer token
on the API, a session's token on the pages)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Literal

import msgspec

from events.codec import Actor

__all__ = ["Principal", "Role"]

Role = Literal["admin", "provider", "manager", "auditor"]


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    token_id: uuid.UUID
    role: Role
    provider_id: str | None = None
    manager_id: str | None = None
    programs: tuple[str, ...] = ()

    @property
    def actor(self) -> Actor:
        subject = self.provider_id or self.manager_id or str(self.token_id)
        return Actor(role=self.role, id=subject)

    def is_admin(self) -> bool:
        return self.role == "admin"

    def audits(self, program: str) -> bool:
        return self.role == "auditor" and program in self.programs

    def is_provider(self, provider_id: str) -> bool:
        return self.role == "provider" and self.provider_id == provider_id

    def is_manager(self, manager_id: str) -> bool:
        return self.role == "manager" and self.manager_id == manager_id

    def may_read_manager(self, manager_id: str, certified_in: Collection[str] = ()) -> bool:
        """Whether this caller may read the manager's record and personal data (name, email):
        a manager itself; an admin; an auditor only of a manager certified (`certified_in`,
        the programs the manager holds) in one of the auditor's programs: an auditor sees the
        whole record of such a manager, whatever else the manager holds, since an audit of a
        renewal needs it."""
        if self.is_admin() or self.is_manager(manager_id):
            return True
        return self.role == "auditor" and any(p in self.programs for p in certified_in)
