"""Which files a self-report may carry (SPEC 12): the type is read from the bytes, never the
name; PDF, PNG and JPEG only, at most 10 MB, never empty.  A refusal names what was found."""

from __future__ import annotations

import hashlib

import pytest

from ledger.domain.errors import Invalid
from ledger.domain.evidence import (
    MAX_EVIDENCE_BYTES,
    Evidence,
    EvidenceRefused,
    evidence_of,
    media_type_of,
    sniff,
)

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML = b"<!DOCTYPE html>\n<html><head><title>Certificate</title></head><body></body></html>\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48)


def refusal(data: bytes, name: str = "") -> EvidenceRefused:
    with pytest.raises(EvidenceRefused) as caught:
        sniff(data, name)
    return caught.value


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")],
)
def test_a_pdf_a_png_and_a_jpeg_are_known_by_their_first_bytes(data, media_type):
    assert sniff(data, "scan.bin") == media_type
    assert sniff(data) == media_type


def test_the_name_never_decides_the_type():
    assert sniff(PNG, "certificate.pdf") == "image/png"
    assert sniff(PDF, "certificate.jpeg") == "application/pdf"


def test_an_html_page_named_pdf_is_refused_as_an_html_page():
    refused = refusal(HTML, "certificate.pdf")

    assert refused.found == "an HTML page"
    assert refused.detail == ("file: certificate.pdf is an HTML page; attach a PDF, PNG or JPEG")


def test_a_script_page_with_leading_space_and_a_bom_is_an_html_page():
    assert refusal(b"\xef\xbb\xbf  \n<script>alert(1)</script>", "x.pdf").found == "an HTML page"


def test_html_behind_a_pdf_header_is_refused():
    polyglot = b"%PDF-1.4\n<html><body><script>fetch('/v1/tokens')</script></body></html>"

    assert refusal(polyglot, "certificate.pdf").found == "an HTML page behind a PDF header"


def test_a_pdf_header_must_be_the_first_bytes():
    assert refusal(b"\n%PDF-1.7\n" + PDF[9:]).found == "a file of unknown type"


def test_an_exe_renamed_png_is_refused_as_a_windows_program():
    refused = refusal(EXE, "certificate.png")

    assert refused.found == "a Windows program (EXE)"
    assert "certificate.png is a Windows program (EXE)" in refused.detail


@pytest.mark.parametrize(
    "cut", [b"\x89PNG", b"\x89PNG\r\n", b"\x89PNG\r\n\x1a", b"\x89PNG\r\n\x1a\x00\x00\x00\rIHDR"]
)
def test_a_truncated_or_damaged_png_signature_is_refused(cut):
    assert refusal(cut, "scan.png").found == "a PNG with a damaged signature"


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"\xff\xd8", "a file of unknown type"),  # two bytes of a JPEG's three
        (b"GIF89a\x01\x00\x01\x00", "a GIF image"),
        (b"PK\x03\x04\x14\x00", "a ZIP archive (or an Office document)"),
        (b"\x7fELF\x02\x01\x01", "a Linux program (ELF)"),
        (b"#!/bin/sh\nrm -rf /\n", "a script"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG image"),
        (b"Dear auditor, I attended.", "a file of unknown type"),
    ],
)
def test_anything_else_is_refused_naming_what_it_is(data, found):
    assert refusal(data).found == found


def test_an_empty_file_is_refused():
    refused = refusal(b"", "scan.pdf")

    assert refused.found == "empty"
    assert isinstance(refused, Invalid)
    assert [(e.field, e.message) for e in refused.errors] == [
        ("file", "scan.pdf is empty; attach a PDF, PNG or JPEG")
    ]


def test_exactly_10_mb_is_accepted_and_one_byte_more_is_refused():
    ten_mb = PDF + bytes(MAX_EVIDENCE_BYTES - len(PDF))
    assert len(ten_mb) == 10 * 1024 * 1024

    assert sniff(ten_mb) == "application/pdf"
    assert refusal(ten_mb + b"\0").found == (
        "10485761 bytes, over the limit of 10 MB (10485760 bytes)"
    )


def test_only_the_head_is_read_for_the_type():
    late_html = PDF + bytes(2048) + b"<html><script></script></html>"

    assert sniff(late_html) == "application/pdf"
    assert media_type_of(late_html[:1024]) == "application/pdf"


def test_the_record_of_a_file_is_its_hash_size_and_sniffed_type():
    assert evidence_of(PNG, "photo.jpg") == Evidence(
        sha256=hashlib.sha256(PNG).hexdigest(), size=len(PNG), media_type="image/png"
    )
