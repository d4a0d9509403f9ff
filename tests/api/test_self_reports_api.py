"""Self-reports with evidence (SPEC 12), through the API: a manager reports credit with one file
(multipart), the file stored once by its SHA-256 and named in the event by hash, size and type;
an auditor of one of its programs accepts (at most the reported CEUs) or rejects it; the file is
served back, as an attachment of its sniffed type, to the manager, auditors of its programs and
admins only; auditors have a review queue.

The world: m-1 holds CMM (since 2025-03-15) and CMOM (since 2025-09-30), m-2 holds CMM (since
2024-06-01).  Today is 2026-06-15 14:30 UTC.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import pytest

from ledger.domain.evidence import MAX_EVIDENCE_BYTES
from tests.api.world import World, assert_problem, bad_fields

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
HTML_BEHIND_PDF = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>"

FIELDS = {
    "title": "Coding update webinar",
    "provider_name": "Regional HIM Society",
    "completed_on": "2026-05-20",
    "ceus": "3",
    "category": "general",
    "programs": "CMM",
}


async def report(
    world: World, token: str | None, manager_id: str = "m-2", *, file: tuple[str, bytes] | None =
    ("certificate.pdf", PDF), **changes: Any,
) -> Any:  # fmt: skip
    """POST a self-report (multipart): the response."""
    fields = FIELDS | changes
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    path = f"/v1/managers/{manager_id}/self-reports"
    if file is None:  # still multipart: the fields as its parts
        parts = {name: (None, value) for name, value in fields.items()}
        return await world.api.client.post(path, headers=headers, files=parts)
    files = {"file": (file[0], file[1], "application/octet-stream")}
    return await world.api.client.post(path, headers=headers, data=fields, files=files)


async def reported(world: World, manager_id: str = "m-2", **kwargs: Any) -> dict[str, Any]:
    token = world.m2 if manager_id == "m-2" else world.m1
    return await world.api.ok(await report(world, token, manager_id, **kwargs), 201)


async def accept(world: World, token: str, report_id: str, ceus: str = "3", category="general"):
    body = {"ceus": ceus, "category": category}
    return await world.api.post(f"/v1/self-reports/{report_id}/accept", token, body)


async def reject(world: World, token: str, report_id: str, reason: str = "not legible"):
    return await world.api.post(f"/v1/self-reports/{report_id}/reject", token, {"reason": reason})


async def stored_files(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT count(*) FROM evidence_files")
    finally:
        await conn.close()


async def cmm_earned(world: World, manager_id: str = "m-2") -> str:
    token = world.m2 if manager_id == "m-2" else world.m1
    return (await world.api.certification(token, manager_id, "CMM"))["ceus_earned"]


# -- reporting ----------------------------------------------------------------------------------


async def test_a_manager_reports_credit_with_a_file_and_it_waits_for_an_auditor(world):
    earned = await cmm_earned(world)

    response = await report(world, world.m2)

    body = await world.api.ok(response, 201)
    assert body["state"] == "pending"
    assert (body["title"], body["provider_name"], body["ceus"], body["programs"]) == (
        "Coding update webinar", "Regional HIM Society", "3", ["CMM"],
    )  # fmt: skip
    evidence = body["evidence"]
    assert evidence == {
        "sha256": evidence["sha256"], "size": len(PDF), "media_type": "application/pdf",
        "filename": "certificate.pdf", "url": f"/v1/self-reports/{body['report_id']}/evidence",
    }  # fmt: skip
    listed = await world.api.ok(await world.api.get("/v1/managers/m-2/self-reports", world.m2), 200)
    assert [r["report_id"] for r in listed] == [body["report_id"]]
    assert await cmm_earned(world) == earned, "a pending report counts for nothing"


async def test_the_event_holds_the_files_hash_size_and_type_never_its_bytes(world):
    png = PNG + b"UNIQUE-MARKER-IN-THE-BYTES"
    body = await reported(world, file=("scan.png", png))

    feed = await world.api.ok(await world.api.get("/v1/events", world.admin, limit=1000), 200)

    [event] = [e for e in feed["events"] if e["type"] == "self_reported"]
    assert event["data"]["evidence"] == {
        "sha256": body["evidence"]["sha256"], "size": len(png), "media_type": "image/png",
        "filename": "scan.png",
    }  # fmt: skip
    assert b"UNIQUE-MARKER" not in msgspec.json.encode(event)


@pytest.mark.parametrize(
    ("name", "content", "found"),
    [
        ("photo.png", EXE, "a Windows program (EXE)"),
        ("certificate.pdf", HTML, "an HTML page"),
        ("certificate.pdf", HTML_BEHIND_PDF, "an HTML page behind a PDF header"),
        ("empty.pdf", b"", "empty"),
    ],
)
async def test_a_file_that_is_not_a_pdf_png_or_jpeg_by_its_bytes_is_refused(
    world, dsn, name, content, found
):
    head = await world.api.head()

    response = await report(world, world.m2, file=(name, content))

    assert bad_fields(response) == {"file"}
    assert found in response.json()["errors"][0]["message"]
    assert await world.api.head() == head
    assert await stored_files(dsn) == 0


async def test_a_file_of_10_mb_and_one_byte_is_refused_with_413_and_nothing_is_stored(world, dsn):
    head = await world.api.head()
    big = PNG + bytes(MAX_EVIDENCE_BYTES + 1 - len(PNG))

    response = await report(world, world.m2, file=("big.png", big))

    assert_problem(response, 413)
    assert await world.api.head() == head
    assert await stored_files(dsn) == 0


async def test_a_file_of_exactly_10_mb_is_taken(world):
    exactly = PNG + bytes(MAX_EVIDENCE_BYTES - len(PNG))

    body = await reported(world, file=("exactly.png", exactly))

    assert body["evidence"]["size"] == MAX_EVIDENCE_BYTES


async def test_a_body_announced_larger_than_the_routes_limit_is_refused_before_it_is_read(world):
    headers = {
        "Authorization": f"Bearer {world.m2}",
        "Content-Type": "multipart/form-data; boundary=x",
    }
    body = b"--x\r\n" + bytes(12 * 1024 * 1024)

    response = await world.api.client.post(
        "/v1/managers/m-2/self-reports", headers=headers, content=body
    )

    assert_problem(response, 413)


async def test_the_same_file_reported_twice_is_stored_once(world, dsn):
    first = await reported(world)
    second = await reported(world, title="The same certificate, again")

    assert first["report_id"] != second["report_id"]
    assert first["evidence"]["sha256"] == second["evidence"]["sha256"]
    assert await stored_files(dsn) == 1


async def test_a_report_that_is_not_multipart_is_415(world):
    response = await world.api.post("/v1/managers/m-2/self-reports", world.m2, FIELDS)

    assert_problem(response, 415)


async def test_a_report_without_a_file_names_the_file(world):
    assert bad_fields(await report(world, world.m2, file=None)) == {"file"}


async def test_a_report_with_two_files_is_refused_and_stores_nothing(world, dsn):
    files = [("file", ("a.pdf", PDF, "application/pdf")), ("file", ("b.png", PNG, "image/png"))]
    response = await world.api.client.post(
        "/v1/managers/m-2/self-reports", headers={"Authorization": f"Bearer {world.m2}"},
        data=FIELDS, files=files,
    )  # fmt: skip

    assert bad_fields(response) == {"file"}
    assert await stored_files(dsn) == 0


async def test_the_feed_hides_a_report_from_an_auditor_of_another_program(world):
    body = await reported(world)  # m-2's, for CMM
    await world.api.ok(await accept(world, world.cmm_auditor, body["report_id"]), 200)

    for token, hidden in ((world.cmom_auditor, True), (world.cmm_auditor, False)):
        feed = await world.api.ok(await world.api.get("/v1/events", token, limit=1000), 200)
        mine = [e for e in feed["events"] if e["type"].startswith("self_report")]
        assert [e["type"] for e in mine] == ["self_reported", "self_report_accepted"]
        assert all((e["data"] is None) == hidden for e in mine), token


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ceus": "1e2"}, "ceus"),
        ({"ceus": "1.005"}, "ceus"),
        ({"completed_on": "20/05/2026"}, "completed_on"),
        ({"completed_on": "2026-06-16"}, "completed_on"),
        ({"programs": "CMOM"}, "programs"),
        ({"category": "ethics"}, "category"),
        ({"title": "line\nbreak"}, "title"),
    ],
)
async def test_a_report_with_a_bad_field_is_refused_naming_it_and_stores_no_file(
    world, dsn, changes, field
):
    head = await world.api.head()

    response = await report(world, world.m2, **changes)

    assert bad_fields(response) == {field}
    assert await world.api.head() == head
    assert await stored_files(dsn) == 0


@pytest.mark.parametrize("who", ["m1", "cmm_auditor", "admin", "tma"])
async def test_only_the_manager_reports_their_own_credit(world, who):
    response = await report(world, getattr(world, who))

    assert_problem(response, 403)


# -- the evidence served back -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["m2", "cmm_auditor", "admin"])
async def test_the_file_is_served_as_an_attachment_of_its_sniffed_type(world, who):
    body = await reported(world, file=("../../etc/Scan \u00e9t\u00e9 <1>.pdf", PNG))

    response = await world.api.get(body["evidence"]["url"], getattr(world, who))

    assert response.status_code == 200, response.text
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == 'attachment; filename="Scan_ete_1.png"'


@pytest.mark.parametrize("who", ["m1", "cmom_auditor", "tma"])
async def test_another_manager_an_auditor_of_another_program_and_a_provider_cannot_read_it(
    world, who
):
    body = await reported(world)  # m-2's, for CMM

    response = await world.api.get(body["evidence"]["url"], getattr(world, who))

    assert_problem(response, 403)


async def test_an_auditor_reads_only_the_reports_of_its_programs(world):
    cmom = await reported(world, "m-1", programs="CMOM")
    cmm = await reported(world, "m-1", programs="CMM", file=("scan.png", PNG))
    response = await world.api.get("/v1/managers/m-1/self-reports", world.cmm_auditor)

    seen = await world.api.ok(response, 200)

    assert [r["report_id"] for r in seen] == [cmm["report_id"]]
    refused = await world.api.get(cmom["evidence"]["url"], world.cmm_auditor)
    assert_problem(refused, 403)


async def test_the_evidence_of_an_unknown_report_is_404(world):
    response = await world.api.get(
        "/v1/self-reports/00000000-0000-0000-0000-000000000001/evidence", world.admin
    )

    assert_problem(response, 404)


# -- accepting and rejecting --------------------------------------------------------------------


async def test_an_accepted_report_counts_for_at_most_its_ceus(world):
    body = await reported(world)
    earned = await cmm_earned(world)

    response = await accept(world, world.cmm_auditor, body["report_id"], ceus="2.5")

    accepted = await world.api.ok(response, 200)
    assert (accepted["state"], accepted["accepted_ceus"], accepted["accepted_category"]) == (
        "accepted", "2.5", "general",
    )  # fmt: skip
    assert float(await cmm_earned(world)) == float(earned) + 2.5
    transcript = await world.api.ok(
        await world.api.get("/v1/managers/m-2/transcript", world.m2), 200
    )
    [line] = [t for t in transcript if t["completion_id"] == body["report_id"]]
    assert (line["activity_title"], line["state"]) == ("Coding update webinar", "counted")


async def test_accepting_above_the_reported_ceus_is_refused(world):
    body = await reported(world)
    head = await world.api.head()

    response = await accept(world, world.cmm_auditor, body["report_id"], ceus="3.01")

    assert bad_fields(response) == {"ceus"}
    assert await world.api.head() == head


async def test_accepting_twice_is_a_conflict(world):
    body = await reported(world)
    await world.api.ok(await accept(world, world.cmm_auditor, body["report_id"]), 200)

    response = await accept(world, world.cmm_auditor, body["report_id"])

    assert "already accepted" in assert_problem(response, 409)["detail"]


async def test_an_auditor_of_another_program_neither_accepts_nor_rejects(world):
    body = await reported(world)  # m-2's, for CMM

    assert_problem(await accept(world, world.cmom_auditor, body["report_id"]), 403)
    assert_problem(await reject(world, world.cmom_auditor, body["report_id"]), 403)


async def test_accepting_an_unknown_report_is_404(world):
    response = await accept(world, world.cmm_auditor, "00000000-0000-0000-0000-000000000001")

    assert_problem(response, 404)


async def test_a_rejected_report_never_counts_and_the_manager_reports_again(world):
    first = await reported(world)
    earned = await cmm_earned(world)

    rejected = await world.api.ok(
        await reject(world, world.cmm_auditor, first["report_id"], "the name is not yours"), 200
    )

    assert (rejected["state"], rejected["reason"]) == ("rejected", "the name is not yours")
    assert await cmm_earned(world) == earned
    assert_problem(await accept(world, world.cmm_auditor, first["report_id"]), 409)
    again = await reported(world, file=("scan.png", PNG))
    await world.api.ok(await accept(world, world.cmm_auditor, again["report_id"]), 200)
    assert float(await cmm_earned(world)) == float(earned) + 3
    listed = await world.api.ok(await world.api.get("/v1/managers/m-2/self-reports", world.m2), 200)
    assert [(r["state"], r["reason"]) for r in listed] == [
        ("accepted", ""), ("rejected", "the name is not yours"),
    ]  # fmt: skip


async def test_a_rejection_needs_a_reason(world):
    body = await reported(world)

    assert bad_fields(await reject(world, world.cmm_auditor, body["report_id"], "")) == {"reason"}


# -- the review queue ---------------------------------------------------------------------------


async def test_the_review_queue_lists_the_programs_pending_reports_oldest_first(world):
    first = await reported(world)
    second = await reported(world, "m-1", file=("scan.png", PNG))
    cmom_only = await reported(world, "m-1", programs="CMOM", file=("scan.jpg", b"\xff\xd8\xff1"))
    decided = await reported(world, title="decided", file=("other.pdf", PDF + b"%"))
    await world.api.ok(await reject(world, world.cmm_auditor, decided["report_id"]), 200)

    queue = await world.api.ok(
        await world.api.get("/v1/programs/CMM/self-reports", world.cmm_auditor, state="pending"),
        200,
    )

    assert [r["report_id"] for r in queue["self_reports"]] == [
        first["report_id"], second["report_id"],
    ]  # fmt: skip
    assert queue["names"] == {"m-2": "m-2", "m-1": "m-1"}
    assert cmom_only["report_id"] not in str(queue)
    every = await world.api.ok(
        await world.api.get("/v1/programs/CMM/self-reports", world.cmm_auditor), 200
    )
    assert len(every["self_reports"]) == 3


async def test_the_review_queue_is_its_programs_auditors_only(world):
    assert_problem(await world.api.get("/v1/programs/CMM/self-reports", world.cmom_auditor), 403)
    assert_problem(await world.api.get("/v1/programs/CMM/self-reports", world.admin), 403)


async def test_the_review_queue_refuses_an_unknown_state(world):
    response = await world.api.get("/v1/programs/CMM/self-reports", world.cmm_auditor, state="open")

    assert bad_fields(response) == {"state"}


# -- evidence in audits -------------------------------------------------------------------------


async def renewal_on_self_reported_credit(world: World) -> tuple[str, str]:
    """m-2 (CMM, cycle 2024-06-01..2026-06-01, in grace today) reports the whole 24 CEUs, a
    CMM auditor accepts them, the fee is paid and m-2 files: the report's and renewal's ids."""
    body = await reported(world, ceus="24")
    await world.api.ok(await accept(world, world.cmm_auditor, body["report_id"], ceus="24"), 200)
    await world.api.pay_fee("m-2", "CMM")
    filed = await world.api.ok(await world.api.file_renewal(world.m2, "m-2", "CMM"))
    return body["report_id"], filed["renewal_id"]


async def an_audit_of_everything(world: World) -> dict[str, Any]:
    window = {"filed_from": "2026-06-01", "filed_to": "2026-06-30", "rate": "1", "seed": 1}
    return await world.api.ok(
        await world.api.post("/v1/programs/CMM/audits", world.cmm_auditor, window)
    )


async def test_an_audits_renewal_shows_its_counted_self_report_with_its_evidence(world):
    report_id, renewal_id = await renewal_on_self_reported_credit(world)
    drawn = await an_audit_of_everything(world)

    audit = await world.api.ok(
        await world.api.get(f"/v1/audits/{drawn['audit_id']}", world.cmm_auditor), 200
    )

    [renewal] = [r for r in audit["renewals"] if r["renewal_id"] == renewal_id]
    [line] = renewal["completions"]
    assert (line["completion_id"], line["self_report_id"], line["ceus"]) == (
        report_id, report_id, "24",
    )  # fmt: skip
    assert (line["provider_id"], line["provider_name"]) == ("", "Regional HIM Society")
    assert line["evidence"]["url"] == f"/v1/self-reports/{report_id}/evidence"
    evidence = await world.api.get(line["evidence"]["url"], world.cmm_auditor)
    assert (evidence.status_code, evidence.content) == (200, PDF)


async def test_a_failed_finding_on_a_renewal_of_self_reported_credit_revokes_as_before(world):
    _, renewal_id = await renewal_on_self_reported_credit(world)
    drawn = await an_audit_of_everything(world)
    finding = {"renewal_id": renewal_id, "outcome": "failed", "note": "the certificate is forged"}

    recorded = await world.api.ok(
        await world.api.post(f"/v1/audits/{drawn['audit_id']}/findings", world.cmm_auditor, finding)
    )

    assert recorded["revoked"] is True
    cmm = await world.api.certification(world.m2, "m-2", "CMM")
    assert cmm["status"] == "revoked"
