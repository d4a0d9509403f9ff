"""TEMPORARY stub (lead's tree): replaced by the domain branch at integration."""

from ledger.domain.decide import EARLIEST, LATEST, in_range, valid_ceus  # noqa: F401
