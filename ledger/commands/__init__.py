"""Writes: load a stream, fold it, decide, append.  `Ledger` is the one entry point."""

from __future__ import annotations

from ledger.commands.base import Context
from ledger.commands.completions import CompletionCommands, Duplicate, Receipt
from ledger.commands.renewals import RenewalCommands

__all__ = ["Context", "Duplicate", "Ledger", "Receipt"]


class Ledger(CompletionCommands, RenewalCommands):
    """Every write of the ledger, and the bitemporal reads that fold one stream."""
