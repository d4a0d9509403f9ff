"""Writes: each handler looks up what its decision needs, then `write`s (load, decide, append).

Handlers are plain async functions grouped by use case, each taking the `Ledger` (the store,
the loaders, the clock and new ids) and the request's `Context` first:

* catalogue    programs and their rules, providers, activities
* managers     enrolment, profile, certifications
* completions  one posting, its void and amendment;  rosters: many postings at once
* messages     every command's input message (what the doors decode and hand on)
* renewals     fees and refunds, filing, decisions
* standing     revoke, reinstate, extend a deadline
* audits       draws and findings
* workshops    a workshop's agenda, attendance and close (its credit in attendees' streams)
* approvals    providers' and activities' applications to a program, and their decisions
"""

from __future__ import annotations

from ledger.commands.base import Context, Ledger
from ledger.commands.completions import Duplicate, Posted, Receipt
from ledger.commands.messages import PostCompletion
from ledger.commands.rosters import Outcome

__all__ = [
    "Context",
    "Duplicate",
    "Ledger",
    "Outcome",
    "PostCompletion",
    "Posted",
    "Receipt",
]
