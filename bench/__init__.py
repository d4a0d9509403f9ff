"""Benchmarks of the event store against bare asyncpg: `python -m bench.append`, `bench.replay`."""
