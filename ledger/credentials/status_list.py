"""Bitstring Status List v1.0 (W3C): a credential whose subject is a gzip'd bitstring, one bit
per issued credential, set when that credential is revoked (or, in the `suspension` list,
while its certification is lapsed).

Bit i is bit `7 - i % 8` of byte `i // 8` (the first index is the left-most bit), the list is
at least 16 KiB (131,072 entries, the spec's minimum, for herd privacy), and `encodedList` is
the multibase base64url (prefix `u`, no padding) of the GZIP of the bits.

A list is valid for `VALIDITY` (one day) from its `validFrom`, and says so in `validUntil`: a
verifier refuses an older copy, so a list signed before a revocation cannot be replayed for
ever to hide it.  `ttl` (BSL v1.0, milliseconds) and the HTTP `Cache-Control` tell caches to
fetch it again after `TTL`.  The issuer is its id alone: a status list is a plain VC, under
the VC context only, where OB's `Profile` and `url` are not defined.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from ledger.credentials.badge import CONTEXTS, instant

__all__ = [
    "LIST_SIZE", "PURPOSES", "TTL", "VALIDITY", "Purpose", "bit", "decode_list", "encode_list",
    "status_list",
]  # fmt: skip

LIST_SIZE = 131_072
Purpose = Literal["revocation", "suspension"]
PURPOSES: tuple[Purpose, ...] = ("revocation", "suspension")
VALIDITY = timedelta(days=1)
"""How long a signed list is valid: the longest a replayed old list can hide a change."""
TTL = timedelta(minutes=5)
"""How long a verifier or a cache may keep a list before fetching it again."""


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
    *, list_url: str, issuer: str, purpose: Purpose, encoded_list: str, valid_from: datetime,
) -> dict[str, Any]:  # fmt: skip
    """The status list credential (unsigned) published at `list_url`, valid for a day."""
    return {
        "@context": list(CONTEXTS[:1]),
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": instant(valid_from),
        "validUntil": instant(valid_from + VALIDITY),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded_list,
            "ttl": int(TTL.total_seconds() * 1000),
        },
    }
