"""The demo ledger (`serve --demo`) has a self-report waiting in the CMM review queue: Sam's
webinar, a PDF stored once in the evidence store, which verify finds intact; seeding again
(every start) records no second one."""

from __future__ import annotations

import msgspec

from ledger.access.tokens import TokenStore
from ledger.cli import SYSTEM
from ledger.demo import demo_ledger, seed_demo
from ledger.domain.evidence import media_type_of
from ledger.infra.evidence import PostgresEvidenceStore
from tests.builders import run_cli


async def test_the_demo_has_a_self_report_waiting_with_its_pdf(dsn, pool):
    ledger, evidence = demo_ledger(pool), PostgresEvidenceStore(pool)

    await seed_demo(ledger, TokenStore(pool), SYSTEM, evidence)
    await seed_demo(ledger, TokenStore(pool), SYSTEM, evidence)  # the next start

    record, _ = await ledger.managers.current("sam-short")
    assert record is not None
    [report] = record.self_reports.values()
    assert (report.state, report.programs, report.evidence.media_type) == (
        "pending", ("CMM",), "application/pdf",
    )  # fmt: skip
    stored = await evidence.get(report.evidence.sha256)
    assert media_type_of(stored) == "application/pdf"
    status, out, err = await run_cli(dsn, "verify")
    assert (status, msgspec.json.decode(out)["first_bad_evidence"]) == (0, None), err
