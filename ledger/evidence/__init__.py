"""The evidence store: the files behind self-reports, kept once by SHA-256 (SPEC 12).

The port (`store.py`) and the in-memory adapter (`memory.py`) live here, on their own floor
under the commands, so a command can take an `EvidenceStore` without PostgreSQL in sight; the
PostgreSQL adapter is an adapter like the others, in `ledger/infra/evidence.py`.  What is kept
and why: docs/evidence.md.
"""
