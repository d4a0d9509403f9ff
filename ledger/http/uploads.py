"""A self-report's upload and its file served back (SPEC 12), for both doors.

In: a multipart form with the report's fields and one file.  The route that takes it sets its
own body limit, `UPLOAD_BODY_BYTES` (the app's is 2 MB): Litestar refuses a body whose
Content-Length says more with a 413 before reading any of it, and stops reading one that
streams more (`Request.stream`), so an oversized upload is never read whole.  The multipart
parser spools each file to a temporary file past 1 MB.  A file of more than 10 MB inside a
body under the limit (the form's fields take some bytes) is refused by its own size, as a 413
too (`too_large`).  The type is the evidence rule's (sniffed from the bytes, never the name or
the part's Content-Type), checked by the evidence store's `put`.

Out: `evidence_response`: the stored bytes as an attachment, with the sniffed type, and a
file name made safe for a header (letters, digits, dot, dash and underscore, and the
extension of its type); `X-Content-Type-Options: nosniff` is on every answer
(ledger/http/headers.py), so a browser never takes the file for something else.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PureWindowsPath
from typing import Any

from litestar import Request, Response
from litestar.datastructures import UploadFile

from ledger.domain.evidence import JPEG, MAX_EVIDENCE_BYTES, PDF, PNG
from ledger.domain.values import shown

__all__ = [
    "UPLOAD_BODY_BYTES",
    "Upload",
    "evidence_response",
    "is_multipart",
    "read_upload",
    "too_large",
]

UPLOAD_BODY_BYTES = MAX_EVIDENCE_BYTES + 256 * 1024
"""The largest body a self-report's route reads: the 10 MB file and room for the fields."""

_EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg"}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Upload:
    """The form's text fields (lists split on commas and spaces), the file's bytes and the
    name it was uploaded under (cleaned: no path, no control characters, at most 200), and
    how many files were sent (a report carries one)."""

    def __init__(
        self, fields: dict[str, Any], data: bytes | None, filename: str, files: int = 0
    ) -> None:
        self.fields = fields
        self.data = data
        self.filename = filename
        self.files = files


def is_multipart(request: Request[Any, Any, Any]) -> bool:
    return request.content_type[0] == "multipart/form-data"


def _clean_name(raw: str) -> str:
    name = PureWindowsPath(raw.replace("/", "\\")).name  # no directories, either kind
    return unicodedata.normalize("NFC", shown(name)).strip()[:200] or "evidence"


async def read_upload(
    request: Request[Any, Any, Any], *, lists: tuple[str, ...] = ("programs",)
) -> Upload:
    """The multipart form's fields and its file (`file`; None if there is none)."""
    form = await request.form()
    fields: dict[str, Any] = {}
    files: list[UploadFile] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files.append(value)
        elif isinstance(value, str) and not key.startswith("_"):
            text = value.strip()
            fields[key] = (
                [*fields.get(key, []), *text.replace(",", " ").split()] if key in lists else text
            )
    named = [f for f in form.getall("file") if isinstance(f, UploadFile)] if "file" in form else []
    if not named:
        return Upload(fields, None, "", len(files))
    data = await named[0].read()
    return Upload(fields, data, _clean_name(named[0].filename or ""), len(files))


def too_large(data: bytes) -> bool:
    return len(data) > MAX_EVIDENCE_BYTES


def safe_filename(filename: str, media_type: str) -> str:
    """A name for Content-Disposition: ASCII letters, digits, `.`, `-`, `_`, with the extension
    of the sniffed type (whatever the uploaded name said)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    stem = _UNSAFE_NAME.sub("_", ascii_name.rsplit(".", 1)[0]).strip("._")[:80] or "evidence"
    return stem + _EXTENSIONS.get(media_type, ".bin")


def evidence_response(data: bytes, media_type: str, filename: str) -> Response[bytes]:
    """The file as an attachment of its sniffed type."""
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{safe_filename(filename, media_type)}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
