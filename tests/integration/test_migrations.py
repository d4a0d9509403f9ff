"""Migrations: in order, once, recorded, safe when two processes migrate at once."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from events.postgres.connection import connect
from ledger.infra.migrations import MIGRATIONS_DIR, MigrationError, load_migrations, migrate


@pytest.fixture
async def empty(empty_dsn):
    conn = await connect(empty_dsn)
    yield conn
    await conn.close()


async def _recorded(conn) -> list[tuple[int, str]]:
    return [
        tuple(r) for r in await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY 1")
    ]


def test_the_repo_migrations_are_numbered_from_zero_without_gaps():
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(len(versions)))


async def test_a_fresh_database_gets_every_migration_in_order_and_once(empty):
    migrations = load_migrations()

    applied = await migrate(empty, migrations)
    again = await migrate(empty, migrations)

    assert [m.version for m in applied] == [m.version for m in migrations]
    assert again == []
    assert await _recorded(empty) == [(m.version, m.name) for m in migrations]
    assert await empty.fetchval("SELECT position FROM event_head") == 0


async def test_two_processes_migrating_at_once_apply_each_file_once(empty_dsn):
    conns = [await connect(empty_dsn) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c, load_migrations()) for c in conns))
        recorded = await _recorded(conns[0])
    finally:
        for c in conns:
            await c.close()

    assert sorted(len(r) for r in results) == [0, 0, 0, len(load_migrations())]
    assert [v for v, _ in recorded] == [m.version for m in load_migrations()]


def _copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target)
    return target


async def test_a_migration_changed_after_it_was_applied_is_refused(empty, tmp_path):
    folder = _copy_migrations(tmp_path)
    await migrate(empty, load_migrations(folder))
    edited = folder / "0001_event_store.sql"
    edited.write_text(edited.read_text() + "\n-- an afterthought\n")

    with pytest.raises(MigrationError, match=r"0001_event_store\.sql changed"):
        await migrate(empty, load_migrations(folder))


async def test_a_failing_migration_leaves_nothing_of_itself_behind(empty, tmp_path):
    folder = _copy_migrations(tmp_path)
    (folder / "0099_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n"
    )

    with pytest.raises(asyncpg.UndefinedFunctionError):
        await migrate(empty, load_migrations(folder))

    assert await empty.fetchval("SELECT to_regclass('half_done')") is None
    assert 99 not in [v for v, _ in await _recorded(empty)]
    assert await empty.fetchval("SELECT pg_try_advisory_lock(1)"), "the connection still works"


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("1_short.sql", "NNNN_name.sql"),
        ("0001_Upper.sql", "NNNN_name.sql"),
        ("0002_twice.sql", "used twice"),
    ],
)
def test_badly_named_or_numbered_files_are_refused(tmp_path, name, complaint):
    folder = _copy_migrations(tmp_path)
    (folder / name).write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=complaint):
        load_migrations(folder)
