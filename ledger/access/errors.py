"""What access refuses, in the application's terms: each door says it in its own way (the API
as a 401 or 403 problem, the pages as the sign-in page or the forbidden page)."""

from __future__ import annotations

__all__ = ["AccessError", "Forbidden", "Unauthenticated"]


class AccessError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthenticated(AccessError):
    """Nobody is calling: no credential, or an unknown, revoked or expired one."""


class Forbidden(AccessError):
    """The caller is known but may not do this."""
