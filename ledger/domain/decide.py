"""Transitional: the decisions now live next to their folds, by concept (values, catalogue,
managers, completions, renewals, standing).  This module only re-exports them so that callers
not yet moved keep working; it goes away when they import from the modules themselves."""

from __future__ import annotations

from ledger.domain.catalogue import (
    define_program,
    register_activity,
    register_provider,
    revise_rules,
)
from ledger.domain.completions import amend_completion, record_completion, void_completion
from ledger.domain.managers import enroll_manager, grant_certification
from ledger.domain.renewals import assess_program, decide_renewal, file_renewal, pay_fee
from ledger.domain.standing import extend_deadline, record_finding, reinstate, revoke
from ledger.domain.values import EARLIEST, LATEST, in_range, valid_ceus

__all__ = [
    "EARLIEST",
    "LATEST",
    "amend_completion",
    "assess_program",
    "decide_renewal",
    "define_program",
    "enroll_manager",
    "extend_deadline",
    "file_renewal",
    "grant_certification",
    "in_range",
    "pay_fee",
    "record_completion",
    "record_finding",
    "register_activity",
    "register_provider",
    "reinstate",
    "revise_rules",
    "revoke",
    "valid_ceus",
    "void_completion",
]
