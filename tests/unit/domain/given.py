"""Given/when/then for one manager's record, with literal dates and no clock."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

from events.catalog import (
    ActivityRegistered,
    CertificationGranted,
    CompletionRecorded,
    Event,
    ManagerEnrolled,
    ProgramRulesRevised,
    Rules,
)
from ledger.commands.messages import DecideRenewal, PayFee
from ledger.domain import renewals
from ledger.domain.assess import Assessment
from ledger.domain.catalogue import (
    DEFAULT_PROGRAMS,
    Activity,
    Program,
    Provider,
    evolve_activity,
    evolve_program,
)
from ledger.domain.record import ManagerRecord, fold

CMM_RULES: Rules = DEFAULT_PROGRAMS[0].rules
CMOM_RULES: Rules = DEFAULT_PROGRAMS[1].rules


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def default_programs() -> dict[str, Program]:
    return {e.program: evolve_program(None, e) for e in DEFAULT_PROGRAMS}


def revised(program: Program, rules: Rules) -> Program:
    return evolve_program(program, ProgramRulesRevised(program=program.code, rules=rules))


class Manager:
    """A manager's stream, built up fact by fact, each recorded at noon UTC of a given day."""

    def __init__(self, manager_id: str = "m-1", enrolled: date = date(2020, 1, 6)) -> None:
        self.manager_id = manager_id
        self.programs = default_programs()
        self.events: list[tuple[Event, datetime]] = []
        self._record(
            ManagerEnrolled(manager_id=manager_id, name="Pat Doe", email="pat@example.org"),
            enrolled,
        )

    def _record(self, event: Event, day: date | datetime) -> None:
        at = day if isinstance(day, datetime) else noon(day)
        self.events.append((event, at))

    def record_all(self, events: list[Event], day: date | datetime) -> list[Event]:
        for event in events:
            self._record(event, day)
        return events

    # -- given ----------------------------------------------------------------------------

    def certified(self, program: str, on: date) -> Manager:
        self._record(
            CertificationGranted(manager_id=self.manager_id, program=program, certified_on=on), on
        )
        return self

    def completed(
        self,
        on: date,
        ceus: str | Decimal,
        *,
        category: str = "general",
        programs: tuple[str, ...] = ("CMM",),
        posted: date | None = None,
        provider: str = "p-1",
        activity: str | None = None,
    ) -> uuid.UUID:
        """A completion of `activity` (by default one of its own: no repeat)."""
        completion_id = uuid.uuid4()
        event = CompletionRecorded(
            completion_id=completion_id,
            manager_id=self.manager_id,
            provider_id=provider,
            external_id=str(completion_id),
            activity_id=activity or f"a-{completion_id.hex[:8]}",
            activity_title="Coding update workshop",
            category=category,
            programs=programs,
            completed_on=on,
            ceus=Decimal(ceus),
        )
        self._record(event, posted or on)
        return completion_id

    def paid(self, program: str, on: date, cents: int | None = None) -> Manager:
        program_ = self.programs[program]
        amount = cents if cents is not None else program_.versions[-1].fee_cents
        self.do(
            renewals.pay_fee,
            on,
            self.manager_id,
            program_,
            PayFee(program=program, amount_cents=amount, reference="chk-1"),
            fee_id=uuid.uuid4(),
            today=on,
        )
        return self

    # -- when -----------------------------------------------------------------------------

    def do(self, decision, on: date, *args, **kwargs) -> list[Event]:
        """Run a decide function against the current record and record what it returns."""
        return self.record_all(decision(self.record(), *args, **kwargs), on)

    def file(self, program: str, on: date) -> uuid.UUID:
        renewal_id = uuid.uuid4()
        self.do(
            renewals.file_renewal,
            on,
            self.manager_id,
            self.programs[program],
            renewal_id=renewal_id,
            today=on,
        )
        return renewal_id

    def approve(self, program: str, renewal_id: uuid.UUID, on: date) -> None:
        self.do(
            renewals.decide_renewal, on, program, renewal_id,
            DecideRenewal(decision="approve", reason="ok"),
        )  # fmt: skip

    # -- then -----------------------------------------------------------------------------

    def record(self, as_of: date | None = None) -> ManagerRecord:
        record = fold(self.events, as_of)
        assert record is not None
        return record

    def status(self, program: str, as_of: date) -> Assessment:
        return renewals.assess_program(self.record(as_of), self.programs[program], as_of)


# -- the catalogue ------------------------------------------------------------------------------

TMA = Provider(provider_id="tma", name="Texas Medical Association", programs=("CMM", "CMOM"))


def workshop(**changes: object) -> ActivityRegistered:
    """A two-day CMM and CMOM workshop of 12 core CEUs, registered by `tma`."""
    fields: dict[str, object] = {
        "provider_id": "tma",
        "activity_id": "tma-billing",
        "title": "Billing and coding update",
        "format": "workshop",
        "ceus": Decimal(12),
        "category": "core",
        "programs": ("CMM", "CMOM"),
        "starts_on": date(2025, 5, 1),
        "ends_on": date(2025, 5, 2),
    }
    return ActivityRegistered(**(fields | changes))


def activity_of(event: ActivityRegistered) -> Activity:
    return evolve_activity(None, event)
