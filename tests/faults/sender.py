"""A test-only notice sender process: sends what is due until SIGTERM.

python -m tests.faults.sender DSN NAME LEASE BATCH_SIZE, with LEDGER_SMTP_HOST and
LEDGER_SMTP_PORT in its environment (read by Settings, as `serve` reads them)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from ledger.infra.mailer import Mailer, Smtp
from ledger.settings import Settings


async def run(dsn: str, name: str, lease: float, batch_size: int) -> None:
    smtp = Smtp.of(Settings.from_env())
    assert smtp is not None, "LEDGER_SMTP_HOST is not set"
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    mailer = Mailer(dsn, smtp, name=name, lease=lease, batch_size=batch_size, poll_interval=0.05)
    await mailer.run(stop)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
