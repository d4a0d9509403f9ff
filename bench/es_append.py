"""The `eventsourcing` library's PostgreSQL application recorder, appending one event per call.

Run by bench/append.py with the interpreter of bench/.venv-es (which bench/eventsourcing_env.py
creates); it imports nothing of this project.  Each writer thread records events of an
aggregate of its own with `insert_events([one StoredEvent])`, the library's own unit of
append: one transaction that takes its table lock (LOCK TABLE ... IN EXCLUSIVE MODE, so
that notification ids commit in order, the same guarantee as our head row), inserts and
commits.  The state is ~330 bytes, like our CompletionRecorded payload.  Prints one JSON
object: for each writer count, events/s (best of the rounds) and p50/p99 latency in ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

_STATE = b'{"completion":"' + b"x" * 300 + b'"}'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dbname", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", default="")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--events", type=int, nargs="+", default=[1000, 2000, 2000])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    out = {}
    for writers, events in zip(args.writers, args.events, strict=True):
        datastore = PostgresDatastore(
            args.dbname, args.host, args.port, args.user, args.password, pool_size=writers
        )
        recorder = PostgresApplicationRecorder(datastore, events_table_name=f"es_{writers}")
        recorder.create_table()
        run(recorder, writers, 2)  # warm-up: connections and statements
        best, latencies = 0.0, []
        for _ in range(args.rounds):
            rate, lat = run(recorder, writers, max(1, events // writers))
            best = max(best, rate)
            latencies += lat
        cuts = statistics.quantiles(latencies, n=100)
        out[str(writers)] = {"rate": best, "p50": cuts[49] * 1e3, "p99": cuts[98] * 1e3}
        datastore.close()
    print(json.dumps(out))


def run(recorder: PostgresApplicationRecorder, writers: int, each: int) -> tuple[float, list]:
    latencies: list[float] = []
    lock = threading.Lock()

    def writer() -> None:
        originator, mine = uuid.uuid4(), []
        for version in range(1, each + 1):
            event = StoredEvent(originator, version, "bench:CompletionRecorded", _STATE)
            start = time.perf_counter()
            recorder.insert_events([event])
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return writers * each / (time.perf_counter() - start), latencies


if __name__ == "__main__":
    main()
