"""Every refusal of every decision, as a table: what is asked, what is refused, which field
the refusal names.  (The API maps each error class to one status, ledger/api/errors.py.)"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import msgspec
import pytest

from events.catalog import (
    CertificationGranted,
    ManagerEnrolled,
    ProgramDefined,
    ProviderRegistered,
)
from ledger.commands.messages import (
    DecideRenewal,
    ExtendDeadline,
    PayFee,
    PostCompletion,
    RecordFinding,
)
from ledger.domain import catalogue, completions, managers, renewals, standing
from ledger.domain.errors import (
    AlreadyExists,
    DomainError,
    Invalid,
    NotAllowed,
    NotFound,
    RenewalNotReady,
    WrongState,
)
from tests.unit.domain.given import (
    CMM_RULES,
    TMA,
    Manager,
    activity_of,
    default_programs,
    workshop,
)

TODAY = date(2025, 6, 1)
replace = msgspec.structs.replace


def fields_of(error: DomainError) -> set[str]:
    return {e.field for e in error.errors} if isinstance(error, Invalid) else set()


def refusal(decision, *args, **kwargs) -> tuple[type[DomainError], set[str]]:
    with pytest.raises(DomainError) as refused:
        decision(*args, **kwargs)
    return type(refused.value), fields_of(refused.value)


# -- rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cycle_months": 0}, "cycle_months"),
        ({"cycle_months": 121}, "cycle_months"),
        ({"required_ceus": Decimal(0)}, "required_ceus"),
        ({"required_ceus": Decimal("1.005")}, "required_ceus"),
        ({"categories": ()}, "categories"),
        ({"categories": ("core", " ")}, "categories"),
        ({"categories": ("core", "core")}, "categories"),
        ({"grace_days": -1}, "grace_days"),
        ({"grace_days": 367}, "grace_days"),
        ({"fee_cents": -1}, "fee_cents"),
        ({"carryover_max_ceus": Decimal(-1)}, "carryover_max_ceus"),
        ({"audit_rate": Decimal("1.1")}, "audit_rate"),
        ({"effective_from": date(1969, 12, 31)}, "effective_from"),
        ({"correction_window_days": 3651}, "correction_window_days"),
        ({"category_minimums": {"core": Decimal(25)}}, "category_minimums"),
        ({"category_minimums": {"core": Decimal(0)}}, "category_minimums"),
        ({"category_minimums": {"ethics": Decimal(2)}}, "category_minimums"),
    ],
)
def test_each_bad_rule_is_named(changes, field):
    assert [e.field for e in catalogue.rules_errors(replace(CMM_RULES, **changes))] == [field]


def test_the_default_rules_are_good_and_name_core_and_general():
    for program in default_programs().values():
        assert catalogue.rules_errors(program.versions[0]) == []
        assert program.versions[0].categories == ("core", "general")


def test_a_category_minimum_is_accepted_for_a_category_the_rules_name():
    rules = replace(
        CMM_RULES, categories=("core", "ethics"), category_minimums={"ethics": Decimal(2)}
    )
    assert catalogue.rules_errors(rules) == []


# -- programs, providers, activities ----------------------------------------------------------

CMM = default_programs()["CMM"]
PROGRAMS = default_programs()
LATER = replace(CMM_RULES, effective_from=date(2026, 1, 1))


@pytest.mark.parametrize(
    ("call", "refused"),
    [
        (
            lambda: catalogue.define_program(
                CMM, ProgramDefined(program="CMM", name="x", association="x", rules=CMM_RULES)
            ),
            (AlreadyExists, set()),
        ),
        (
            lambda: catalogue.define_program(
                None,
                ProgramDefined(
                    program="X", name="x", association="x", rules=replace(CMM_RULES, fee_cents=-1)
                ),
            ),
            (Invalid, {"fee_cents"}),
        ),
        (lambda: catalogue.revise_rules(None, "X", LATER, today=TODAY), (NotFound, set())),
        (
            lambda: catalogue.revise_rules(CMM, "CMM", CMM_RULES, today=TODAY),
            (Invalid, {"effective_from"}),
        ),
        (
            lambda: catalogue.revise_rules(
                catalogue.evolve_program(
                    CMM, catalogue.ProgramRulesRevised(program="CMM", rules=LATER)
                ),
                "CMM",
                LATER,
                today=TODAY,
            ),
            (AlreadyExists, set()),
        ),
        (
            lambda: catalogue.register_provider(
                TMA, PROGRAMS, ProviderRegistered(provider_id="tma", name="x", programs=("CMM",))
            ),
            (AlreadyExists, set()),
        ),
        (
            lambda: catalogue.register_provider(
                None, PROGRAMS, ProviderRegistered(provider_id="p", name="x", programs=("CPC",))
            ),
            (Invalid, {"programs"}),
        ),
        (
            lambda: catalogue.register_provider(
                None, PROGRAMS, ProviderRegistered(provider_id="p", name="x", programs=())
            ),
            (Invalid, {"programs"}),
        ),
    ],
    ids=[
        "program defined twice",
        "program with bad rules",
        "revision of an unknown program",
        "revision effective in the past",
        "second revision on one day",
        "provider registered twice",
        "provider for an unknown program",
        "provider for no program",
    ],
)
def test_the_catalogue_refuses(call, refused):
    assert refusal(call) == refused


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"ceus": Decimal(0)}, {"ceus"}),
        ({"ceus": Decimal("1.001")}, {"ceus"}),
        ({"ends_on": date(2025, 4, 30)}, {"ends_on"}),
        ({"starts_on": date(1969, 1, 1), "ends_on": date(1969, 1, 2)}, {"starts_on", "ends_on"}),
        ({"programs": ()}, {"programs"}),
        ({"programs": ("CPC",)}, {"programs"}),
        ({"category": "Core"}, {"category"}),
        ({"category": "ethics", "programs": ("CMM",)}, {"category"}),
    ],
)
def test_a_bad_activity_is_refused_naming_the_field(changes, fields):
    assert refusal(
        catalogue.register_activity, TMA, None, workshop(**changes), programs=PROGRAMS
    ) == (Invalid, fields)


def test_an_activity_of_a_program_its_provider_is_not_approved_for_is_refused():
    cmm_only = replace(TMA, programs=("CMM",))
    assert refusal(catalogue.register_activity, cmm_only, None, workshop(), programs=PROGRAMS) == (
        Invalid,
        {"programs"},
    )


def test_an_activity_of_an_unknown_provider_or_registered_twice_is_refused():
    event = workshop()
    assert refusal(catalogue.register_activity, None, None, event, programs=PROGRAMS)[0] is NotFound
    assert (
        refusal(catalogue.register_activity, TMA, activity_of(event), event, programs=PROGRAMS)[0]
        is AlreadyExists
    )


# -- managers --------------------------------------------------------------------------------


@pytest.fixture
def pat() -> Manager:
    return Manager().certified("CMM", date(2024, 3, 15))


def test_enrolling_refuses_a_second_enrolment_and_a_bad_email(pat):
    enroll = managers.enroll_manager
    again = ManagerEnrolled(manager_id="m-1", name="Pat", email="p@x.org")
    assert refusal(enroll, pat.record(), again)[0] is AlreadyExists
    for email in ("pat", "pat@", "@example.org", "pat@example", "pat@."):
        enrolled = ManagerEnrolled(manager_id="m-2", name="Lee", email=email)
        assert refusal(enroll, None, enrolled) == (
            Invalid,
            {"email"},
        )


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({"record": None}, (NotFound, set())),
        ({"program": None}, (NotFound, set())),
        ({"code": "CMM"}, (AlreadyExists, set())),
        ({"certified_on": date(2025, 6, 2)}, (Invalid, {"certified_on"})),
        ({"certified_on": date(1969, 12, 31)}, (Invalid, {"certified_on"})),
    ],
)
def test_a_grant_is_refused(pat, changes, refused):
    args = {
        "record": pat.record(),
        "program": PROGRAMS["CMOM"],
        "manager_id": "m-1",
        "code": "CMOM",
        "certified_on": date(2025, 1, 1),
        "today": TODAY,
    } | changes
    record, program, today = args.pop("record"), args.pop("program"), args.pop("today")
    granted = CertificationGranted(
        manager_id=args["manager_id"], program=args["code"], certified_on=args["certified_on"]
    )
    assert refusal(managers.grant_certification, record, program, granted, today=today) == (refused)


# -- completions -----------------------------------------------------------------------------

BILLING = activity_of(workshop())


def posting(**changes: object) -> dict[str, object]:
    return {
        "provider_id": "tma",
        "manager_id": "m-1",
        "activity_id": "tma-billing",
        "external_id": "row-1",
        "completion_id": uuid.UUID(int=1),
        "completed_on": date(2025, 5, 2),
        "ceus": Decimal(12),
        "today": TODAY,
    } | changes


@pytest.mark.parametrize(
    ("activity", "changes", "refused"),
    [
        (None, {}, (NotFound, set())),
        (BILLING, {"provider_id": "mgma"}, (NotAllowed, set())),
        (BILLING, {"manager_id": "nobody"}, (NotFound, set())),
        (BILLING, {"ceus": Decimal(0)}, (Invalid, {"ceus"})),
        (BILLING, {"ceus": Decimal("12.5")}, (Invalid, {"ceus"})),
        (BILLING, {"ceus": Decimal("1.125")}, (Invalid, {"ceus"})),
        (BILLING, {"completed_on": date(2025, 4, 30)}, (Invalid, {"completed_on"})),
        (BILLING, {"today": date(2025, 5, 1)}, (Invalid, {"completed_on"})),
    ],
    ids=[
        "unknown activity",
        "another provider's activity",
        "unknown manager",
        "no CEUs",
        "more CEUs than the activity gives",
        "three decimal places",
        "outside the activity's dates",
        "in the future",
    ],
)
def test_a_posting_is_refused(pat, activity, changes, refused):
    args = posting(**changes)
    record = pat.record() if args["manager_id"] == "m-1" else None
    message = PostCompletion(**{f: args.pop(f) for f in PostCompletion.__struct_fields__})
    assert refusal(completions.record_completion, record, activity, message, **args) == refused


def _posted(pat: Manager, posted: date = date(2025, 5, 2)) -> uuid.UUID:
    return pat.completed(date(2025, 5, 2), "12", provider="tma", posted=posted)


@pytest.mark.parametrize(
    ("provider_id", "today", "refused"),
    [
        ("mgma", date(2025, 5, 3), NotAllowed),
        ("tma", date(2025, 7, 2), NotAllowed),  # 60 days after posting
    ],
    ids=["another provider", "after the correction window"],
)
def test_a_correction_is_refused_to_whom_may_not_make_it(pat, provider_id, today, refused):
    cid = _posted(pat)
    for decision, extra in (
        (completions.void_completion, {}),
        (
            completions.amend_completion,
            {"activity": None, "ceus": Decimal(6), "completed_on": None},
        ),
    ):
        args = {"reason": "typo", "provider_id": provider_id, "today": today} | extra
        assert refusal(decision, pat.record(), "m-1", cid, PROGRAMS, **args)[0] is refused


def test_the_last_day_of_the_correction_window_is_still_open(pat):
    cid = _posted(pat)
    voided = completions.void_completion(
        pat.record(), "m-1", cid, PROGRAMS, reason="typo", provider_id="tma", today=date(2025, 7, 1)
    )
    assert len(voided) == 1


def test_a_correction_of_nothing_or_of_a_voided_completion_is_refused(pat):
    cid = _posted(pat)
    void = completions.void_completion
    assert refusal(void, pat.record(), "m-1", uuid.uuid4(), PROGRAMS, reason="x",
                   provider_id=None, today=TODAY)[0] is NotFound  # fmt: skip
    pat.do(void, TODAY, "m-1", cid, PROGRAMS, reason="x", provider_id=None, today=TODAY)
    assert refusal(void, pat.record(), "m-1", cid, PROGRAMS, reason="x",
                   provider_id=None, today=TODAY)[0] is WrongState  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"reason": " "}, {"reason"}),
        ({"ceus": None, "completed_on": None}, {"ceus"}),
        ({"ceus": Decimal(13)}, {"ceus"}),
        ({"ceus": None, "completed_on": date(2025, 5, 3)}, {"completed_on"}),
    ],
)
def test_an_amendment_is_refused_naming_the_field(pat, changes, fields):
    cid = _posted(pat)
    args = {
        "reason": "half day",
        "ceus": Decimal(6),
        "completed_on": None,
        "provider_id": None,
        "today": TODAY,
    } | changes
    assert refusal(
        completions.amend_completion, pat.record(), "m-1", cid, PROGRAMS, BILLING, **args
    ) == (Invalid, fields)


def test_a_void_needs_a_reason(pat):
    cid = _posted(pat)
    assert refusal(
        completions.void_completion,
        pat.record(), "m-1", cid, PROGRAMS, reason="", provider_id=None, today=TODAY,
    ) == (Invalid, {"reason"})  # fmt: skip


# -- fees and renewals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({"amount_cents": 0}, (Invalid, {"amount_cents"})),
        ({"amount_cents": -5}, (Invalid, {"amount_cents"})),
        ({"reference": " "}, (Invalid, {"reference"})),
        ({"manager_id": "nobody"}, (NotFound, set())),
    ],
)
def test_a_fee_is_refused(pat, changes, refused):
    args = {
        "manager_id": "m-1",
        "fee_id": uuid.uuid4(),
        "amount_cents": 7500,
        "reference": "chk",
        "today": TODAY,
    } | changes
    record = pat.record() if args["manager_id"] == "m-1" else None
    payment = PayFee(program="CMM", amount_cents=args["amount_cents"], reference=args["reference"])
    assert refusal(
        renewals.pay_fee, record, args["manager_id"], CMM, payment, fee_id=args["fee_id"],
        today=TODAY,
    ) == refused  # fmt: skip


def test_a_fee_for_a_program_the_manager_does_not_hold_is_refused(pat):
    with pytest.raises(NotFound, match="CMOM certification"):
        renewals.pay_fee(
            pat.record(), "m-1", PROGRAMS["CMOM"],
            PayFee(program="CMOM", amount_cents=1, reference="chk"), fee_id=uuid.uuid4(),
            today=TODAY,
        )  # fmt: skip


def test_filing_twice_or_before_being_ready_is_refused(pat):
    with pytest.raises(RenewalNotReady):
        pat.file("CMM", TODAY)
    pat.completed(date(2025, 1, 10), "24")
    pat.paid("CMM", TODAY)
    pat.file("CMM", TODAY)
    with pytest.raises(WrongState, match="already filed"):
        pat.file("CMM", TODAY)


APPROVE, DENY_BLANK = DecideRenewal(decision="approve"), DecideRenewal(decision="deny", reason=" ")


def test_a_decision_on_an_unknown_or_decided_renewal_or_a_denial_without_reason_is_refused(pat):
    decide = renewals.decide_renewal
    assert refusal(decide, pat.record(), "CMM", uuid.uuid4(), APPROVE)[0] is (NotFound)
    pat.completed(date(2025, 1, 10), "24")
    pat.paid("CMM", TODAY)
    filed = pat.file("CMM", TODAY)
    assert refusal(decide, pat.record(), "CMM", filed, DENY_BLANK) == (
        Invalid,
        {"reason"},
    )
    pat.approve("CMM", filed, TODAY)
    assert refusal(decide, pat.record(), "CMM", filed, APPROVE)[0] is WrongState


# -- standing --------------------------------------------------------------------------------


def test_revoking_twice_and_reinstating_what_stands_are_refused(pat):
    assert refusal(standing.reinstate, pat.record(), "CMM", reason="x")[0] is WrongState
    pat.do(standing.revoke, TODAY, "CMM", reason="misconduct")
    assert refusal(standing.revoke, pat.record(), "CMM", reason="x")[0] is WrongState
    assert refusal(standing.revoke, pat.record(), "CMOM", reason="x")[0] is NotFound


@pytest.mark.parametrize(
    "until",
    [date(2026, 3, 15), date(2026, 3, 1), date(2028, 3, 15), date(2200, 1, 1)],
    ids=["on the deadline", "before it", "at the next cycle's end", "beyond the calendar"],
)
def test_an_extension_must_move_the_deadline_later_but_not_past_the_next_cycle(pat, until):
    assert refusal(
        standing.extend_deadline,
        pat.record(),
        CMM,
        ExtendDeadline(ends_on=until, reason="leave"),
        today=TODAY,
    ) == (Invalid, {"ends_on"})


def test_a_finding_is_refused_for_a_renewal_not_drawn_unknown_or_already_found(pat):
    pat.completed(date(2025, 1, 10), "24")
    pat.paid("CMM", TODAY)
    filed = pat.file("CMM", TODAY)
    audit_id = uuid.uuid4()
    find = standing.record_finding

    def finding(renewal_id, selected):
        passed = RecordFinding(renewal_id=renewal_id, outcome="passed", note="ok")
        return refusal(find, pat.record(), "CMM", passed, audit_id=audit_id, selected=selected)

    assert finding(filed, ()) == (Invalid, {"renewal_id"})
    unknown = uuid.uuid4()
    assert finding(unknown, (unknown,))[0] is NotFound
    passed = RecordFinding(renewal_id=filed, outcome="passed", note="ok")
    pat.do(find, TODAY, "CMM", passed, audit_id=audit_id, selected=(filed,))
    assert finding(filed, (filed,))[0] is AlreadyExists
