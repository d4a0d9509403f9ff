"""The application of one worker process of `ceu-ledger serve --workers N`.

`serve` with several workers starts the database (the embedded PostgreSQL, once), applies
the migrations, then hands the listening socket to N processes (uvicorn's supervisor); each
builds its app here, from the environment the parent left: the settings as usual, plus the
database's DSN in LEDGER_WORKER_DSN and whether to run projectors in LEDGER_WORKER_PROJECTORS.
By default ("0") no worker runs them: `serve` runs one `ceu-ledger project` process beside
the workers (ledger/infra/projectors.py).  With `serve --projectors inline` ("1") every
worker runs the projectors' loop, and each projection's advisory lock lets exactly one
process run it, the others stand by (projections/engine.py).
"""

from __future__ import annotations

import os

from litestar import Litestar

from ledger.app.factory import create_app
from ledger.infra.limits import freeze_startup_heap
from ledger.infra.logs import configure_logging
from ledger.settings import Settings

__all__ = ["WORKER_DSN", "WORKER_LOG_LEVEL", "WORKER_PROJECTORS", "create"]

WORKER_DSN = "LEDGER_WORKER_DSN"
WORKER_PROJECTORS = "LEDGER_WORKER_PROJECTORS"
WORKER_LOG_LEVEL = "LEDGER_WORKER_LOG_LEVEL"


def create() -> Litestar:
    """uvicorn's factory (`ledger.app.asgi:create`, factory=True)."""
    settings = Settings.from_env()
    configure_logging(os.environ.get(WORKER_LOG_LEVEL, settings.log_level).upper())
    app = create_app(
        settings, os.environ[WORKER_DSN], run_projectors=os.environ.get(WORKER_PROJECTORS) == "1"
    )
    freeze_startup_heap()
    return app
