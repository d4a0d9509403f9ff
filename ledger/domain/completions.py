"""TEMPORARY stub (lead's tree): replaced by the domain branch at integration."""

from ledger.domain.decide import amend_completion, record_completion, void_completion  # noqa: F401
