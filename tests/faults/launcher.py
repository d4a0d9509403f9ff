"""A test-only server: `create_app` under uvicorn on 127.0.0.1, with a fixed set-up.

    python -m tests.faults.launcher DSN PORT [--no-projectors] [--replica DSN]...

The database must be migrated already (`ceu-ledger migrate`).  SIGTERM stops it gracefully
(uvicorn's own handling); the fault tests also kill it with SIGKILL.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from ledger.app.factory import create_app
from ledger.infra.limits import server_options
from ledger.settings import Secret, Settings

ADMIN_TOKEN = "fault-admin-token"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dsn")
    parser.add_argument("port", type=int)
    parser.add_argument("--no-projectors", action="store_true")
    parser.add_argument("--replica", action="append", default=[], help="a read replica's DSN")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings(
        admin_token=Secret(ADMIN_TOKEN), poll_interval=0.2, pool_size=10,
        public_url=f"http://127.0.0.1:{args.port}",
        database_replica_urls=tuple(Secret(url) for url in args.replica),
    )  # fmt: skip
    app = create_app(settings, args.dsn, run_projectors=not args.no_projectors)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=args.port, log_level="warning", **server_options()
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
