"""Attack 9e of issue 16: the service connected as a PostgreSQL superuser.  Migrations run as
the owner; the service connects as `ceu_ledger_app`, a member of `ceu_ledger_service`
(migrations/0014_service_role.sql): no superuser, no owner, so no UPDATE, DELETE or TRUNCATE
of events and no way to switch their triggers off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.infra.database import SERVICE_LOGIN, service_login
from ledger.infra.evidence import PostgresEvidenceStore
from tests.api.conftest import running_app
from tests.builders import SteppingClock, facts


@pytest.fixture
async def service(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(await service_login(dsn))
    try:
        yield conn
    finally:
        await conn.close()


async def test_the_apis_pool_connects_as_a_role_that_is_not_a_superuser(dsn):
    clock = SteppingClock(datetime(2026, 6, 15, 14, 30, tzinfo=UTC))
    owner = await asyncpg.connect(dsn)
    try:
        async with running_app(dsn, clock) as client:
            assert (await client.get("/health")).status_code == 200
            rows = await owner.fetch(
                "SELECT DISTINCT a.usename, r.rolsuper FROM pg_stat_activity a"
                " JOIN pg_roles r ON r.rolname = a.usename"
                " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
            )
    finally:
        await owner.close()

    assert [tuple(row) for row in rows] == [(SERVICE_LOGIN, False)]


async def test_the_service_role_appends_and_reads_events(dsn):
    async with create_pool(await service_login(dsn), min_size=1, max_size=2) as pool:
        store = PostgresEventStore(pool)
        await store.append("role-check", facts(2), expected_version=0)
        await store.append("role-check", facts(1), expected_version=2)

        assert len(await store.read_stream("role-check")) == 3


async def test_the_service_role_stores_reads_and_checks_evidence_files(dsn):
    async with create_pool(await service_login(dsn), min_size=1, max_size=2) as pool:
        store = PostgresEvidenceStore(pool)
        evidence = await store.put(b"%PDF-1.7\n%%EOF\n", "certificate.pdf")
        assert await store.put(b"%PDF-1.7\n%%EOF\n", "again.pdf") == evidence

        assert await store.get(evidence.sha256) == b"%PDF-1.7\n%%EOF\n"
        assert await store.check() is None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'forged'",
        "DELETE FROM events",
        "TRUNCATE events",
        "DELETE FROM event_head",
        "UPDATE evidence_files SET media_type = 'image/png'",
        "DELETE FROM evidence_files",
        "TRUNCATE evidence_files",
    ],
)
async def test_the_service_role_may_not_rewrite_the_log(service, statement):
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await service.execute(statement)


async def test_the_service_role_cannot_disable_the_events_triggers(service):
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="must be owner"):
        await service.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")


async def test_the_service_role_cannot_turn_triggers_off_for_its_session(service):
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await service.execute("SET session_replication_role = replica")


async def test_the_service_role_is_not_superuser_and_cannot_make_roles(service):
    assert await service.fetchval("SELECT current_setting('is_superuser')") == "off"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await service.execute("CREATE ROLE intruder SUPERUSER LOGIN")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await service.execute("INSERT INTO schema_migrations VALUES (999, 'x', 'x')")
