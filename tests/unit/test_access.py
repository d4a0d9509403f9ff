"""The scope policy (ledger/access/policy.py) alone: who sees and corrects what of a manager."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.access.policy import (
    WHOLE,
    corrects_freely,
    may_change_profile,
    may_read_completion,
    scope_of,
)


@dataclass(frozen=True)
class Caller:
    role: str
    manager_id: str | None = None
    provider_id: str | None = None
    programs: tuple[str, ...] = ()


CMOM_AUDITOR = Caller("auditor", programs=("CMOM",))
ADMIN = Caller("admin")


def test_an_auditor_sees_of_a_manager_only_its_programs_the_manager_holds():
    scope = scope_of(CMOM_AUDITOR, "m-carla", held=("CMM", "CMOM"))

    assert scope.programs == {"CMOM"}
    assert not scope.program("CMM")
    assert scope.completion(("CMM", "CMOM"))
    assert not scope.completion(("CMM",))


def test_an_auditor_sees_nothing_of_a_manager_holding_none_of_its_programs():
    scope = scope_of(CMOM_AUDITOR, "m-carla", held=("CMM",))

    assert not scope.any
    assert not scope.completion(("CMM", "CMOM"))


def test_the_manager_itself_and_an_admin_see_the_whole_record():
    assert scope_of(Caller("manager", manager_id="m-1"), "m-1", held=()) is WHOLE
    assert scope_of(ADMIN, "m-1", held=()) is WHOLE
    assert not scope_of(Caller("manager", manager_id="m-2"), "m-1", held=("CMM",)).any


def test_an_auditor_corrects_only_a_completion_counting_for_its_programs_alone():
    assert not corrects_freely(CMOM_AUDITOR, programs=("CMM", "CMOM"), held=("CMM",))
    assert not corrects_freely(CMOM_AUDITOR, programs=("CMM", "CMOM"), held=("CMM", "CMOM"))
    assert corrects_freely(CMOM_AUDITOR, programs=("CMM", "CMOM"), held=("CMOM",))
    assert not corrects_freely(CMOM_AUDITOR, programs=("CMM",), held=("CMOM",))
    assert corrects_freely(ADMIN, programs=("CMM",), held=())


def test_a_completion_is_read_by_its_poster_and_whoever_sees_it_in_the_record():
    fields = {"manager_id": "m-carla", "provider_id": "tma", "programs": ("CMM", "CMOM")}

    assert may_read_completion(Caller("provider", provider_id="tma"), **fields, held=("CMM",))
    assert not may_read_completion(Caller("provider", provider_id="mgma"), **fields, held=())
    assert not may_read_completion(CMOM_AUDITOR, **fields, held=("CMM",))
    assert may_read_completion(CMOM_AUDITOR, **fields, held=("CMM", "CMOM"))


def test_only_the_manager_or_an_admin_changes_a_profile():
    assert may_change_profile(Caller("manager", manager_id="m-1"), "m-1")
    assert may_change_profile(ADMIN, "m-1")
    assert not may_change_profile(CMOM_AUDITOR, "m-1")
    assert not may_change_profile(Caller("manager", manager_id="m-2"), "m-1")
