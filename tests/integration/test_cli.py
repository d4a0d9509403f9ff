"""The command line against a real database: tokens, roster import, register export."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import asyncpg

from events.catalog import ActivityRegistered
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.access.tokens import hash_token
from ledger.cli import SYSTEM
from ledger.commands import Ledger, catalogue, managers
from ledger.commands.messages import EnrollManager, RegisterProvider
from tests.builders import run_cli


async def test_token_create_prints_a_token_that_is_stored_only_as_a_hash(dsn):
    status, out, _ = await run_cli(
        dsn, "token", "create", "--role", "auditor", "--program", "CMM", "--program", "CMOM"
    )

    token = out.strip()
    assert status == 0
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT role, programs FROM api_tokens WHERE token_hash = $1", hash_token(token)
        )
        as_text = await conn.fetchval("SELECT string_agg(t::text, '') FROM api_tokens t")
    finally:
        await conn.close()
    assert (row["role"], row["programs"]) == ("auditor", ["CMM", "CMOM"])
    assert token not in as_text, "the token itself is nowhere in the table"


async def test_a_roster_is_imported_line_by_line_and_a_second_import_adds_nothing(dsn, tmp_path):
    await run_cli(dsn, "migrate")  # records the default programs
    today = date.today()
    yesterday = (today - timedelta(days=1)).isoformat()
    before = (today - timedelta(days=2)).isoformat()
    course = ActivityRegistered(
        provider_id="tma", activity_id="course", title="Course", format="online",
        ceus=Decimal(3), category="core", programs=("CMM",),
        starts_on=today - timedelta(days=30), ends_on=today,
    )  # fmt: skip
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        ledger = Ledger(PostgresEventStore(pool))
        await catalogue.register_provider(
            ledger, SYSTEM, RegisterProvider(provider_id="tma", name="TMA", programs=["CMM"])
        )
        await catalogue.register_activity(ledger, SYSTEM, course)
        await managers.enroll_manager(
            ledger, SYSTEM, EnrollManager(manager_id="m-1", name="M", email="m@example.org")
        )
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "external_id,manager_id,activity_id,completed_on,ceus\n"
        f"r1,m-1,course,{yesterday},3\n"
        f"r2,m-1,course,{before},1.5\n"
        f"r3,nobody,course,{yesterday},1\n"
    )

    status, out, err = await run_cli(dsn, "import-roster", str(roster), "--provider", "tma")
    again, out_again, _ = await run_cli(dsn, "import-roster", str(roster), "--provider", "tma")

    assert (status, out.strip()) == (1, "created 2, duplicate 0, rejected 1")
    assert "roster.csv:4: r3: rejected: no manager nobody" in err
    assert out_again.strip() == "created 0, duplicate 2, rejected 1"
    assert again == 1


async def test_export_renewals_writes_the_register_as_csv(dsn):
    status, out, _ = await run_cli(dsn, "export", "renewals", "--program", "CMM", "--format", "csv")

    assert status == 0
    assert out.splitlines()[0].startswith("renewal_id,program,manager_id,cycle,cycle_starts_on")


async def test_a_shifted_roster_line_is_rejected_alone_not_read_as_fewer_ceus(dsn, tmp_path):
    await run_cli(dsn, "migrate")  # records the default programs
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        ledger = Ledger(PostgresEventStore(pool))
        await catalogue.register_provider(
            ledger, SYSTEM, RegisterProvider(provider_id="tma", name="TMA", programs=["CMM"])
        )
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "external_id,manager_id,activity_id,completed_on,ceus\n"
        "r1,m-1,course,2026-01-05,2,5\n"  # a decimal comma: 2,5 would otherwise be 2 CEUs
    )

    status, out, err = await run_cli(dsn, "import-roster", str(roster), "--provider", "tma")

    assert (status, out.strip()) == (1, "created 0, duplicate 0, rejected 1")
    assert "roster.csv:2: r1: rejected" in err
    assert "extra_cells" in err
