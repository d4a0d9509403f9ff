"""TEMPORARY stub (lead's tree): replaced by the domain branch at integration."""

from ledger.domain.decide import extend_deadline, record_finding, reinstate, revoke  # noqa: F401
