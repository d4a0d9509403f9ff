"""Programs, providers, activities, managers and certifications."""

from __future__ import annotations

import contextlib
from datetime import date
from functools import partial

from events.catalog import ActivityRegistered, Rules
from events.store import AppendResult
from ledger.commands.base import Context, LedgerBase
from ledger.commands.streams import activity_stream, load, program_stream, provider_stream
from ledger.domain import decide
from ledger.domain.catalogue import (
    DEFAULT_PROGRAMS,
    Activity,
    evolve_activity,
    evolve_program,
    evolve_provider,
)
from ledger.domain.errors import AlreadyExists

__all__ = ["CatalogueCommands"]


class CatalogueCommands(LedgerBase):
    async def ensure_default_programs(self, ctx: Context) -> None:
        """CMM and CMOM on a fresh ledger, as ordinary events (a no-op once they exist)."""
        for p in DEFAULT_PROGRAMS:
            with contextlib.suppress(AlreadyExists):
                await self.define_program(
                    ctx, code=p.program, name=p.name, association=p.association, rules=p.rules
                )

    async def define_program(
        self, ctx: Context, *, code: str, name: str, association: str, rules: Rules
    ) -> AppendResult:
        stream = program_stream(code)
        return (
            await self._write(
                ctx,
                stream,
                partial(load, self.store, stream, evolve_program),
                partial(
                    decide.define_program,
                    code=code,
                    name=name,
                    association=association,
                    rules=rules,
                ),
            )
        )[1]

    async def revise_rules(self, ctx: Context, code: str, rules: Rules) -> AppendResult:
        stream = program_stream(code)
        decide_fn = partial(decide.revise_rules, code=code, rules=rules, today=self.today())
        return (
            await self._write(
                ctx, stream, partial(load, self.store, stream, evolve_program), decide_fn
            )
        )[1]

    async def register_provider(
        self, ctx: Context, *, provider_id: str, name: str, programs: tuple[str, ...]
    ) -> AppendResult:
        stream, known = provider_stream(provider_id), await self.programs()
        decide_fn = partial(
            decide.register_provider,
            programs=known,
            provider_id=provider_id,
            name=name,
            codes=programs,
        )
        return (
            await self._write(
                ctx, stream, partial(load, self.store, stream, evolve_provider), decide_fn
            )
        )[1]

    async def activity(self, activity_id: str) -> Activity | None:
        return (await load(self.store, activity_stream(activity_id), evolve_activity))[0]

    async def register_activity(self, ctx: Context, activity: ActivityRegistered) -> AppendResult:
        provider, _ = await load(self.store, provider_stream(activity.provider_id), evolve_provider)
        known = await self.programs()
        stream = activity_stream(activity.activity_id)
        return (
            await self._write(
                ctx,
                stream,
                partial(load, self.store, stream, evolve_activity),
                lambda existing: decide.register_activity(
                    provider, existing, activity, programs=known
                ),
            )
        )[1]

    async def enroll_manager(
        self, ctx: Context, *, manager_id: str, name: str, email: str
    ) -> AppendResult:
        return await self._write_manager(
            ctx,
            manager_id,
            partial(decide.enroll_manager, manager_id=manager_id, name=name, email=email),
        )

    async def grant_certification(
        self, ctx: Context, manager_id: str, *, program: str, certified_on: date
    ) -> AppendResult:
        program_ = await self.program(program)
        return await self._write_manager(
            ctx,
            manager_id,
            partial(
                decide.grant_certification,
                program=program_,
                manager_id=manager_id,
                code=program,
                certified_on=certified_on,
                today=self.today(),
            ),
        )
