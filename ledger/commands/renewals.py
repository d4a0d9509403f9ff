"""Fees, renewals and their decisions, standing (revoke, reinstate, extend), and audits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from uuid import UUID

from events.catalog import AuditSampleDrawn, RenewalFiled
from events.codec import decode
from events.store import AppendResult
from ledger.commands.base import Context, LedgerBase, enrolled
from ledger.commands.streams import audit_stream, load_manager, manager_stream
from ledger.domain import audit, decide
from ledger.domain.errors import NotFound
from ledger.domain.record import ManagerRecord

__all__ = ["RenewalCommands"]


class RenewalCommands(LedgerBase):
    async def pay_fee(
        self, ctx: Context, manager_id: str, *, program: str, amount_cents: int, reference: str
    ) -> AppendResult:
        return await self._write_manager(
            ctx,
            manager_id,
            partial(
                decide.pay_fee,
                manager_id=manager_id,
                program=await self.existing_program(program),
                fee_id=self.new_id(),
                amount_cents=amount_cents,
                reference=reference,
                today=self.today(),
            ),
        )

    async def file_renewal(
        self, ctx: Context, manager_id: str, *, program: str
    ) -> tuple[RenewalFiled, AppendResult]:
        decide_fn = partial(
            decide.file_renewal,
            manager_id=manager_id,
            program=await self.existing_program(program),
            renewal_id=self.new_id(),
            today=self.today(),
        )
        load_state = partial(load_manager, self.store, manager_id)
        [filed], result = await self._write(ctx, manager_stream(manager_id), load_state, decide_fn)
        assert isinstance(filed, RenewalFiled)
        return filed, result

    async def renewal(self, renewal_id: UUID) -> RenewalFiled | None:
        """The filing (its id is the renewal's id)."""
        recorded = await self.store.find(renewal_id)
        event = None if recorded is None else decode(recorded)
        return event if isinstance(event, RenewalFiled) else None

    async def filed_renewal(self, renewal_id: UUID) -> RenewalFiled:
        filed = await self.renewal(renewal_id)
        if filed is None:
            raise NotFound("renewal", renewal_id)
        return filed

    async def decide_renewal(
        self, ctx: Context, renewal_id: UUID, *, approve: bool, reason: str
    ) -> AppendResult:
        filed = await self.filed_renewal(renewal_id)

        def decision(record: ManagerRecord | None):  # type: ignore[no-untyped-def]
            record = enrolled(record, filed.manager_id)
            return decide.decide_renewal(
                record, filed.program, renewal_id, approve=approve, reason=reason
            )

        return await self._write_manager(ctx, filed.manager_id, decision)

    async def revoke(
        self, ctx: Context, manager_id: str, *, program: str, reason: str
    ) -> AppendResult:
        return await self._write_manager(
            ctx,
            manager_id,
            lambda r: decide.revoke(enrolled(r, manager_id), program, reason=reason),
        )

    async def reinstate(
        self, ctx: Context, manager_id: str, *, program: str, reason: str
    ) -> AppendResult:
        return await self._write_manager(
            ctx,
            manager_id,
            lambda r: decide.reinstate(enrolled(r, manager_id), program, reason=reason),
        )

    async def extend_deadline(
        self, ctx: Context, manager_id: str, *, program: str, until: date, reason: str
    ) -> AppendResult:
        program_, today = await self.existing_program(program), self.today()
        return await self._write_manager(
            ctx,
            manager_id,
            lambda r: decide.extend_deadline(
                enrolled(r, manager_id), program_, until=until, reason=reason, today=today
            ),
        )

    async def draw_audit(
        self,
        ctx: Context,
        *,
        program: str,
        filed_from: date,
        filed_to: date,
        rate: Decimal,
        seed: int,
        population: list[UUID],
    ) -> AuditSampleDrawn:
        """Record a draw over `population`: the renewals filed in the window, from the register."""
        await self.existing_program(program)
        drawn = AuditSampleDrawn(
            audit_id=self.new_id(),
            program=program,
            filed_from=filed_from,
            filed_to=filed_to,
            rate=rate,
            seed=seed,
            population=tuple(sorted(set(population))),
            selected=audit.select(population, rate, seed),
        )
        await self._write(ctx, audit_stream(drawn.audit_id), _new_stream, lambda _: [drawn])
        return drawn

    async def audit(self, audit_id: UUID) -> AuditSampleDrawn | None:
        recorded = await self.store.read_stream(audit_stream(audit_id))
        event = decode(recorded[0]) if recorded else None
        return event if isinstance(event, AuditSampleDrawn) else None

    async def record_finding(
        self, ctx: Context, audit_id: UUID, *, renewal_id: UUID, passed: bool, note: str
    ) -> AppendResult:
        drawn = await self.audit(audit_id)
        if drawn is None:
            raise NotFound("audit", audit_id)
        filed = await self.filed_renewal(renewal_id)

        def decision(record: ManagerRecord | None):  # type: ignore[no-untyped-def]
            return decide.record_finding(
                enrolled(record, filed.manager_id),
                filed.program,
                audit_id=audit_id,
                selected=drawn.selected,
                renewal_id=renewal_id,
                passed=passed,
                note=note,
            )

        return await self._write_manager(ctx, filed.manager_id, decision)


async def _new_stream() -> tuple[None, int]:
    """The state of a stream that must not exist yet: appended expecting version 0."""
    return None, 0
