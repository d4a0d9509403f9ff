"""The API fixtures (a real app on a fresh database, a fixed clock), for credential tests."""

from tests.api.conftest import api, client, clock, world

__all__ = ["api", "client", "clock", "world"]
