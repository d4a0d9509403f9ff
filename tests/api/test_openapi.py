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


async def test_a_signed_document_documents_both_media_types_it_answers(api):
    """The fuzzer's finding: `GET /v1/status-lists/{program}?format=json` answered
    application/json, documented only as application/vc+jwt."""
    schema = (await api.ok(await api.get("/schema/openapi.json", None), 200))["paths"]
    signed = {
        "/v1/status-lists/{program}": "CMM",
        "/v1/status-lists/{program}/{purpose}": "CMM/revocation",
    }

    for path, filled in signed.items():
        documented = set(schema[path]["get"]["responses"]["200"]["content"])
        assert documented == {"text/plain", "application/vc+jwt", "application/json"}, path
        for format in ("jwt", "json"):
            response = await api.get(f"/v1/status-lists/{filled}", None, format=format)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].split(";")[0] in documented
    credential = schema["/v1/credentials/{credential_id}"]["get"]["responses"]["200"]
    assert set(credential["content"]) == {"text/plain", "application/vc+jwt", "application/json"}
