"""`ceu-ledger verify` checks the evidence files too (SPEC 12): a file altered in the database
(as the superuser, past the triggers) is named, with exit 1 and one line; an untouched ledger
still exits 0."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec

from events.catalog import EvidenceFile, SelfReported
from events.codec import Actor, Metadata, encode
from events.store import NewEvent
from ledger.infra.evidence import PostgresEvidenceStore
from tests.builders import facts, run_cli

CERTIFICATE = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


async def _as_superuser_without_guards(pool, statement: str, *args) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(statement, *args)


async def test_verify_names_an_evidence_file_altered_in_the_database(dsn, pool, pg_store):
    await pg_store.append("s", facts(3), expected_version=0)
    evidence = PostgresEvidenceStore(pool)
    await evidence.put(PHOTO, "photo.jpg")
    certificate = await evidence.put(CERTIFICATE, "certificate.pdf")

    status, out, err = await run_cli(dsn, "verify")
    assert status == 0, err
    report = msgspec.json.decode(out)
    assert (report["ok"], report["first_bad_evidence"], report["events_checked"]) == (True, None, 3)

    await _as_superuser_without_guards(
        pool,
        "UPDATE evidence_files SET data = overlay(data PLACING '9' FROM 8) WHERE sha256 = $1",
        bytes.fromhex(certificate.sha256),
    )

    status, out, err = await run_cli(dsn, "verify")
    assert status == 1
    report = msgspec.json.decode(out)
    assert (report["ok"], report["first_bad_evidence"]) == (False, certificate.sha256)
    assert report["first_bad_position"] is None, "the chain itself is intact"
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        f"evidence file {certificate.sha256} no longer matches its hash, size or type"
    ]


async def test_verify_of_a_ledger_without_evidence_files_exits_0(dsn, pg_store):
    await pg_store.append("s", facts(2), expected_version=0)

    status, out, err = await run_cli(dsn, "verify")

    assert status == 0, err
    assert msgspec.json.decode(out)["first_bad_evidence"] is None


def _self_reported(sha256: str, size: int, media_type: str) -> NewEvent:
    event = SelfReported(
        report_id=uuid.uuid4(), manager_id="m-1", title="Webinar", provider_name="Society",
        completed_on=date(2026, 5, 20), ceus=Decimal(2), category="general", programs=("CMM",),
        evidence=EvidenceFile(
            sha256=sha256, size=size, media_type=media_type, filename="certificate.pdf"
        ),
    )  # fmt: skip
    metadata = Metadata(actor=Actor(role="manager", id="m-1"), request_id="r")
    return encode(event, metadata=metadata, event_id=event.report_id)


async def test_verify_names_a_self_reports_file_altered_in_the_database(dsn, pool, pg_store):
    certificate = await PostgresEvidenceStore(pool).put(CERTIFICATE, "certificate.pdf")
    reported = _self_reported(certificate.sha256, certificate.size, certificate.media_type)
    await pg_store.append("manager-m-1", [reported], expected_version=0)
    status, out, err = await run_cli(dsn, "verify")
    assert (status, msgspec.json.decode(out)["first_bad_evidence"]) == (0, None), err

    await _as_superuser_without_guards(
        pool,
        "UPDATE evidence_files SET data = overlay(data PLACING 'X' FROM 12) WHERE sha256 = $1",
        bytes.fromhex(certificate.sha256),
    )

    status, out, err = await run_cli(dsn, "verify")
    assert status == 1
    assert msgspec.json.decode(out)["first_bad_evidence"] == certificate.sha256
    assert err.strip().splitlines() == [
        f"evidence file {certificate.sha256} no longer matches its hash, size or type"
    ]


async def test_verify_names_a_file_a_self_report_names_that_is_not_stored_as_recorded(
    dsn, pool, pg_store
):
    stored = await PostgresEvidenceStore(pool).put(PHOTO, "photo.jpg")
    missing = "ab" * 32
    await pg_store.append(
        "manager-m-1",
        [
            _self_reported(stored.sha256, stored.size, stored.media_type),
            _self_reported(stored.sha256, stored.size + 1, stored.media_type),  # another size
            _self_reported(missing, 10, "application/pdf"),
        ],
        expected_version=0,
    )

    status, out, err = await run_cli(dsn, "verify")

    assert status == 1, err
    report = msgspec.json.decode(out)
    assert (report["ok"], report["first_bad_evidence"]) == (False, stored.sha256)
    assert report["first_bad_position"] is None, "the chain itself is intact"
