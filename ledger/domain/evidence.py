"""Evidence files (SPEC 12): which files a manager may attach to a self-report, and what the
ledger keeps of one (its SHA-256, size and type; the bytes themselves go to an evidence store,
never into an event).

The type is sniffed from the bytes, never from the name: a PDF starts with `%PDF-`, a PNG with
its 8-byte signature, a JPEG with FF D8 FF.  That is the whole rule, so it is a small table of
signatures here rather than a library: `filetype` and `puremagic` (neither is installed) would
tell us many more types we refuse anyway, and neither looks for HTML behind a PDF header, which
is what the rule must catch.  The refusals name what was found instead ("an HTML page", "a
Windows program (EXE)"), for the person who picked the wrong file.

Only the first `HEAD` bytes are looked at (and the size), so the same check can be run on what
a database hands back of a stored file without fetching all of it.
"""

from __future__ import annotations

import hashlib
import re

import msgspec

from ledger.domain.errors import FieldError, Invalid

__all__ = [
    "HEAD",
    "MAX_EVIDENCE_BYTES",
    "MEDIA_TYPES",
    "Evidence",
    "EvidenceRefused",
    "evidence_of",
    "media_type_of",
    "sniff",
]

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
"""10 MB: the largest file a self-report may carry (SPEC 12)."""
HEAD = 1024
"""How much of a file the sniffing reads: the signatures, and where an old browser's own
sniffing would look for HTML."""
PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
MEDIA_TYPES = (PDF, PNG, JPEG)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ACCEPTED = ((b"%PDF-", PDF), (_PNG_SIGNATURE, PNG), (b"\xff\xd8\xff", JPEG))
# What people pick by mistake, named in the refusal (first match wins).
_REFUSED = (
    (b"MZ", "a Windows program (EXE)"),
    (b"\x7fELF", "a Linux program (ELF)"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x89PNG", "a PNG with a damaged signature"),
)
_MARKUP = re.compile(rb"<\s*(!doctype\s+html|html|head|body|script|iframe|svg)\b", re.IGNORECASE)
_TEXT_START = re.compile(rb"^(\xef\xbb\xbf)?\s*<", re.IGNORECASE)


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """What the ledger records of a stored file: an event holds this, never the bytes."""

    sha256: str
    """The lowercase hex SHA-256 of the bytes: the file's key in the evidence store."""
    size: int
    media_type: str
    """Sniffed from the bytes: one of `MEDIA_TYPES`."""


class EvidenceRefused(Invalid):
    """The file is not one a self-report may carry; `found` says what it is instead."""

    def __init__(self, found: str, declared_name: str = "") -> None:
        name = f"{declared_name} is " if declared_name else "the file is "
        super().__init__([FieldError("file", f"{name}{found}; attach a PDF, PNG or JPEG")])
        self.found = found


def sniff(data: bytes, declared_name: str = "") -> str:
    """The media type of `data` if a self-report may carry it, else `EvidenceRefused`.

    `declared_name` only words the refusal; it never decides the type."""
    if not data:
        raise EvidenceRefused("empty", declared_name)
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceRefused(
            f"{len(data)} bytes, over the limit of 10 MB ({MAX_EVIDENCE_BYTES} bytes)",
            declared_name,
        )
    return media_type_of(data[:HEAD], declared_name)


def media_type_of(head: bytes, declared_name: str = "") -> str:
    """The media type that the first `HEAD` bytes of a file show, or `EvidenceRefused`.

    A PDF must start with `%PDF-` at its first byte (readers accept junk before it; we do not,
    so that nothing can hide there), and no HTML or script tag may sit in its head, where a
    browser that sniffs content would find it and show the file as a page."""
    head = head[:HEAD]
    for signature, media_type in _ACCEPTED:
        if head.startswith(signature):
            if media_type == PDF and _MARKUP.search(head):
                raise EvidenceRefused("an HTML page behind a PDF header", declared_name)
            return media_type
    raise EvidenceRefused(_what_it_is(head), declared_name)


def _what_it_is(head: bytes) -> str:
    for signature, found in _REFUSED:
        if head.startswith(signature):
            return found
    if _TEXT_START.match(head) and (markup := _MARKUP.search(head)):
        return "an SVG image" if markup[1].lower() == b"svg" else "an HTML page"
    return "a file of unknown type"


def evidence_of(data: bytes, declared_name: str = "") -> Evidence:
    """The record of `data` as evidence: its hash, size and sniffed type (or the refusal)."""
    media_type = sniff(data, declared_name)
    return Evidence(sha256=hashlib.sha256(data).hexdigest(), size=len(data), media_type=media_type)
