"""Every bound on a wait, in one place, each named for what it bounds.

While PostgreSQL is down or restarting, a request must fail fast and a worker must notice
and reconnect; neither may wait forever on a socket that accepts nothing or a statement on
a connection that died mid-flight.  asyncpg applies a connection's `command_timeout` to
every execute/fetch/executemany, COMMIT and ROLLBACK included, and to the cancel request it
sends on a timeout.  Two statement bounds, because two kinds of caller wait:

* a request (the API's and the pages' pool) may run a heavy read, and fails with a 503;
* a worker (projection runners, the notice sender, the reminder scheduler, the catalogue
  follower) runs short statements and must give up on a dead connection soon enough to be
  back at work within seconds of the database's return.
"""

from __future__ import annotations

__all__ = [
    "ACQUIRE_TIMEOUT",
    "BATCH_TIMEOUT",
    "CLOSE_TIMEOUT",
    "CONNECT_TIMEOUT",
    "PING_TIMEOUT",
    "REPLICA_PROBE_TIMEOUT",
    "REQUEST_STATEMENT_TIMEOUT",
    "SHUTDOWN_TIMEOUT",
    "WORKER_STATEMENT_TIMEOUT",
]

CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection (TCP or unix socket, start-up and authentication)."""

REQUEST_STATEMENT_TIMEOUT = 15.0
"""Seconds any one statement of a request may take (the API pool's `command_timeout`)."""

WORKER_STATEMENT_TIMEOUT = 5.0
"""Seconds any one statement of a background worker may take, COMMIT included; far above a
healthy projection batch's (a few milliseconds), and short enough that a statement stuck on
a connection the server dropped without a word (seen with `pg_ctl -m immediate` under load)
gives up well within the 10 s the projections have to reach the head after the database
returns."""

ACQUIRE_TIMEOUT = 5.0
"""Seconds a health check or the metrics wait for a pool connection."""

BATCH_TIMEOUT = 120.0
"""Seconds a whole projection batch (one transaction) may take, whatever it waits on."""

PING_TIMEOUT = 5.0
"""Seconds between the catalogue follower's pings of its LISTEN connection, and the bound on
each ping and on opening that connection."""

REPLICA_PROBE_TIMEOUT = 1.0
"""Seconds a replica has to tell its replayed head before it counts as down."""

CLOSE_TIMEOUT = 1.0
"""Seconds a polite close of a connection may take before the socket is dropped."""

SHUTDOWN_TIMEOUT = 5.0
"""Seconds the runners and the notice workers get to finish their batch when stopped."""
