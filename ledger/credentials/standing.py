"""What becomes of a credential when its certification changes: pure rules over the record.

* Revoked: the certification was revoked at or after the approval the credential attests.
  Final, as the Bitstring Status List says of `revocation`: a later reinstatement puts the
  certification back (its status comes from the rules again), but the credential issued
  before stays revoked; the next approved renewal brings a new one.
* Lapsed (the `suspension` list): the certification's status now is `lapsed`.  Not final:
  an extension of the deadline can end it, and the bit is cleared with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ledger.domain.cycles import Window, windows

if TYPE_CHECKING:
    from collections.abc import Sequence

    from events.catalog import Rules
    from ledger.domain.record import Certification

__all__ = ["renewed_and_next", "revoked_at"]


def revoked_at(cert: Certification, approved_at: datetime) -> datetime | None:
    """When the certification was first revoked since `approved_at`, if it was."""
    return next((s.at for s in cert.standing if s.revoked and s.at >= approved_at), None)


def renewed_and_next(
    cert: Certification, versions: Sequence[Rules], cycle: int
) -> tuple[Window, Window]:
    """The renewed cycle's window and the window of the cycle the renewal opens."""
    found: list[Window] = []
    for window in windows(cert, versions):
        if window.cycle.number >= cycle:
            found.append(window)
        if len(found) == 2:
            return found[0], found[1]
    raise AssertionError("unreachable: windows() never ends")
