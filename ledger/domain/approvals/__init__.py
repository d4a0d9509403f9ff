"""Approvals (SPEC 12): associations vouch for providers and for activities.

* A provider applies to a program (ProviderApprovalRequested, in its `provider-{id}` stream);
  an auditor of the program approves the pending application with a number and the day it
  lapses (ProviderApproved), or denies it (ProviderApprovalDenied).  A renewal is a new
  application and approval.  An approval is valid on day D when valid_from <= D < valid_until.
* An activity is approved for a program (ActivityApproved, in its `activity-{id}` stream) by
  an auditor, after the provider submitted it (ActivityApprovalRequested), or on registration
  when its provider's approval for the program is valid on the activity's first day
  (`approve_on_registration`: automatic, with the approval's number as its index number).
* The source of a completion for a program (`source_of`): `self` for a manager's own report,
  `approved` for an activity approved for the program, else `provider`.
* The reminders to a provider 120 and 30 days before its approval lapses (`lapse_reminders`).

Pure: the folds take the instant a fact was recorded, the decisions take today.
"""

from __future__ import annotations

from ledger.domain.approvals.activities import (
    ActivityApplication,
    ActivityApprovals,
    approve_activity,
    approve_on_registration,
    deny_activity,
    evolve_activity_approvals,
    request_activity_approval,
)
from ledger.domain.approvals.providers import (
    ApplicationState,
    ProviderApplication,
    ProviderApprovals,
    approve_provider,
    deny_provider,
    evolve_provider_approvals,
    request_provider_approval,
)
from ledger.domain.approvals.reminders import LAPSE_REMINDER_DAYS, LapseReminder, lapse_reminders
from ledger.domain.approvals.sources import source_of

__all__ = [
    "LAPSE_REMINDER_DAYS",
    "ActivityApplication",
    "ActivityApprovals",
    "ApplicationState",
    "LapseReminder",
    "ProviderApplication",
    "ProviderApprovals",
    "approve_activity",
    "approve_on_registration",
    "approve_provider",
    "deny_activity",
    "deny_provider",
    "evolve_activity_approvals",
    "evolve_provider_approvals",
    "lapse_reminders",
    "request_activity_approval",
    "request_provider_approval",
    "source_of",
]
