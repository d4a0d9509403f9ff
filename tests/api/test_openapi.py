"""The OpenAPI document people read at /schema: every operation says what it does."""

from __future__ import annotations


async def test_every_operation_has_a_summary_and_a_description(api):
    schema = (await api.ok(await api.get("/schema/openapi.json", None), 200))["paths"]

    operations = {
        f"{method.upper()} {path}": op
        for path, item in schema.items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    undescribed = [
        name
        for name, op in operations.items()
        if not op.get("summary") or not op.get("description") or op["summary"] == op["operationId"]
    ]

    assert len(operations) >= 40
    assert undescribed == []
