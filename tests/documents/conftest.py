"""The API fixtures (a real app on a fresh database, a fixed clock), and poppler to read the
PDFs back."""

import shutil
import subprocess

import pytest

from tests.api.conftest import api, client, clock, world

__all__ = ["api", "client", "clock", "poppler", "world"]


@pytest.fixture(scope="session")
def poppler() -> None:
    """pdftoppm and pdftotext (Debian's poppler-utils), installed with apt-get if missing."""
    if shutil.which("pdftoppm") and shutil.which("pdftotext"):
        return
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "poppler-utils"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            pytest.fail(
                f"cannot install poppler-utils ({' '.join(command)}): {done.stderr[-2000:]}"
            )
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.fail("apt-get installed poppler-utils, but pdftoppm or pdftotext is not on PATH")
