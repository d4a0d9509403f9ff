"""Bitstring Status List v1.0 (W3C): a credential whose subject is a gzip'd bitstring, one bit
per issued credential, set when that credential is revoked (or, in the `suspension` list,
while its certification is lapsed).

Bit i is bit `7 - i % 8` of byte `i // 8` (the first index is the left-most bit), the list is
at least 16 KiB (131,072 entries, the spec's minimum, for herd privacy), and `encodedList` is
the multibase base64url (prefix `u`, no padding) of the GZIP of the bits.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from ledger.credentials.badge import CONTEXTS, instant

__all__ = ["LIST_SIZE", "PURPOSES", "Purpose", "bit", "decode_list", "encode_list", "status_list"]

LIST_SIZE = 131_072
Purpose = Literal["revocation", "suspension"]
PURPOSES: tuple[Purpose, ...] = ("revocation", "suspension")


def encode_list(indices: Iterable[int], size: int = LIST_SIZE) -> str:
    bits = bytearray(size // 8)
    for i in indices:
        bits[i // 8] |= 0x80 >> (i % 8)
    # mtime=0: the same bits always give the same bytes.
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_list(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList is multibase base64url: it starts with 'u'")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def bit(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list(
    *, list_url: str, issuer: dict[str, Any], purpose: Purpose, set_indices: Iterable[int],
    valid_from: datetime,
) -> dict[str, Any]:  # fmt: skip
    """The status list credential (unsigned) published at `list_url`."""
    return {
        "@context": list(CONTEXTS[:1]),
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": instant(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_list(set_indices),
        },
    }
