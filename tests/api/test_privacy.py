"""Personal data stays in scope (SPEC section 6, "Privacy"): an auditor reads the names and
emails of the managers certified in its programs only, in the event feed as in the manager
routes; the feed still shows every position, so its density and hash chain stay checkable.
CSV downloads are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import itertools
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ledger.csv_io import csv_text, safe_cell
from tests.api.conftest import world_with
from tests.api.world import ADMIN_TOKEN, World, assert_problem


class Titled(msgspec.Struct):
    title: str


CARLA = {"manager_id": "m-carla", "name": "Carla Cmm-Only", "email": "carla@cmm.example"}
OLGA = {"manager_id": "m-olga", "name": "Olga Cmom-Only", "email": "olga@cmom.example"}


async def enrol(world: World, manager: dict[str, str], *programs: str) -> None:
    api = world.api
    await api.ok(await api.post("/v1/managers", ADMIN_TOKEN, manager))
    for program in programs:
        body = {"program": program, "certified_on": "2026-01-15"}
        path = f"/v1/managers/{manager['manager_id']}/certifications"
        await api.ok(await api.post(path, ADMIN_TOKEN, body))


async def feed(world: World, token: str) -> tuple[list[dict[str, Any]], bytes]:
    """The whole log as `token` reads it, page by page; and the bytes it was sent as."""
    events: list[dict[str, Any]] = []
    sent = b""
    after = 0
    while True:
        response = await world.api.get("/v1/events", token, after=after, limit=7)
        assert response.status_code == 200, response.text
        page = response.json()
        sent += response.content
        if not page["events"]:
            return events, sent
        events += page["events"]
        after = page["next_after"]


async def carla_olga_and_a_fee(world: World) -> None:
    """Carla (CMM only), Olga (CMOM only) and a CMM fee of m-1 (who holds CMM and CMOM)."""
    await enrol(world, CARLA, "CMM")
    await enrol(world, OLGA, "CMOM")
    await world.api.pay_fee("m-1", "CMM")


scoped_world = world_with("scoped_world", carla_olga_and_a_fee)


@pytest.fixture
def scoped(scoped_world: None, world: World) -> World:
    """The API tests' world, plus Carla (CMM only), Olga (CMOM only) and a CMM fee of m-1
    (who holds CMM and CMOM): `carla_olga_and_a_fee`, built once into a template that this
    test's database copies."""
    return world


async def test_a_cmom_auditor_never_receives_a_cmm_only_managers_name_or_email(scoped):
    _, sent = await feed(scoped, scoped.cmom_auditor)

    assert b"Carla" not in sent
    assert b"carla@cmm.example" not in sent
    assert b"Olga Cmom-Only" in sent
    assert b"olga@cmom.example" in sent


async def test_a_cmm_auditor_never_receives_a_cmom_only_managers_name_or_email(scoped):
    _, sent = await feed(scoped, scoped.cmm_auditor)

    assert b"Olga" not in sent
    assert b"olga@cmom.example" not in sent
    assert b"Carla Cmm-Only" in sent


async def test_an_admin_reads_every_event_in_full(scoped):
    events, sent = await feed(scoped, ADMIN_TOKEN)

    assert events
    assert not any(e["redacted"] for e in events)
    assert all(e["data"] is not None for e in events)
    assert all(e["metadata"] is not None for e in events)
    assert b"Carla Cmm-Only" in sent
    assert b"Olga Cmom-Only" in sent


@pytest.mark.parametrize("auditor", ["cmm_auditor", "cmom_auditor"])
async def test_a_redacted_feed_keeps_every_position_and_the_hash_chain(scoped, auditor):
    full, _ = await feed(scoped, ADMIN_TOKEN)

    events, _ = await feed(scoped, getattr(scoped, auditor))

    assert [e["position"] for e in events] == list(range(1, len(full) + 1))
    assert all(e["prev_hash"] == before["hash"] for before, e in itertools.pairwise(events))
    kept = ("position", "stream_id", "version", "type", "recorded_at", "prev_hash", "hash")
    assert [{k: e[k] for k in kept} for e in events] == [{k: e[k] for k in kept} for e in full]
    redacted = [e for e in events if e["redacted"]]
    assert redacted
    assert all(e["data"] is None for e in redacted)
    assert all(e["metadata"] is None for e in redacted)
    assert any(not e["redacted"] for e in events)


async def test_what_a_cmom_auditor_reads_in_full(scoped):
    full, _ = await feed(scoped, ADMIN_TOKEN)

    events, _ = await feed(scoped, scoped.cmom_auditor)

    shown = {e["position"]: not e["redacted"] for e in events}
    for event in full:
        data = event["data"]
        expected = (
            data.get("program") == "CMOM"
            if "program" in data
            else "CMOM" in data["programs"] and data.get("manager_id") in (None, "m-1", "m-olga")
            if "programs" in data
            else data.get("manager_id") in ("m-1", "m-olga")
        )
        assert shown[event["position"]] == expected, event


async def test_a_cmm_fee_of_a_manager_holding_both_is_hidden_from_the_cmom_auditor(scoped):
    full, _ = await feed(scoped, ADMIN_TOKEN)
    fee = next(e for e in full if e["type"] == "fee_paid" and e["data"]["manager_id"] == "m-1")

    events, _ = await feed(scoped, scoped.cmom_auditor)

    assert next(e for e in events if e["position"] == fee["position"])["redacted"]


async def test_an_enrolment_shows_once_the_manager_is_certified_in_the_auditors_program(world):
    manager = {"manager_id": "m-late", "name": "Lena Later", "email": "lena@example.org"}
    await enrol(world, manager)
    _, sent = await feed(world, world.cmom_auditor)
    assert b"Lena" not in sent

    await world.api.ok(
        await world.api.post(
            "/v1/managers/m-late/certifications",
            ADMIN_TOKEN,
            {"program": "CMOM", "certified_on": "2026-06-01"},
        )
    )

    _, sent = await feed(world, world.cmom_auditor)
    assert b"Lena Later" in sent


READS = [
    ("/v1/managers/m-carla/status", {}),
    ("/v1/managers/m-carla/status/explain", {"program": "CMM"}),
    ("/v1/managers/m-carla/transcript", {}),
    ("/v1/managers/m-carla/transcript", {"format": "csv"}),
    ("/v1/managers/m-carla/cycles", {"program": "CMM"}),
]


@pytest.mark.parametrize(("path", "query"), READS, ids=[p + str(q) for p, q in READS])
async def test_an_auditor_of_another_program_may_not_read_a_managers_record(scoped, path, query):
    api = scoped.api

    refused = await api.get(path, scoped.cmom_auditor, **query)
    ok_for_cmm = await api.get(path, scoped.cmm_auditor, **query)
    ok_for_admin = await api.get(path, ADMIN_TOKEN, **query)
    refused_for_m1 = await api.get(path, scoped.m1, **query)

    assert_problem(refused, 403)
    assert_problem(refused_for_m1, 403)
    assert (ok_for_cmm.status_code, ok_for_admin.status_code) == (200, 200)


async def test_a_manager_holding_both_programs_is_read_by_both_auditors(scoped):
    for auditor in (scoped.cmm_auditor, scoped.cmom_auditor):
        response = await scoped.api.get("/v1/managers/m-1/status", auditor)
        assert response.status_code == 200, response.text


# -- a hostile auditor (issue 16, attacks 2 and 4): one association's view, and no more -------


def pdf_text(content: bytes, tmp_path: Path) -> str:
    """The text of a PDF, as pdftotext reads it (poppler-utils)."""
    source = tmp_path / "document.pdf"
    source.write_bytes(content)
    done = subprocess.run(["pdftotext", source, "-"], check=True, timeout=60, capture_output=True)
    return " ".join(done.stdout.decode().split())


@pytest.fixture
async def carla_with_cmm_work(scoped: World) -> dict[str, str]:
    """Carla (CMM only) with a completion of tma-billing (counts for CMM and CMOM), one of
    mgma-hr (CMM only) and a CMM fee; the ids of both completions."""
    api = scoped.api
    both = await api.ok(
        await api.post_completion(scoped.tma, "carla-billing", manager_id="m-carla")
    )
    cmm = await api.ok(
        await api.post_completion(
            scoped.mgma, "carla-hr", manager_id="m-carla", activity_id="mgma-hr",
            completed_on="2026-03-02",
        )
    )  # fmt: skip
    await api.pay_fee("m-carla", "CMM")
    return {"both": both["id"], "cmm": cmm["id"]}


@pytest.fixture
async def carla_granted_cmom(scoped: World, carla_with_cmm_work: dict[str, str]) -> dict[str, str]:
    """...and then the CMOM auditor grants CMOM to Carla (SPEC 6 allows it)."""
    path = "/v1/managers/m-carla/certifications"
    body = {"program": "CMOM", "certified_on": "2026-01-15"}
    await scoped.api.ok(await scoped.api.post(path, scoped.cmom_auditor, body))
    return carla_with_cmm_work


async def test_a_cmom_auditor_that_grants_cmom_to_a_cmm_only_manager_sees_only_the_cmom_record(
    scoped, carla_granted_cmom, tmp_path
):
    api, auditor, ids = scoped.api, scoped.cmom_auditor, carla_granted_cmom
    base = "/v1/managers/m-carla"

    status = await api.ok(await api.get(f"{base}/status", auditor), 200)
    explained = await api.ok(await api.get(f"{base}/status/explain", auditor, program="CMOM"), 200)
    transcript = await api.ok(await api.get(f"{base}/transcript", auditor), 200)
    as_csv = await api.get(f"{base}/transcript", auditor, format="csv")
    cycles = await api.ok(await api.get(f"{base}/cycles", auditor, program="CMOM"), 200)
    profile = await api.ok(await api.profile(auditor, "m-carla"), 200)
    pdf = await api.get(f"{base}/transcript", auditor, format="pdf")

    assert [c["program"] for c in status["certifications"]] == ["CMOM"]
    assert {a["completion_id"] for a in explained["allocations"]} == {ids["both"]}
    assert {line["completion_id"] for line in transcript} == {ids["both"]}
    assert as_csv.status_code == 200
    assert ids["both"] in as_csv.text
    assert ids["cmm"] not in as_csv.text
    assert all(c["fee_paid_cents"] == 0 for c in cycles)
    assert profile["certifications"] == ["CMOM"]
    assert pdf.status_code == 200, pdf.text
    text = pdf_text(pdf.content, tmp_path)
    assert "CMOM" in text
    assert "CMM" not in text.replace("CMOM", "")
    assert "HR for practice managers" not in text
    for path, query in (
        (f"{base}/status/explain", {"program": "CMM"}),
        (f"{base}/transcript", {"program": "CMM"}),
        (f"{base}/transcript", {"program": "CMM", "format": "pdf"}),
        (f"{base}/cycles", {"program": "CMM"}),
    ):
        assert_problem(await api.get(path, auditor, **query), 403)


async def test_the_manager_and_an_admin_still_see_the_whole_record_after_the_grant(
    scoped, carla_granted_cmom
):
    carla = await scoped.api.token("manager", manager_id="m-carla")
    for token in (carla, ADMIN_TOKEN):
        status = await scoped.api.ok(
            await scoped.api.get("/v1/managers/m-carla/status", token), 200
        )
        lines = await scoped.api.ok(
            await scoped.api.get("/v1/managers/m-carla/transcript", token), 200
        )

        assert [c["program"] for c in status["certifications"]] == ["CMM", "CMOM"]
        assert {line["completion_id"] for line in lines} == set(carla_granted_cmom.values())


async def test_a_cmom_auditor_reads_no_completion_event_of_a_cmm_only_manager_in_the_feed(
    scoped, carla_with_cmm_work
):
    void = {"reason": "posted twice"}
    path = f"/v1/completions/{carla_with_cmm_work['both']}/void"
    await scoped.api.ok(await scoped.api.post(path, ADMIN_TOKEN, void), 200)
    full, _ = await feed(scoped, ADMIN_TOKEN)
    carlas = {e["position"] for e in full if (e["data"] or {}).get("manager_id") == "m-carla"}

    events, sent = await feed(scoped, scoped.cmom_auditor)

    assert [e["position"] for e in events] == list(range(1, len(full) + 1))
    assert all(e["redacted"] and e["data"] is None for e in events if e["position"] in carlas)
    assert b"Billing and coding update" in sent  # the activity itself is the catalogue's
    assert b"carla-billing" not in sent
    assert b"posted twice" not in sent


async def test_a_cmom_auditor_cannot_read_a_completion_of_a_cmm_only_manager(
    scoped, carla_with_cmm_work
):
    path = f"/v1/completions/{carla_with_cmm_work['both']}"

    refused = await scoped.api.get(path, scoped.cmom_auditor)
    read = await scoped.api.get(path, scoped.cmm_auditor)

    assert_problem(refused, 403)
    assert read.status_code == 200, read.text


async def test_a_cmom_auditor_reads_the_cmom_view_of_a_manager_holding_both_and_no_more(scoped):
    api = scoped.api
    await api.ok(await api.post_completion(scoped.mgma, "m1-hr", activity_id="mgma-hr"))

    status = await api.ok(await api.get("/v1/managers/m-1/status", scoped.cmom_auditor), 200)
    lines = await api.ok(await api.get("/v1/managers/m-1/transcript", scoped.cmom_auditor), 200)

    assert [c["program"] for c in status["certifications"]] == ["CMOM"]
    assert all("CMOM" in line["programs"] for line in lines)


async def test_a_cmm_auditor_reads_no_cmom_notice_of_a_manager_holding_both(world):
    api = world.api
    await api.ok(await api.post_completion(world.tma, "notice-billing", ceus="12"))
    await api.pay_fee("m-1", "CMOM")
    filed = await api.ok(await api.file_renewal(world.m1, "m-1", "CMOM"))
    decision = {"decision": "deny", "reason": "no certificate of attendance"}
    path = f"/v1/renewals/{filed['renewal_id']}/decision"
    await api.ok(await api.post(path, world.cmom_auditor, decision), 200)

    cmm = await api.ok(await api.get("/v1/managers/m-1/notices", world.cmm_auditor), 200)
    cmom = await api.ok(await api.get("/v1/managers/m-1/notices", world.cmom_auditor), 200)

    assert cmm["notices"] == []
    assert [n["program"] for n in cmom["notices"]] == ["CMOM"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_evaluate_is_written_as_text(start):
    text = csv_text(["title"], [Titled(title=f'{start}HYPERLINK("http://x")')])

    (cell,) = list(csv.reader(io.StringIO(text)))[1]
    assert cell == f'\'{start}HYPERLINK("http://x")'


def test_numbers_and_plain_text_are_written_as_they_are():
    assert [safe_cell(v) for v in ("Coding", -2, 2.5, None, True)] == [
        "Coding", -2, 2.5, "", "true",
    ]  # fmt: skip


async def test_a_transcript_csv_is_a_safe_download(world):
    api = world.api
    evil = {
        "activity_id": "tma-evil", "title": '=HYPERLINK("http://evil.example","click")',
        "format": "@online", "ceus": "2", "category": "core", "programs": ["CMM"],
        "starts_on": "2026-05-01", "ends_on": "2026-05-31",
    }  # fmt: skip
    await api.ok(await api.post("/v1/providers/tma/activities", world.tma, evil))
    await api.ok(await api.post_completion(world.tma, "-evil", activity_id="tma-evil", ceus="2"))

    response = await api.get("/v1/managers/m-1/transcript", world.m1, format="csv")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="m-1-transcript.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    (line,) = [r for r in rows if r["activity_id"] == "tma-evil"]
    assert line["activity_title"] == "'" + evil["title"]
    assert line["external_id"] == "'-evil"


async def test_the_register_csv_is_a_download(world):
    response = await world.api.get("/v1/programs/CMM/renewals", world.cmm_auditor, format="csv")

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="CMM-renewals.csv"'


async def test_json_answers_are_not_downloads(world):
    response = await world.api.get("/v1/programs/CMM/renewals", world.cmm_auditor)

    assert "content-disposition" not in response.headers
