"""Commands in, facts out: each function checks a command against the current state and
returns the events to record, or raises a DomainError carrying the reasons.  Pure: the state,
today's date and any new ids are arguments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from events.catalog import (
    ActivityRegistered,
    AuditFindingRecorded,
    CertificationGranted,
    CertificationReinstated,
    CertificationRevoked,
    CompletionAmended,
    CompletionRecorded,
    CompletionVoided,
    CountedCompletion,
    DeadlineExtended,
    Event,
    FeePaid,
    ManagerEnrolled,
    ProgramDefined,
    ProgramRulesRevised,
    ProviderRegistered,
    RenewalApproved,
    RenewalDenied,
    RenewalFiled,
    Rules,
)
from ledger.domain.assess import Assessment, assess
from ledger.domain.cycles import cycles, rules_in_force
from ledger.domain.errors import (
    AlreadyExists,
    FieldError,
    Invalid,
    NotAllowed,
    NotFound,
    RenewalNotReady,
    WrongState,
    invalid,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ledger.domain.catalogue import Activity, Program, Provider
    from ledger.domain.record import Certification, Completion, ManagerRecord

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


EARLIEST, LATEST = date(1970, 1, 1), date(2199, 12, 31)
"""The dates the ledger deals in: far enough back for any credential still held, and far
enough ahead that every cycle boundary stays a real calendar date."""


def in_range(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def valid_ceus(value: Decimal) -> str | None:
    """Why `value` is not a valid CEU amount, or None if it is."""
    if not value.is_finite() or value <= 0:
        return "must be a positive number"
    if value > 10_000:
        return "at most 10000"
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        return "at most 2 decimal places"
    return None


def _rules_errors(rules: Rules, field: str = "") -> list[FieldError]:
    checks = [
        ("cycle_months", 1 <= rules.cycle_months <= 120, "between 1 and 120"),
        (
            "required_ceus",
            valid_ceus(rules.required_ceus) is None,
            "a positive CEU amount, 2 places",
        ),
        ("grace_days", 0 <= rules.grace_days <= 366, "between 0 and 366"),
        ("fee_cents", rules.fee_cents >= 0, "must not be negative"),
        (
            "carryover_max_ceus",
            rules.carryover_max_ceus.is_finite() and 0 <= rules.carryover_max_ceus <= 10_000,
            "a number from 0 to 10000",
        ),
        (
            "audit_rate",
            rules.audit_rate.is_finite() and 0 <= rules.audit_rate <= 1,
            "between 0 and 1",
        ),
        (
            "effective_from",
            EARLIEST <= rules.effective_from <= LATEST,
            f"between {EARLIEST} and {LATEST}",
        ),
        ("correction_window_days", 0 <= rules.correction_window_days <= 3650, "0 to 3650"),
        (
            "category_minimums",
            all(valid_ceus(v) is None for v in rules.category_minimums.values())
            # (compared only with a valid requirement: NaN cannot be compared at all)
            and (
                valid_ceus(rules.required_ceus) is not None
                or sum(rules.category_minimums.values(), Decimal(0)) <= rules.required_ceus
            ),
            "positive CEU amounts adding up to at most required_ceus",
        ),
    ]
    return [FieldError(field + name, message) for name, ok, message in checks if not ok]


# -- programs, providers, activities --------------------------------------------------------


def define_program(
    existing: Program | None, *, code: str, name: str, association: str, rules: Rules
) -> list[Event]:
    if existing is not None:
        raise AlreadyExists("program", code)
    if errors := _rules_errors(rules):
        raise Invalid(errors)
    return [ProgramDefined(program=code, name=name, association=association, rules=rules)]


def revise_rules(program: Program | None, code: str, rules: Rules, *, today: date) -> list[Event]:
    """A new rule version, effective today or later: rules never change a cycle that has
    already started, and never rewrite the past."""
    if program is None:
        raise NotFound("program", code)
    errors = _rules_errors(rules)
    if rules.effective_from < today:
        errors.append(FieldError("effective_from", "must not be in the past"))
    if errors:
        raise Invalid(errors)
    if any(v.effective_from == rules.effective_from for v in program.versions):
        raise AlreadyExists("rule version effective", rules.effective_from)
    return [ProgramRulesRevised(program=code, rules=rules)]


def _unknown_programs(
    programs: tuple[str, ...], known: Mapping[str, Program] | tuple[str, ...]
) -> list[str]:
    return [p for p in programs if p not in known]


def register_provider(
    existing: Provider | None,
    programs: Mapping[str, Program],
    *,
    provider_id: str,
    name: str,
    codes: tuple[str, ...],
) -> list[Event]:
    if existing is not None:
        raise AlreadyExists("provider", provider_id)
    if unknown := _unknown_programs(codes, programs):
        raise invalid("programs", f"unknown program(s): {', '.join(unknown)}")
    if not codes:
        raise invalid("programs", "at least one program")
    return [ProviderRegistered(provider_id=provider_id, name=name, programs=codes)]


def register_activity(
    provider: Provider | None,
    existing: Activity | None,
    activity: ActivityRegistered,
    *,
    programs: Mapping[str, Program],
) -> list[Event]:
    if provider is None:
        raise NotFound("provider", activity.provider_id)
    if existing is not None:
        raise AlreadyExists("activity", activity.activity_id)
    errors: list[FieldError] = []
    if (why := valid_ceus(activity.ceus)) is not None:
        errors.append(FieldError("ceus", why))
    if activity.ends_on < activity.starts_on:
        errors.append(FieldError("ends_on", "must not be before starts_on"))
    for name, day in (("starts_on", activity.starts_on), ("ends_on", activity.ends_on)):
        if not in_range(day):
            errors.append(FieldError(name, f"between {EARLIEST} and {LATEST}"))
    if not activity.programs:
        errors.append(FieldError("programs", "at least one program"))
    if unknown := _unknown_programs(activity.programs, programs):
        errors.append(FieldError("programs", f"unknown program(s): {', '.join(unknown)}"))
    elif outside := _unknown_programs(activity.programs, provider.programs):
        errors.append(FieldError("programs", f"provider is not approved for {', '.join(outside)}"))
    if errors:
        raise Invalid(errors)
    return [activity]


# -- managers and certifications -------------------------------------------------------------


def enroll_manager(
    existing: ManagerRecord | None, *, manager_id: str, name: str, email: str
) -> list[Event]:
    if existing is not None:
        raise AlreadyExists("manager", manager_id)
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain.strip(".")):
        raise invalid("email", "not an email address")
    return [ManagerEnrolled(manager_id=manager_id, name=name, email=email)]


def _record(record: ManagerRecord | None, manager_id: str) -> ManagerRecord:
    if record is None:
        raise NotFound("manager", manager_id)
    return record


def _certification(record: ManagerRecord, program: str) -> Certification:
    cert = record.certifications.get(program)
    if cert is None:
        raise NotFound(f"{program} certification for manager", record.manager_id)
    return cert


def grant_certification(
    record: ManagerRecord | None,
    program: Program | None,
    *,
    manager_id: str,
    code: str,
    certified_on: date,
    today: date,
) -> list[Event]:
    record = _record(record, manager_id)
    if program is None:
        raise NotFound("program", code)
    if code in record.certifications:
        raise AlreadyExists(f"{code} certification for manager", manager_id)
    if certified_on > today:
        raise invalid("certified_on", "must not be in the future")
    if not in_range(certified_on):
        raise invalid("certified_on", f"must be on or after {EARLIEST}")
    return [CertificationGranted(manager_id=manager_id, program=code, certified_on=certified_on)]


# -- completions ---------------------------------------------------------------------------


def _completion_errors(
    activity: Activity, ceus: Decimal | None, completed_on: date | None, today: date
) -> list[FieldError]:
    errors: list[FieldError] = []
    if ceus is not None:
        if (why := valid_ceus(ceus)) is not None:
            errors.append(FieldError("ceus", why))
        elif ceus > activity.ceus:
            errors.append(FieldError("ceus", f"more than the activity's {activity.ceus}"))
    if completed_on is not None:
        if completed_on > today:
            errors.append(FieldError("completed_on", "must not be in the future"))
        elif not activity.starts_on <= completed_on <= activity.ends_on:
            errors.append(
                FieldError(
                    "completed_on",
                    f"outside the activity's dates {activity.starts_on}..{activity.ends_on}",
                )
            )
    return errors


def record_completion(
    record: ManagerRecord | None,
    activity: Activity | None,
    *,
    provider_id: str,
    manager_id: str,
    activity_id: str,
    external_id: str,
    completion_id: UUID,
    completed_on: date,
    ceus: Decimal,
    today: date,
) -> list[Event]:
    if activity is None:
        raise NotFound("activity", activity_id)
    if activity.provider_id != provider_id:
        raise NotAllowed(f"activity {activity_id} belongs to another provider")
    record = _record(record, manager_id)
    if errors := _completion_errors(activity, ceus, completed_on, today):
        raise Invalid(errors)
    return [
        CompletionRecorded(
            completion_id=completion_id,
            manager_id=record.manager_id,
            provider_id=provider_id,
            external_id=external_id,
            activity_id=activity_id,
            activity_title=activity.title,
            category=activity.category,
            programs=activity.programs,
            completed_on=completed_on,
            ceus=ceus,
        )
    ]


def _correctable(
    record: ManagerRecord,
    completion_id: UUID,
    programs: Mapping[str, Program],
    *,
    provider_id: str | None,
    today: date,
) -> Completion:
    """The completion, if `provider_id` (None for an association or admin) may correct it today.
    A provider may correct its own postings for the shortest correction window among the
    programs the completion counts for."""
    completion = record.completions.get(completion_id)
    if completion is None:
        raise NotFound("completion", completion_id)
    if completion.voided:
        raise WrongState(f"completion {completion_id} is voided")
    if provider_id is None:
        return completion
    if completion.provider_id != provider_id:
        raise NotAllowed("only the provider that posted a completion may correct it")
    windows = [
        rules_in_force(programs[p].versions, today).correction_window_days
        for p in completion.programs
        if p in programs
    ]
    closes = completion.posted_at.date() + timedelta(days=min(windows, default=0))
    if today > closes:
        raise NotAllowed(f"the correction window closed on {closes}; ask the association")
    return completion


def void_completion(
    record: ManagerRecord | None,
    manager_id: str,
    completion_id: UUID,
    programs: Mapping[str, Program],
    *,
    reason: str,
    provider_id: str | None,
    today: date,
) -> list[Event]:
    record = _record(record, manager_id)
    _correctable(record, completion_id, programs, provider_id=provider_id, today=today)
    if not reason.strip():
        raise invalid("reason", "must not be empty")
    return [
        CompletionVoided(completion_id=completion_id, manager_id=record.manager_id, reason=reason)
    ]


def amend_completion(
    record: ManagerRecord | None,
    manager_id: str,
    completion_id: UUID,
    programs: Mapping[str, Program],
    activity: Activity | None,
    *,
    reason: str,
    ceus: Decimal | None,
    completed_on: date | None,
    provider_id: str | None,
    today: date,
) -> list[Event]:
    record = _record(record, manager_id)
    _correctable(record, completion_id, programs, provider_id=provider_id, today=today)
    errors: list[FieldError] = []
    if not reason.strip():
        errors.append(FieldError("reason", "must not be empty"))
    if ceus is None and completed_on is None:
        errors.append(FieldError("ceus", "give ceus, completed_on or both"))
    if activity is not None:
        errors += _completion_errors(activity, ceus, completed_on, today)
    if errors:
        raise Invalid(errors)
    return [
        CompletionAmended(
            completion_id=completion_id,
            manager_id=record.manager_id,
            reason=reason,
            ceus=ceus,
            completed_on=completed_on,
        )
    ]


# -- fees, renewals, standing ----------------------------------------------------------------


def assess_program(record: ManagerRecord, program: Program, today: date) -> Assessment:
    cert = _certification(record, program.code)
    return assess(cert, list(record.completions.values()), program.versions, today)


def pay_fee(
    record: ManagerRecord | None,
    manager_id: str,
    program: Program,
    *,
    amount_cents: int,
    reference: str,
    today: date,
) -> list[Event]:
    """A fee counts for the cycle being renewed (the one `status` shows)."""
    record = _record(record, manager_id)
    if amount_cents <= 0:
        raise invalid("amount_cents", "must be positive")
    if not reference.strip():
        raise invalid("reference", "must not be empty")
    cycle = assess_program(record, program, today).focus.cycle.number
    return [
        FeePaid(
            manager_id=manager_id,
            program=program.code,
            cycle=cycle,
            amount_cents=amount_cents,
            reference=reference,
        )
    ]


def file_renewal(
    record: ManagerRecord | None,
    manager_id: str,
    program: Program,
    *,
    renewal_id: UUID,
    today: date,
) -> list[Event]:
    record = _record(record, manager_id)
    assessment = assess_program(record, program, today)
    focus = assessment.focus
    if focus.renewal is not None and focus.renewal.state in ("filed", "approved"):
        raise WrongState(
            f"a renewal for cycle {focus.cycle.number} is already {focus.renewal.state}"
        )
    if not assessment.renewal_ready:
        why = (
            f"the certification is {assessment.status}"
            if assessment.status in ("lapsed", "revoked")
            else ("requirements not met")
        )
        raise RenewalNotReady(assessment.status, assessment.shortfalls, why)
    counted = [a for a in assessment.allocations if a.counted]
    return [
        RenewalFiled(
            renewal_id=renewal_id,
            manager_id=manager_id,
            program=program.code,
            cycle=focus.cycle.number,
            ceus=focus.earned,
            carried_over=focus.carried_in,
            completions=tuple(
                CountedCompletion(completion_id=a.completion_id, ceus=a.ceus, category=a.category)
                for a in counted
            ),
            fee_paid_cents=focus.fee_paid_cents,
        )
    ]


def decide_renewal(
    record: ManagerRecord, program: str, renewal_id: UUID, *, approve: bool, reason: str
) -> list[Event]:
    renewal = _certification(record, program).renewal(renewal_id)
    if renewal is None:
        raise NotFound("renewal", renewal_id)
    if renewal.state != "filed":
        raise WrongState(f"renewal {renewal_id} is already {renewal.state}")
    if not approve and not reason.strip():
        raise invalid("reason", "a denial needs a reason")
    fields = {
        "renewal_id": renewal_id,
        "manager_id": record.manager_id,
        "program": program,
        "cycle": renewal.cycle,
    }
    return [
        RenewalApproved(**fields, reason=reason)
        if approve
        else RenewalDenied(**fields, reason=reason)
    ]


def revoke(
    record: ManagerRecord, program: str, *, reason: str, audit_id: UUID | None = None
) -> list[Event]:
    if _certification(record, program).revoked:
        raise WrongState(f"the {program} certification is already revoked")
    return [
        CertificationRevoked(
            manager_id=record.manager_id, program=program, reason=reason, audit_id=audit_id
        )
    ]


def reinstate(record: ManagerRecord, program: str, *, reason: str) -> list[Event]:
    if not _certification(record, program).revoked:
        raise WrongState(f"the {program} certification is not revoked")
    return [CertificationReinstated(manager_id=record.manager_id, program=program, reason=reason)]


def extend_deadline(
    record: ManagerRecord, program: Program, *, until: date, reason: str, today: date
) -> list[Event]:
    """Give the cycle being renewed more time; the next cycle's count then starts at `until`."""
    focus = assess_program(record, program, today).focus
    if until <= focus.deadline:
        raise invalid("extended_until", f"must be after the current deadline {focus.deadline}")
    if not in_range(until):
        raise invalid("extended_until", f"must be on or before {LATEST}")
    certified_on = record.certifications[program.code].certified_on
    following = next(
        c for c in cycles(certified_on, program.versions) if c.number > focus.cycle.number
    )
    if until >= following.ends_on:
        raise invalid("extended_until", f"must be before the next cycle ends ({following.ends_on})")
    return [
        DeadlineExtended(
            manager_id=record.manager_id,
            program=program.code,
            cycle=focus.cycle.number,
            extended_until=until,
            reason=reason,
        )
    ]


def record_finding(
    record: ManagerRecord,
    program: str,
    *,
    audit_id: UUID,
    selected: tuple[UUID, ...],
    renewal_id: UUID,
    passed: bool,
    note: str,
) -> list[Event]:
    """A finding on a renewal drawn in an audit; a failed one revokes the certification."""
    if renewal_id not in selected:
        raise invalid("renewal_id", f"renewal {renewal_id} was not selected in audit {audit_id}")
    renewal = _certification(record, program).renewal(renewal_id)
    if renewal is None:
        raise NotFound("renewal", renewal_id)
    if any(f.audit_id == audit_id for f in renewal.findings):
        raise AlreadyExists(f"finding of audit {audit_id} for renewal", renewal_id)
    finding = AuditFindingRecorded(
        audit_id=audit_id,
        renewal_id=renewal_id,
        manager_id=record.manager_id,
        program=program,
        outcome="passed" if passed else "failed",
        note=note,
    )
    if passed or _certification(record, program).revoked:
        return [finding]
    return [finding, *revoke(record, program, reason=f"failed audit: {note}", audit_id=audit_id)]
