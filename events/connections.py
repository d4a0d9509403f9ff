"""The connection a query is handed: asyncpg's own, or one a pool lends.

asyncpg's stubs (asyncpg-stubs) type a pool's connection as `PoolConnectionProxy`, which
forwards every method to a `Connection` without being one; a function that takes either says
`Conn`."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

__all__ = ["Conn"]

Conn: TypeAlias = asyncpg.Connection | PoolConnectionProxy
