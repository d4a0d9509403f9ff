"""The evidence store contract (ledger/evidence/store.py): one suite, run against every adapter.

Each adapter comes with two test-only hands: how many files it holds, and how to alter a stored
file behind its back (for PostgreSQL, as the superuser past the triggers, as the event store's
tamper tests do), so that `check` can be shown to find it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import msgspec
import pytest

from ledger.domain.errors import NotFound
from ledger.domain.evidence import MAX_EVIDENCE_BYTES, Evidence, EvidenceRefused
from ledger.evidence.memory import InMemoryEvidenceStore
from ledger.evidence.store import EvidenceStore
from ledger.infra.evidence import PostgresEvidenceStore

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@dataclass
class Subject:
    store: EvidenceStore
    count: Callable[[], Awaitable[int]]
    alter: Callable[..., Awaitable[None]]
    """alter(sha256, column=value): change a stored file's row behind the store."""


def _in_memory() -> Subject:
    store = InMemoryEvidenceStore()

    async def count() -> int:
        return len(store._files)

    async def alter(sha256: str, **change: object) -> None:
        evidence, data = store._files[sha256]
        if "data" in change:
            data = change.pop("data")
        store._files[sha256] = (msgspec.structs.replace(evidence, **change), data)

    return Subject(store, count, alter)


def _in_postgres(pool: asyncpg.Pool) -> Subject:
    async def count() -> int:
        return int(await pool.fetchval("SELECT count(*) FROM evidence_files"))

    async def alter(sha256: str, **change: object) -> None:
        [(column, value)] = change.items()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(
                f"UPDATE evidence_files SET {column} = $1 WHERE sha256 = $2",
                value,
                bytes.fromhex(sha256),
            )

    return Subject(PostgresEvidenceStore(pool, page_size=2), count, alter)


@pytest.fixture(params=["memory", "postgres"])
def subject(request: pytest.FixtureRequest) -> Subject:
    if request.param == "memory":
        return _in_memory()
    return _in_postgres(request.getfixturevalue("pool"))


async def test_a_file_is_stored_by_its_hash_and_comes_back_byte_for_byte(subject):
    evidence = await subject.store.put(PDF, "certificate.pdf")

    assert evidence == Evidence(
        sha256=hashlib.sha256(PDF).hexdigest(), size=len(PDF), media_type="application/pdf"
    )
    assert await subject.store.get(evidence.sha256) == PDF


async def test_the_same_file_twice_is_stored_once_and_answers_the_same(subject):
    first = await subject.store.put(JPEG, "scan.jpg")
    again = await subject.store.put(JPEG, "another name.jpeg")
    other = await subject.store.put(PNG, "scan.png")

    assert again == first
    assert other.sha256 != first.sha256
    assert await subject.count() == 2


async def test_a_file_never_stored_is_not_found(subject):
    await subject.store.put(PNG, "scan.png")
    absent = hashlib.sha256(b"never stored").hexdigest()

    with pytest.raises(NotFound, match=f"no evidence file {absent}"):
        await subject.store.get(absent)
    for malformed in ("", "xyz", absent.upper(), absent[:-1]):
        with pytest.raises(NotFound):
            await subject.store.get(malformed)


async def test_concurrent_puts_of_one_file_store_it_once(subject):
    answers = await asyncio.gather(*(subject.store.put(PDF, f"copy {n}.pdf") for n in range(8)))

    assert len(set(answers)) == 1
    assert await subject.count() == 1
    assert await subject.store.get(answers[0].sha256) == PDF


async def test_the_port_refuses_before_anything_is_stored(subject):
    for data, name in [(HTML, "certificate.pdf"), (b"", "empty.png"), (b"MZ\x90\x00", "a.png")]:
        with pytest.raises(EvidenceRefused):
            await subject.store.put(data, name)

    assert await subject.count() == 0


async def test_exactly_10_mb_is_stored_and_one_byte_more_is_refused(subject):
    ten_mb = PDF + bytes(MAX_EVIDENCE_BYTES - len(PDF))

    evidence = await subject.store.put(ten_mb, "big.pdf")
    with pytest.raises(EvidenceRefused, match="over the limit of 10 MB"):
        await subject.store.put(ten_mb + b"\0", "bigger.pdf")

    assert evidence.size == 10 * 1024 * 1024
    assert await subject.store.get(evidence.sha256) == ten_mb
    assert await subject.count() == 1


async def test_check_finds_nothing_wrong_with_an_empty_or_untouched_store(subject):
    assert await subject.store.check() is None

    for data in (PDF, PNG, JPEG, PDF + b"%% two\n", PNG + b"\0"):
        await subject.store.put(data, "file")

    assert await subject.store.check() is None


async def test_check_names_the_first_file_whose_bytes_were_altered(subject):
    stored = sorted(
        [(await subject.store.put(data, "file")).sha256 for data in (PDF, PNG, JPEG, PDF + b"\n")]
    )
    altered = stored[1:3]  # two of them: the first in key order is named

    for key in reversed(altered):
        data = await subject.store.get(key)
        await subject.alter(key, data=data[:-1] + bytes([data[-1] ^ 1]))

    assert await subject.store.check() == altered[0]


async def test_check_names_a_file_whose_recorded_type_was_changed(subject):
    await subject.store.put(JPEG, "scan.jpg")
    png = await subject.store.put(PNG, "scan.png")

    await subject.alter(png.sha256, media_type="application/pdf")

    assert await subject.store.check() == png.sha256
