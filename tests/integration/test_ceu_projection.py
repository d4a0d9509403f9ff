"""The `ceu` read model against the real PostgreSQL: for random valid histories, what the
projection answers equals what folding the streams answers, and a rebuild from zero gives the
same rows as the incremental build."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from events.catalog import ActivityRegistered
from events.codec import Actor
from events.postgres.connection import connect, create_pool
from events.postgres.store import PostgresEventStore
from ledger.commands import (
    Context,
    Ledger,
    PostCompletion,
    audits,
    catalogue,
    completions,
    renewals,
    self_reports,
    standing,
    workshops,
)
from ledger.commands import managers as enrolment
from ledger.commands.base import write_manager
from ledger.commands.messages import (
    AcceptSelfReport,
    AgendaSession,
    AmendCompletion,
    ChangeStanding,
    DecideRenewal,
    DrawAudit,
    EnrollManager,
    ExtendDeadline,
    FileRenewal,
    GrantCertification,
    PayFee,
    RecordAttendance,
    RecordFinding,
    RegisterProvider,
    RejectSelfReport,
    ReportSelf,
    VoidCompletion,
)
from ledger.domain.assess import assess
from ledger.domain.errors import DomainError
from ledger.domain.workshops.claims import file_claim
from ledger.evidence.memory import InMemoryEvidenceStore
from projections import ceu_queries
from projections.ceu import CeuProjection
from projections.engine import ProjectionRunner
from tests.builders import SteppingClock
from tests.conftest import fresh_database

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="t")
MANAGERS = ("m-0", "m-1")
CERTIFIED = (date(2023, 1, 31), date(2023, 2, 28))  # month ends on purpose
ACTIVITIES = {"core-course": ("core", ("CMM", "CMOM")), "cmm-course": ("general", ("CMM",))}
TABLES = CeuProjection.tables


async def _set_up(ledger: Ledger) -> None:
    await catalogue.ensure_default_programs(ledger, ADMIN)
    await catalogue.register_provider(
        ledger, ADMIN, RegisterProvider(provider_id="p", name="Provider", programs=["CMM", "CMOM"])
    )
    for activity_id, (category, programs) in ACTIVITIES.items():
        await catalogue.register_activity(
            ledger,
            ADMIN,
            ActivityRegistered(
                provider_id="p",
                activity_id=activity_id,
                title=activity_id,
                format="online",
                ceus=Decimal(12),
                category=category,
                programs=programs,
                starts_on=date(2020, 1, 1),
                ends_on=date(2030, 12, 31),
            ),
        )
    for n, manager_id in enumerate(MANAGERS):
        await enrolment.enroll_manager(
            ledger,
            ADMIN,
            EnrollManager(
                manager_id=manager_id, name=manager_id, email=f"{manager_id}@example.org"
            ),
        )
        await enrolment.grant_certification(
            ledger, ADMIN, manager_id, GrantCertification(program="CMM", certified_on=CERTIFIED[n])
        )
        if n != 1:
            await enrolment.grant_certification(
                ledger,
                ADMIN,
                manager_id,
                GrantCertification(program="CMOM", certified_on=date(2023, 6, 30)),
            )


managers = st.sampled_from(MANAGERS)
program_codes = st.sampled_from(["CMM", "CMOM"])
operations = st.one_of(
    st.tuples(
        st.just("post"),
        managers,
        st.sampled_from(sorted(ACTIVITIES)),
        st.integers(0, 300),
        st.decimals("0.25", "12", places=2),
    ),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("amend"), st.integers(0, 50), st.decimals("0.25", "6", places=2)),
    st.tuples(st.just("fee"), managers, program_codes),
    st.tuples(st.just("file"), managers, program_codes),
    st.tuples(st.just("earn and file"), managers, program_codes),
    st.tuples(st.just("decide"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("revoke"), managers, program_codes, st.booleans()),
    st.tuples(st.just("extend"), managers, program_codes, st.integers(20, 90)),
    st.tuples(st.just("audit"), st.integers(0, 2**16), st.booleans()),
    st.tuples(st.just("advance"), st.integers(1, 45)),
    st.tuples(st.just("project")),
)


class Scenario:
    """Runs the operations drawn above: `run(("void", 3))` calls `self._void(3)`.  Each
    returns whether it ran (False when what it needs, a completion or a renewal, is missing)."""

    def __init__(self, ledger: Ledger, clock: SteppingClock) -> None:
        self.ledger, self.clock = ledger, clock
        self.completions: list = []
        self.renewals: list = []

    async def run(self, op: tuple) -> bool:
        name, *args = op
        handler = getattr(self, "_" + name.replace(" ", "_"))
        return await handler(*args)

    @property
    def today(self) -> date:
        return self.clock.now.date()

    async def _post(self, manager_id, activity_id, days_ago, ceus) -> bool:
        posting = PostCompletion(
            external_id=f"x{len(self.completions)}-{self.clock.now.timestamp()}",
            manager_id=manager_id,
            activity_id=activity_id,
            completed_on=max(self.today - timedelta(days=days_ago), date(2020, 1, 1)),
            ceus=ceus,
        )
        posted = await completions.record_completion(self.ledger, ADMIN, "p", posting)
        self.completions.append(posted.receipt.id)
        return True

    async def _void(self, n) -> bool:
        if not self.completions:
            return False
        await completions.void_completion(
            self.ledger,
            ADMIN,
            self.completions[n % len(self.completions)],
            VoidCompletion(reason="v"),
            provider_id=None,
        )
        return True

    async def _amend(self, n, ceus) -> bool:
        if not self.completions:
            return False
        cid = self.completions[n % len(self.completions)]
        await completions.amend_completion(
            self.ledger, ADMIN, cid, AmendCompletion(reason="a", ceus=ceus), provider_id=None
        )
        return True

    async def _fee(self, manager_id, program) -> bool:
        await renewals.pay_fee(
            self.ledger,
            ADMIN,
            manager_id,
            PayFee(program=program, amount_cents=7500, reference="r"),
        )
        return True

    async def _file(self, manager_id, program) -> bool:
        filed, _ = await renewals.file_renewal(
            self.ledger, ADMIN, manager_id, FileRenewal(program=program)
        )
        self.renewals.append(filed.renewal_id)
        return True

    async def _earn_and_file(self, manager_id, program) -> bool:
        for _ in range(2):  # 24 core CEUs dated today: enough for either program
            await self._post(manager_id, "core-course", 0, Decimal(12))
        await self._fee(manager_id, program)
        return await self._file(manager_id, program)

    async def _decide(self, n, approve) -> bool:
        if not self.renewals:
            return False
        await renewals.decide_renewal(
            self.ledger,
            ADMIN,
            self.renewals[n % len(self.renewals)],
            DecideRenewal(decision="approve" if approve else "deny", reason="r"),
        )
        return True

    async def _revoke(self, manager_id, program, revoke) -> bool:
        change = standing.revoke if revoke else standing.reinstate
        await change(self.ledger, ADMIN, manager_id, program, ChangeStanding(reason="r"))
        return True

    async def _extend(self, manager_id, program, days) -> bool:
        await standing.extend_deadline(
            self.ledger,
            ADMIN,
            manager_id,
            program,
            ExtendDeadline(ends_on=self.today + timedelta(days=days), reason="leave"),
        )
        return True

    async def _audit(self, seed, passed) -> bool:
        if not self.renewals:
            return False
        drawn = await audits.draw_audit(
            self.ledger,
            ADMIN,
            "CMM",
            DrawAudit(
                filed_from=date(2020, 1, 1), filed_to=self.today, rate=Decimal("0.5"), seed=seed
            ),
            population=self.renewals,
        )
        for renewal_id in drawn.selected:
            await audits.record_finding(
                self.ledger,
                ADMIN,
                drawn.audit_id,
                RecordFinding(
                    renewal_id=renewal_id, outcome="passed" if passed else "failed", note="n"
                ),
            )
        return True

    async def _advance(self, days) -> bool:
        self.clock.advance(days=days)
        return True


async def _tables(conn) -> dict[str, list]:
    """Every row of every read-model table, in a fixed order (json has no ordering in SQL)."""
    return {
        t: sorted((tuple(r) for r in await conn.fetch(f"SELECT * FROM {t}")), key=repr)
        for t in TABLES
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=15, max_size=60))
async def test_the_projection_answers_as_the_fold_and_a_rebuild_equals_it(
    admin_dsn, template_dsn, ops
):
    clock = SteppingClock(datetime(2024, 1, 10, 12, tzinfo=UTC))
    async with fresh_database(admin_dsn) as dsn, create_pool(dsn, min_size=1, max_size=4) as pool:
        ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
        scenario = Scenario(ledger, clock)
        runner = ProjectionRunner(dsn, CeuProjection(), batch_size=7)
        conn = await connect(dsn)
        try:
            await _set_up(ledger)
            for op in ops:
                if op == ("project",):
                    await runner.catch_up(conn)  # incrementally, at random points
                    continue
                # A refused command records nothing, which is part of the property.
                with contextlib.suppress(DomainError):
                    if await scenario.run(op):
                        event(f"recorded: {op[0]}")
            await runner.catch_up(conn)

            today = clock.now.date()
            programs = await ledger.catalogue.programs()
            assert await ceu_queries.programs(conn) == programs
            for manager_id in MANAGERS:
                projected = await ceu_queries.manager_record(conn, manager_id)
                folded = (await ledger.managers.current(manager_id))[0]
                assert projected == folded
                for code, cert in folded.certifications.items():
                    now = assess(
                        cert, list(folded.completions.values()), programs[code].versions, today
                    )
                    assert now == assess(
                        projected.certifications[code],
                        list(projected.completions.values()),
                        programs[code].versions,
                        today,
                    )
            register = await ceu_queries.renewal_register(conn, "CMM")
            assert {r.renewal_id for r in register} == {
                r.renewal_id
                for m in MANAGERS
                for r in ((await ledger.managers.current(m))[0]).certifications["CMM"].renewals
            }

            incremental = await _tables(conn)
            await ProjectionRunner(dsn, CeuProjection(), batch_size=5).rebuild()
            assert await _tables(conn) == incremental
        finally:
            await conn.close()


async def test_completions_corrected_in_later_batches_read_back_as_the_fold(
    admin_dsn, template_dsn
):
    """The completions are rows of their own, written per batch: one corrected (twice) and
    one voided after the batch that recorded them read back as the fold has them, and a
    rebuild one event at a time gives the same rows."""
    clock = SteppingClock(datetime(2024, 1, 10, 12, tzinfo=UTC))
    async with fresh_database(admin_dsn) as dsn, create_pool(dsn, min_size=1, max_size=4) as pool:
        ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
        scenario = Scenario(ledger, clock)
        runner = ProjectionRunner(dsn, CeuProjection())
        conn = await connect(dsn)
        try:
            await _set_up(ledger)
            for n in range(3):
                await scenario.run(("post", "m-0", "core-course", n, Decimal("1.50")))
            await runner.catch_up(conn)
            await scenario.run(("amend", 0, Decimal("2.25")))
            await runner.catch_up(conn)
            await scenario.run(("amend", 0, Decimal("3.00")))
            await scenario.run(("void", 1))
            await scenario.run(("post", "m-0", "cmm-course", 0, Decimal("4.00")))
            await runner.catch_up(conn)

            projected = await ceu_queries.manager_record(conn, "m-0")
            assert projected == (await ledger.managers.current("m-0"))[0]
            first, second = (projected.completions[c] for c in scenario.completions[:2])
            assert (first.ceus, [h.kind for h in first.history]) == (
                Decimal("3.00"),
                ["recorded", "amended", "amended"],
            )
            assert second.voided
            incremental = await _tables(conn)
            await ProjectionRunner(dsn, CeuProjection(), batch_size=1).rebuild()
            assert await _tables(conn) == incremental
        finally:
            await conn.close()


async def test_a_workshops_credit_and_a_claim_read_back_as_the_fold(admin_dsn, template_dsn):
    """A workshop's credit names its sessions, and a claim lives in the manager's record:
    the read model keeps both (ceu_postings.sessions, the record's JSON), skips the workshop's
    own stream, and a rebuild gives the same rows."""
    clock = SteppingClock(datetime(2024, 1, 10, 12, tzinfo=UTC))
    async with fresh_database(admin_dsn) as dsn, create_pool(dsn, min_size=1, max_size=4) as pool:
        ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
        runner = ProjectionRunner(dsn, CeuProjection(), batch_size=3)
        conn = await connect(dsn)
        try:
            await _set_up(ledger)
            await _workshop_with_credit(ledger, clock)
            await runner.catch_up(conn)

            projected = await ceu_queries.manager_record(conn, "m-0")
            folded = (await ledger.managers.current("m-0"))[0]
            assert projected == folded
            assert sorted(c.sessions for c in projected.completions.values()) == [
                ("s-1", "s-3"),
                ("s-2",),
            ]
            assert [c.state for c in projected.claims.values()] == ["fulfilled"]
            incremental = await _tables(conn)
            await ProjectionRunner(dsn, CeuProjection(), batch_size=1).rebuild()
            assert await _tables(conn) == incremental
        finally:
            await conn.close()


async def _workshop_with_credit(ledger: Ledger, clock: SteppingClock) -> None:
    """m-0 claims a workshop's credit, attends two of its sessions (two categories), the
    workshop closes, and a third session's attendance after the close amends the credit."""
    day, tz = date(2024, 1, 8), timezone(timedelta(hours=-6))
    await catalogue.register_activity(
        ledger, ADMIN,
        ActivityRegistered(
            provider_id="p", activity_id="ws", title="Workshop", format="workshop",
            ceus=Decimal(6), category="core", programs=("CMM", "CMOM"),
            starts_on=day, ends_on=day,
        ),
    )  # fmt: skip

    def hour(h: int) -> datetime:
        return datetime(2024, 1, 8, h, tzinfo=tz)

    agenda = [
        AgendaSession(
            session_id=f"s-{n}", title=f"S{n}", starts_at=hour(8 + 2 * n),
            ends_at=hour(9 + 2 * n), ceus=Decimal(1), category=category,
        )
        for n, category in ((1, "core"), (2, "general"), (3, "core"))
    ]  # fmt: skip
    await workshops.schedule_sessions(ledger, ADMIN, "p", "ws", agenda)
    activity = await ledger.catalogue.activity("ws")
    await write_manager(
        ledger, ADMIN, "m-0",
        lambda record: file_claim(
            record, "m-0", activity, claim_id=uuid.uuid4(), activity_id="ws",
            completed_on=day, note="there", today=clock.now.date(),
        ),
    )  # fmt: skip
    for n in (1, 2, 3):
        if n == 3:
            await workshops.close_workshop(ledger, ADMIN, "p", "ws")
        attended = RecordAttendance(
            manager_id="m-0", session_id=f"s-{n}", checked_in_at=hour(8 + 2 * n),
            checked_out_at=hour(9 + 2 * n),
        )  # fmt: skip
        await workshops.record_attendance(ledger, ADMIN, "p", "ws", attended)


async def test_self_reports_read_back_as_the_fold_and_a_rebuild_equals_it(admin_dsn, template_dsn):
    """An accepted self-report is a completion (a ceu_postings row with its self_report_id),
    every report is a row of the review queue with its state, and a rebuild gives the same
    rows (SPEC 12)."""
    clock = SteppingClock(datetime(2024, 1, 10, 12, tzinfo=UTC))
    manager = Context(actor=Actor(role="manager", id="m-0"), request_id="r")
    async with fresh_database(admin_dsn) as dsn, create_pool(dsn, min_size=1, max_size=4) as pool:
        ledger = Ledger(PostgresEventStore(pool, clock=clock), clock=clock)
        runner = ProjectionRunner(dsn, CeuProjection(), batch_size=2)
        conn = await connect(dsn)
        try:
            await _set_up(ledger)
            evidence = InMemoryEvidenceStore()
            ids = []
            for n in range(3):
                message = ReportSelf(
                    title=f"Webinar {n}", provider_name="Society", completed_on=date(2024, 1, 5),
                    ceus=Decimal(2), category="general", programs=["CMM"],
                )  # fmt: skip
                reported, _ = await self_reports.report(
                    ledger, manager, evidence, "m-0", message=message,
                    data=b"%PDF-1.7\n" + bytes([n]), filename=f"c{n}.pdf",
                )  # fmt: skip
                ids.append(reported.report_id)
            accept = AcceptSelfReport(ceus=Decimal("1.5"), category="general")
            await self_reports.accept(ledger, ADMIN, ids[0], accept)
            await self_reports.reject(ledger, ADMIN, ids[1], RejectSelfReport(reason="no"))
            await runner.catch_up(conn)

            projected = await ceu_queries.manager_record(conn, "m-0")
            assert projected == (await ledger.managers.current("m-0"))[0]
            assert projected.completions[ids[0]].self_report_id == ids[0]
            queue = await ceu_queries.self_reports(conn, "CMM", state=None)
            assert [(r.report.report_id, r.report.state) for r in queue] == [
                (ids[0], "accepted"), (ids[1], "rejected"), (ids[2], "pending"),
            ]  # fmt: skip
            assert await ceu_queries.self_reports(conn, "CMOM", state=None) == []
            incremental = await _tables(conn)
            await ProjectionRunner(dsn, CeuProjection(), batch_size=1).rebuild()
            assert await _tables(conn) == incremental
        finally:
            await conn.close()
