"""The `claims` read model against the real PostgreSQL: the rows a history of claims and
postings gives (literal), and the projection's contract: built batch by batch, with a batch
killed midway and resumed, it equals a clean rebuild."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from events.catalog import ActivityRegistered
from events.codec import Actor
from events.postgres.connection import connect
from events.postgres.store import PostgresEventStore
from ledger.commands import Context, Ledger, PostCompletion, catalogue, claims, completions
from ledger.commands import managers as enrolment
from ledger.commands.messages import (
    DisputeClaim,
    EnrollManager,
    FileClaim,
    GrantCertification,
    RegisterProvider,
)
from projections.claims import ClaimsProjection
from projections.claims_queries import days_histograms, median_days
from projections.engine import ProjectionRunner, read_checkpoint
from tests.builders import SteppingClock

ADMIN = Context(actor=Actor(role="admin", id="root"), request_id="t")
TABLES = ClaimsProjection.tables


async def _history(ledger: Ledger, clock: SteppingClock) -> None:
    """p's course (CMM, CMOM) and q's (CMM); three managers.  On 2026-03-01 a claims p's
    course and b claims q's; on 2026-03-04 p posts a's (completed 2026-02-20: 12 days, it
    fulfils a's claim) and c's (2026-03-01: 3 days); q disputes b's claim; on 2026-03-10 c
    claims q's course (open) and q posts a's (2026-03-09: 1 day)."""
    await catalogue.ensure_default_programs(ledger, ADMIN)
    for provider, programs in (("p", ("CMM", "CMOM")), ("q", ("CMM",))):
        await catalogue.register_provider(
            ledger,
            ADMIN,
            RegisterProvider(provider_id=provider, name=provider.upper(), programs=list(programs)),
        )
        await catalogue.register_activity(
            ledger, ADMIN,
            ActivityRegistered(
                provider_id=provider, activity_id=f"{provider}-course", title="Course",
                format="online", ceus=Decimal(6), category="core", programs=programs,
                starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
            ),
        )  # fmt: skip
    for manager_id in ("a", "b", "c"):
        await enrolment.enroll_manager(
            ledger,
            ADMIN,
            EnrollManager(manager_id=manager_id, name=manager_id, email=f"{manager_id}@x.org"),
        )
        await enrolment.grant_certification(
            ledger,
            ADMIN,
            manager_id,
            GrantCertification(program="CMM", certified_on=date(2025, 1, 1)),
        )

    def claim(activity: str, on: str) -> FileClaim:
        return FileClaim(activity_id=activity, completed_on=date.fromisoformat(on), note="")

    def posting(external_id: str, manager_id: str, activity: str, on: str) -> PostCompletion:
        return PostCompletion(
            external_id=external_id, manager_id=manager_id, activity_id=activity,
            completed_on=date.fromisoformat(on), ceus=Decimal(6),
        )  # fmt: skip

    clock.now = datetime(2026, 3, 1, 10, tzinfo=UTC)
    await claims.file_claim(ledger, ADMIN, "a", claim("p-course", "2026-02-20"))
    filed, _ = await claims.file_claim(ledger, ADMIN, "b", claim("q-course", "2026-02-25"))
    clock.now = datetime(2026, 3, 4, 10, tzinfo=UTC)
    await completions.record_completion(ledger, ADMIN, "p", posting("1", "a", "p-course", "2026-02-20"))  # fmt: skip  # noqa: E501
    await completions.record_completion(ledger, ADMIN, "p", posting("2", "c", "p-course", "2026-03-01"))  # fmt: skip  # noqa: E501
    await claims.dispute_claim(
        ledger, ADMIN, filed.claim_id, DisputeClaim(reason="no"), provider_id="q"
    )
    clock.now = datetime(2026, 3, 10, 10, tzinfo=UTC)
    await claims.file_claim(ledger, ADMIN, "c", claim("q-course", "2026-03-02"))
    await completions.record_completion(ledger, ADMIN, "q", posting("3", "a", "q-course", "2026-03-09"))  # fmt: skip  # noqa: E501


async def _tables(conn) -> dict[str, list[tuple]]:
    return {
        table: sorted(map(tuple, await conn.fetch(f"SELECT * FROM {table}")), key=repr)
        for table in TABLES
    }


class CrashingClaims(ClaimsProjection):
    """Writes its rows for the batch, then dies before the engine can commit."""

    def __init__(self, crash_on_batch: int) -> None:
        self.batches, self.crash_on_batch = 0, crash_on_batch

    async def apply(self, conn, events) -> None:
        self.batches += 1
        await super().apply(conn, events)
        if self.batches == self.crash_on_batch:
            raise RuntimeError("killed mid-batch")


@pytest.fixture
async def history(dsn, pool):
    clock = SteppingClock()
    await _history(Ledger(PostgresEventStore(pool, clock=clock), clock=clock), clock)
    conn = await connect(dsn)
    yield conn
    await conn.close()


async def test_the_claims_and_the_posting_delays_as_the_history_left_them(dsn, history):
    await ProjectionRunner(dsn, ClaimsProjection()).catch_up(history)

    rows = await history.fetch(
        "SELECT manager_id, activity_id, provider_id, programs, state, overdue_on, reason"
        " FROM claims ORDER BY position"
    )
    assert [tuple(r) for r in rows] == [
        ("a", "p-course", "p", ["CMM", "CMOM"], "fulfilled", date(2026, 3, 31), ""),
        ("b", "q-course", "q", ["CMM"], "disputed", date(2026, 3, 31), "no"),
        ("c", "q-course", "q", ["CMM"], "open", date(2026, 4, 9), ""),
    ]
    cmm = await days_histograms(history, "CMM")
    assert cmm == {"p": [(3, 1), (12, 1)], "q": [(1, 1)]}
    assert (median_days(cmm["p"]), median_days(cmm["q"])) == (7.5, 1.0)
    assert await days_histograms(history, "CMOM") == {"p": [(3, 1), (12, 1)]}


async def test_built_in_small_batches_with_one_killed_midway_it_equals_a_clean_rebuild(
    dsn, history
):
    with pytest.raises(RuntimeError, match="killed"):
        await ProjectionRunner(dsn, CrashingClaims(crash_on_batch=4), batch_size=3).catch_up(
            history
        )
    cut = (await read_checkpoint(history, "claims")).position
    head = await history.fetchval("SELECT position FROM event_head")
    assert 0 < cut < head, "three batches committed, the fourth rolled back"
    await ProjectionRunner(dsn, ClaimsProjection(), batch_size=2).catch_up(history)
    incremental = await _tables(history)

    await ProjectionRunner(dsn, ClaimsProjection(), batch_size=500).rebuild(restart=True)

    assert await _tables(history) == incremental
    assert len(incremental["claims"]) == 3
