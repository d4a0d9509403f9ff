"""Thin resource classes: build a command or a query, delegate, shape the answer.

One controller per resource, in a module named after its path: the first segment after /v1
(tokens, programs, providers, activities, managers, completions, renewals, fees, audits,
credentials, status_lists, issuers, events, ledger), and operations.py for /health and
/metrics.  Helpers several modules share sit beside them (credentials_views.py)."""
