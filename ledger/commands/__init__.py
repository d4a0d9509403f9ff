"""Writes: load a stream, fold it, decide, append.  `Ledger` is the one entry point."""

from __future__ import annotations

from ledger.commands.base import Context
from ledger.commands.completions import Duplicate, Posting, Receipt
from ledger.commands.renewals import RenewalCommands
from ledger.commands.rosters import Outcome, RosterCommands

__all__ = ["Context", "Duplicate", "Ledger", "Outcome", "Posting", "Receipt"]


class Ledger(RosterCommands, RenewalCommands):
    """Every write of the ledger, and the bitemporal reads that fold one stream."""
