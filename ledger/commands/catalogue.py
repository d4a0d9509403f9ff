"""Programs, providers and activities."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, TypeVar

import msgspec

from events.catalog import ActivityRegistered, ProgramDefined, ProviderRegistered
from events.codec import decode
from ledger.commands.base import write
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
    from collections.abc import Callable
    from datetime import datetime

    from events.catalog import Event, Rules
    from events.store import AppendResult, EventStore
    from ledger.commands.base import Context, Ledger, Load
    from ledger.commands.messages import DefineProgram, RegisterActivity, RegisterProvider

__all__ = [
    "activity_of",
    "define_program",
    "ensure_default_programs",
    "register_activity",
    "register_provider",
    "revise_rules",
    "write_catalogue",
]

S = TypeVar("S")


def _folded(
    store: EventStore, stream: str, evolve: Callable[[S | None, Event, datetime], S]
) -> Load[S | None]:
    """The load of a small catalogue stream: fold it whole (each event with its time)."""

    async def load() -> tuple[S | None, int]:
        state: S | None = None
        recorded = await store.read_stream(stream)
        for r in recorded:
            state = evolve(state, decode(r), r.recorded_at)
        return state, recorded[-1].version if recorded else 0

    return load


async def write_catalogue(
    ledger: Ledger,
    ctx: Context,
    stream: str,
    evolve: Callable[[S | None, Event, datetime], S],
    decide: Callable[[S | None], list[Event]],
) -> AppendResult:
    """Write to a small catalogue stream (folded whole: a program, a provider, an activity,
    and their approvals); this process's own reads of the catalogue see the write at once."""
    written = await write(ledger, ctx, stream, _folded(ledger.store, stream, evolve), decide)
    ledger.catalogue.saw(written.result.last_position)
    return written.result


async def ensure_default_programs(ledger: Ledger, ctx: Context) -> None:
    """CMM and CMOM on a fresh ledger, as ordinary events (a no-op once they exist)."""
    for p in DEFAULT_PROGRAMS:
        with contextlib.suppress(AlreadyExists):
            await define_program(ledger, ctx, p)


async def define_program(ledger: Ledger, ctx: Context, defined: ProgramDefined) -> AppendResult:
    """The program as its event (ProgramDefined): `program_of` a door's DefineProgram once its
    rules are numbers (the API and the admin page), or one of the defaults."""
    return await write_catalogue(
        ledger,
        ctx,
        program_stream(defined.program),
        lambda program, event, _: evolve_program(program, event),
        lambda existing: domain.define_program(existing, defined),
    )


async def revise_rules(ledger: Ledger, ctx: Context, code: str, rules: Rules) -> AppendResult:
    today = ledger.today()
    return await write_catalogue(
        ledger,
        ctx,
        program_stream(code),
        lambda program, event, _: evolve_program(program, event),
        lambda program: domain.revise_rules(program, code, rules, today=today),
    )


async def register_provider(
    ledger: Ledger, ctx: Context, provider: RegisterProvider
) -> AppendResult:
    """The provider, its event built from the message's own fields."""
    registered = msgspec.convert(provider, ProviderRegistered, from_attributes=True)
    known = await ledger.catalogue.programs()
    return await write_catalogue(
        ledger,
        ctx,
        provider_stream(provider.provider_id),
        lambda existing, event, _: evolve_provider(existing, event),
        lambda existing: domain.register_provider(existing, known, registered),
    )


def program_of(program: DefineProgram, rules: Rules) -> ProgramDefined:
    """The DefineProgram message as its fact: the message's `code` is the fact's `program`,
    and its rule version the `rules` the door checked and converted (each door names the
    fields of a bad number its own way)."""
    return ProgramDefined(
        program=program.code, name=program.name, association=program.association, rules=rules
    )


def activity_of(provider_id: str, activity: RegisterActivity) -> ActivityRegistered:
    """The provider's RegisterActivity as its fact: the message's own fields, converted (its
    list of programs becomes the fact's tuple), and the provider the path's."""
    fields = msgspec.structs.asdict(activity) | {"provider_id": provider_id}
    return msgspec.convert(fields, ActivityRegistered)


async def register_activity(
    ledger: Ledger, ctx: Context, activity: ActivityRegistered
) -> AppendResult:
    """The activity, approved at once for the programs its provider's approval is valid for
    on its first day (ledger/domain/approvals.py)."""
    provider = await ledger.catalogue.provider(activity.provider_id)
    known = await ledger.catalogue.programs()
    approvals = (await ledger.catalogue.provider_approvals()).get(activity.provider_id)
    return await write_catalogue(
        ledger,
        ctx,
        activity_stream(activity.activity_id),
        lambda existing, event, _: evolve_activity(existing, event),
        lambda existing: domain.register_activity(
            provider, existing, activity, programs=known, approvals=approvals
        ),
    )
