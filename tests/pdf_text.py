"""A PDF's text as pdftotext reads it (Debian's poppler-utils, installed by `make test`)."""

from __future__ import annotations

import asyncio
import subprocess

from tests.conftest import system_command


async def pdf_text(body: bytes) -> str:
    pdftotext = system_command("pdftotext", "poppler-utils")
    done = await asyncio.to_thread(
        subprocess.run, [pdftotext, "-", "-"], input=body, capture_output=True,
        check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.decode()
