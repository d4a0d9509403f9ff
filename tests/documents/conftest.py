"""The API fixtures (a real app on a fresh database, a fixed clock), and poppler to read the
PDFs back."""

import pytest

from tests.api.conftest import api, client, clock, world
from tests.conftest import system_command

__all__ = ["api", "client", "clock", "poppler", "world"]


@pytest.fixture(scope="session")
def poppler() -> None:
    """pdftoppm and pdftotext (Debian's poppler-utils, installed by `make test`'s setup)."""
    system_command("pdftoppm", "poppler-utils")
    system_command("pdftotext", "poppler-utils")
