"""Programs, providers and activities."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, TypeVar

from events.codec import decode
from ledger.commands.base import Written, write
from ledger.commands.streams import activity_stream, program_stream, provider_stream
from ledger.domain import catalogue as domain
from ledger.domain.catalogue import (
    DEFAULT_PROGRAMS,
    evolve_activity,
    evolve_program,
    evolve_provider,
)
from ledger.domain.errors import AlreadyExists

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from events.catalog import ActivityRegistered, Event, Rules
    from events.store import AppendResult, EventStore
    from ledger.commands.base import Context, Ledger, Load

__all__ = [
    "define_program",
    "ensure_default_programs",
    "register_activity",
    "register_provider",
    "revise_rules",
]

S = TypeVar("S")


def _folded(
    store: EventStore, stream: str, evolve: Callable[[S | None, Event], S]
) -> Load[S | None]:
    """The load of a small catalogue stream: fold it whole."""

    async def load() -> tuple[S | None, int]:
        state: S | None = None
        recorded = await store.read_stream(stream)
        for r in recorded:
            state = evolve(state, decode(r))
        return state, recorded[-1].version if recorded else 0

    return load


async def _announced(ledger: Ledger, written: Awaitable[Written]) -> AppendResult:
    """This process's catalogue write: its own reads see it at once."""
    result = (await written).result
    ledger.catalogue.saw(result.last_position)
    return result


async def ensure_default_programs(ledger: Ledger, ctx: Context) -> None:
    """CMM and CMOM on a fresh ledger, as ordinary events (a no-op once they exist)."""
    for p in DEFAULT_PROGRAMS:
        with contextlib.suppress(AlreadyExists):
            await define_program(
                ledger, ctx, code=p.program, name=p.name, association=p.association, rules=p.rules
            )


async def define_program(
    ledger: Ledger, ctx: Context, *, code: str, name: str, association: str, rules: Rules
) -> AppendResult:
    stream = program_stream(code)
    return await _announced(
        ledger,
        write(
            ledger,
            ctx,
            stream,
            _folded(ledger.store, stream, evolve_program),
            lambda existing: domain.define_program(
                existing, code=code, name=name, association=association, rules=rules
            ),
        ),
    )


async def revise_rules(ledger: Ledger, ctx: Context, code: str, rules: Rules) -> AppendResult:
    stream, today = program_stream(code), ledger.today()
    return await _announced(
        ledger,
        write(
            ledger,
            ctx,
            stream,
            _folded(ledger.store, stream, evolve_program),
            lambda program: domain.revise_rules(program, code, rules, today=today),
        ),
    )


async def register_provider(
    ledger: Ledger, ctx: Context, *, provider_id: str, name: str, programs: tuple[str, ...]
) -> AppendResult:
    stream, known = provider_stream(provider_id), await ledger.catalogue.programs()
    return await _announced(
        ledger,
        write(
            ledger,
            ctx,
            stream,
            _folded(ledger.store, stream, evolve_provider),
            lambda existing: domain.register_provider(
                existing, known, provider_id=provider_id, name=name, codes=programs
            ),
        ),
    )


async def register_activity(
    ledger: Ledger, ctx: Context, activity: ActivityRegistered
) -> AppendResult:
    provider = await ledger.catalogue.provider(activity.provider_id)
    known, stream = await ledger.catalogue.programs(), activity_stream(activity.activity_id)
    return await _announced(
        ledger,
        write(
            ledger,
            ctx,
            stream,
            _folded(ledger.store, stream, evolve_activity),
            lambda existing: domain.register_activity(provider, existing, activity, programs=known),
        ),
    )
