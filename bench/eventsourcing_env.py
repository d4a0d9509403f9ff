"""The `eventsourcing` library in a virtual environment of its own (bench/.venv-es), so that
it is never a dependency of the ledger: created on first use with pip from the package index."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["PYTHON", "ensure"]

REQUIREMENT = "eventsourcing[postgres]==9.5.*"
VENV = Path(__file__).with_name(".venv-es")
PYTHON = VENV / "bin" / "python"
_STAMP = VENV / ".installed-stamp"


def ensure() -> Path:
    """The environment's interpreter, installing the library first if needed."""
    if _STAMP.exists() and _STAMP.read_text() == REQUIREMENT:
        return PYTHON
    print(f"installing {REQUIREMENT} into {VENV} (once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            REQUIREMENT,
        ],
        check=True,
    )
    _STAMP.write_text(REQUIREMENT)
    return PYTHON
