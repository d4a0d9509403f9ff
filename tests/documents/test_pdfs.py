"""The transcript and the renewal certificate as PDFs, read back the way a person would: the
pages rendered to PNG with pdftoppm (kept under tests/artifacts/ to look at) and their text
with pdftotext, checked for the manager's figures as the API's status gives them."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tests.api.world import World, assert_problem
from tests.credentials.given import approved_cmom_renewal, credential_of, filed_cmom_renewal

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.usefixtures("poppler")


def read_pdf(content: bytes, name: str, tmp_path: Path) -> str:
    """The PDF's text; its first page is left as tests/artifacts/<name>.png."""
    assert content.startswith(b"%PDF-")
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(content)
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", source,
         ARTIFACTS / name],
        check=True, timeout=60,
    )  # fmt: skip
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 1000
    done = subprocess.run(
        ["pdftotext", "-layout", source, "-"], check=True, timeout=60, capture_output=True
    )
    return " ".join(done.stdout.decode().split())  # one line, single spaces


def figures(value: str) -> str:
    return f"{Decimal(value):.2f}"


async def test_the_transcript_pdf_shows_the_figures_of_the_status(
    world: World, tmp_path: Path
) -> None:
    api = world.api
    await api.ok(await api.post_completion(world.tma, "pdf-billing", ceus="10.5"))
    await api.ok(await api.post_completion(world.mgma, "pdf-hr", activity_id="mgma-hr", ceus="6"))
    status = await api.ok(await api.get("/v1/managers/m-1/status", world.m1), 200)
    head = await api.head()

    response = await api.get("/v1/managers/m-1/transcript", world.m1, format="pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = read_pdf(response.content, "transcript-m-1", tmp_path)

    assert "Continuing-education transcript" in text
    for c in status["certifications"]:
        earned, required = figures(c["ceus_earned"]), figures(c["ceus_required"])
        assert f"{c['program']}: {c['status']}" in text
        assert f"CEUs earned {earned} of {required} required" in text
        assert f"CEUs still needed {figures(c['ceus_remaining'])}" in text
    assert "CEUs earned 16.50 of 24.00 required" in text  # CMM: 10.5 core + 6 general
    assert "Billing and coding update" in text
    assert "HR for practice managers" in text
    made_from = re.search(r"at position (\d+), hash ([0-9a-f]{64})", text)
    assert made_from is not None, text
    assert int(made_from[1]) <= head
    events = await api.ok(
        await api.get("/v1/events", world.admin, after=int(made_from[1]) - 1, limit=1), 200
    )
    assert events["events"][0]["hash"] == made_from[2]
    assert events["events"][0]["stream_id"] == "manager-m-1"


async def test_the_transcript_pdf_of_one_program_links_to_its_credential(
    world: World, tmp_path: Path
) -> None:
    issued = await credential_of(world, await approved_cmom_renewal(world))
    response = await world.api.get(
        "/v1/managers/m-1/transcript", world.m1, format="pdf", program="CMOM"
    )
    assert response.status_code == 200, response.text
    text = read_pdf(response.content, "transcript-m-1-cmom", tmp_path)
    assert "CMOM only" in text
    assert "CMM:" not in text
    assert f"http://testserver.local/verify/{issued['credential_id']}" in text


async def test_a_transcript_pdf_is_for_the_manager_their_auditors_and_admins(
    world: World,
) -> None:
    path = "/v1/managers/m-1/transcript"
    assert_problem(await world.api.get(path, world.m2, format="pdf"), 403)
    assert_problem(await world.api.get(path, None, format="pdf"), 401)
    assert (await world.api.get(path, world.cmom_auditor, format="pdf")).status_code == 200


async def test_the_certificate_pdf_names_the_holder_the_cycle_and_the_verification_url(
    world: World, tmp_path: Path
) -> None:
    renewal_id = await approved_cmom_renewal(world)
    response = await world.api.get(f"/v1/renewals/{renewal_id}/certificate.pdf", world.m1)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = read_pdf(response.content, "certificate-m-1-cmom", tmp_path)
    issued = await credential_of(world, renewal_id)

    assert "Certificate of renewal" in text
    assert "m-1" in text
    assert "(CMOM)" in text
    assert "12.00 CEUs" in text
    assert "between 2025-09-30 and 2026-09-30" in text
    assert "valid until 2027-09-30" in text
    assert f"http://testserver.local/verify/{issued['credential_id']}" in text
    assert re.search(r"at position \d+, hash [0-9a-f]{64}", text), text


async def test_only_an_approved_renewal_has_a_certificate(world: World) -> None:
    renewal_id = await filed_cmom_renewal(world)
    assert_problem(await world.api.get(f"/v1/renewals/{renewal_id}/certificate.pdf", world.m1), 409)
    unknown = "/v1/renewals/00000000-0000-4000-8000-000000000000/certificate.pdf"
    assert_problem(await world.api.get(unknown, world.admin), 404)
    assert_problem(await world.api.get(f"/v1/renewals/{renewal_id}/certificate.pdf", world.m2), 403)
