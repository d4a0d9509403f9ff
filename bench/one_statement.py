"""GET status's database part, two statements vs one, on the lived-in ledger.

The token's row and a manager's tail after its last event (what a status with the record
kept reads) as two statements (`TokenStore._live`'s SELECT, then `fetch_stream`'s), and as
the one statement `TokenStore.principal_with_stream` sends, on one connection, for 500
managers x 4, in rounds that alternate the order.  Prints calls/s and microseconds a call.

`python -m bench.one_statement` (builds the lived-in ledger first if it is not kept).
"""

from __future__ import annotations

import asyncio
import time

from bench.lived_in import lived_in
from events.postgres.connection import create_pool
from events.postgres.reads import COLUMNS
from ledger.access.tokens import _LIVE, _WITH_STREAM, hash_token

_TOKEN = f"SELECT {_LIVE} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
_TAIL = f"SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version"


async def main(rounds: int = 3) -> None:
    async with lived_in() as (dsn, built), create_pool(dsn, min_size=1, max_size=1) as pool:
        digest = hash_token(built.auditor_token)
        streams = [
            (row[0], row[1])
            for row in await pool.fetch(
                "SELECT stream_id, max(version) FROM events WHERE stream_id LIKE 'manager-%'"
                " GROUP BY stream_id ORDER BY stream_id LIMIT 500"
            )
        ]

        async def two(stream: str, version: int) -> None:
            await pool.fetchrow(_TOKEN, digest)
            await pool.fetch(_TAIL, stream, version)

        async def one(stream: str, version: int) -> None:
            await pool.fetch(_WITH_STREAM, digest, stream, version)

        cases = {"two statements": two, "one statement": one}
        for round_ in range(rounds):
            for name in list(cases) if round_ % 2 == 0 else list(reversed(cases)):
                start = time.perf_counter()
                for _ in range(4):
                    for stream, version in streams:
                        await cases[name](stream, version)
                calls = 4 * len(streams)
                seconds = time.perf_counter() - start
                print(
                    f"round {round_ + 1} {name:<15} {calls / seconds:>7,.0f}/s"
                    f"  {1e6 * seconds / calls:5.0f} us a call",
                    flush=True,
                )


if __name__ == "__main__":
    asyncio.run(main())
