"""The hot routes resolve their dependencies one at a time (ledger/app/dependencies.py): a batch of
two or more is resolved in an anyio task group, a tenth of a GET status's CPU time."""

from __future__ import annotations

import pytest
from litestar.routes import HTTPRoute


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/managers/{manager_id:str}/status"),
        ("POST", "/v1/completions"),
        ("POST", "/v1/completions/batch"),
    ],
)
async def test_no_batch_of_the_hot_routes_has_more_than_one_dependency(client, method, path):
    [route] = [r for r in client.app.routes if isinstance(r, HTTPRoute) and r.path == path]
    _, kwargs_model = route.route_handler_map[method]

    batches = [sorted(d.key for d in batch) for batch in kwargs_model.dependency_batches]

    assert batches, "the route has dependencies"
    assert all(len(batch) == 1 for batch in batches), batches
