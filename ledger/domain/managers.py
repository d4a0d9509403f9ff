"""TEMPORARY stub (lead's tree): replaced by the domain branch at integration."""

from ledger.domain.decide import _certification as certification  # noqa: F401
from ledger.domain.decide import _record as require_manager  # noqa: F401
from ledger.domain.decide import enroll_manager, grant_certification  # noqa: F401


def change_profile(record, manager_id, *, name, email):  # type: ignore[no-untyped-def]
    raise NotImplementedError
