"""The admin's page: tokens (create, list, revoke), programs and their rule versions (add one),
providers (register one).

A new token is shown once, on a page reached by a redirect (POST/redirect/GET): the secret
waits in the encrypted session until that page takes it out, so reloading the page shows
"already shown" and never creates a second live token.  Revoking a token cannot be undone,
so the list links to a page that asks for confirmation; only its form revokes."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from events.catalog import Rules, Source
from ledger.access.tokens import TokenEntry, TokenStore
from ledger.commands import Ledger, catalogue
from ledger.commands.messages import DefineProgram, IssueToken, RegisterProvider, RuleVersion
from ledger.documents.filters import day
from ledger.domain.errors import DomainError, NotFound
from ledger.http.authn import SESSION_GUARDED
from ledger.http.guards import admin
from ledger.http.injected import LedgerDep, ReadsDep, RequestContext, TokensDep
from ledger.queries.reads import Reads
from ledger.web.forms import FormInvalid, errors_of, form_values, parse_form
from ledger.web.session import Viewer, flash, page_context, viewer

__all__ = ["AdminPages", "scope_in_words"]

TOKEN_LABELS = {
    "role": "the role",
    "provider_id": "the provider id",
    "manager_id": "the manager id",
    "programs": "the programs",
}
PROGRAM_LABELS = {"code": "the program code", "name": "the name", "association": "the association"}
NEW_PROGRAM = "new-program"
"""The form key of "Define a program"; its rules start as the demo's (core and general)."""
NEW_CATEGORIES = ("core", "general")
PROVIDER_LABELS = {"provider_id": "the provider id", "name": "the name", "programs": "programs"}
RULE_LABELS = {
    "effective_from": "the first day the rules apply",
    "cycle_months": "the cycle's length in months",
    "required_ceus": "the CEUs required",
    "grace_days": "the grace days",
    "fee_cents": "the fee",
    "carryover_max_ceus": "the CEUs that may carry over",
    "audit_rate": "the audit rate",
    "correction_window_days": "the correction window",
}
NEW_TOKEN = "new_token"
"""The session key under which a token just created waits for its one showing."""
ROLES = {"admin": "administrator"}
"""A role's name in a sentence, where it is not the role's own word."""
MADE_BY = {"ceu-ledger": "the ceu-ledger command", "demo": "the demo data"}
"""Who made a token when no token did."""


def scope_in_words(entry: TokenEntry) -> str:
    """ "manager token for kim-grace", "auditor token for CMM and CMOM"."""
    role = ROLES.get(entry.role, str(entry.role))
    scope = entry.provider_id or entry.manager_id or " and ".join(entry.programs)
    return f"{role} token for {scope}" if scope else f"{role} token"


def _creator(entry: TokenEntry, by_id: dict[str, TokenEntry]) -> str:
    """Who made a token, as a person reads it: the creator's token is named by its role and
    scope, the command line as such; never a bare id."""
    creator = by_id.get(entry.created_by)
    if creator is not None:
        return f"the {scope_in_words(creator)} made on {day(creator.created_at)}"
    if entry.created_by in MADE_BY:
        return MADE_BY[entry.created_by]
    try:
        UUID(entry.created_by)
    except ValueError:
        return entry.created_by
    return "a token no longer listed"


_ProgramNames: Any = msgspec.defstruct(
    "_ProgramNames",
    [(f.name, f.type) for f in msgspec.structs.fields(DefineProgram) if f.name != "rules"],
    kw_only=True,
)
"""A program's names as POST /v1/programs checks them; its rules come from the rule fields,
which the form spells as people do (a fee in dollars, the audit rate in percent)."""


def _no_such(message: str) -> str:
    """ "the ledger has no manager nobody" -> "There is no manager nobody"."""
    return "There is no " + message.removeprefix("the ledger has no ")


def _scope_errors(body: IssueToken) -> dict[str, str]:
    """The checks of TokensController.create, in words."""
    errors = {}
    if (body.role == "provider") != (body.provider_id is not None):
        errors["provider_id"] = "Enter a provider id for a provider token, and only for one"
    if (body.role == "manager") != (body.manager_id is not None):
        errors["manager_id"] = "Enter a manager id for a manager token, and only for one"
    if (body.role == "auditor") != bool(body.programs):
        errors["programs"] = "Enter the programs of an auditor token, and only of one"
    return errors


def _rule_values(rules: Rules | None) -> dict[str, str]:
    """The add-a-rule-version form, filled with the latest version's rules."""
    if rules is None:
        return {}
    values = {
        "cycle_months": str(rules.cycle_months),
        "required_ceus": str(rules.required_ceus),
        "grace_days": str(rules.grace_days),
        "fee": f"{Decimal(rules.fee_cents) / 100:.2f}",
        "carryover_max_ceus": str(rules.carryover_max_ceus),
        "audit_percent": f"{(rules.audit_rate * 100).normalize():f}",
        "correction_window_days": str(rules.correction_window_days),
    }
    for category in rules.categories:
        values[f"min_{category}"] = str(rules.category_minimums.get(category, Decimal(0)))
    values |= _source_values(rules)
    return values


SOURCES: tuple[Source, ...] = ("approved", "provider", "self")


def _source_values(rules: Rules) -> dict[str, str]:
    """The sources of credit's minimums and maximums (SPEC 12), empty for none."""
    values = {f"src_min_{s}": str(v) for s, v in rules.source_minimums.items()}
    return values | {f"src_max_{s}": str(v) for s, v in rules.source_maximums.items()}


def _source_rules(
    values: dict[str, Any], errors: dict[str, str]
) -> tuple[dict[Source, Decimal], dict[Source, Decimal]]:
    """The sources' minimums and maximums typed (empty for none); a mistake into `errors`."""
    found: tuple[dict[Source, Decimal], dict[Source, Decimal]] = ({}, {})
    for bound, into in (("min", found[0]), ("max", found[1])):
        for source in SOURCES:
            typed = str(values.get(f"src_{bound}_{source}", "") or "").strip()
            if not typed:
                continue
            what = f"the {'minimum' if bound == 'min' else 'maximum'} {source} CEUs, such as 12"
            amount = _plain_number(typed, what, 2)
            if isinstance(amount, str):
                errors[f"src_{bound}_{source}"] = amount
            elif amount > 0:
                into[source] = amount
    return found


def _rule_version(values: dict[str, Any], categories: tuple[str, ...]) -> Rules:
    """The form as the API's body: the fee typed in dollars, the audit rate in percent, a
    minimum per category of the latest version (the categories stay as they are)."""
    errors: dict[str, str] = {}
    given = {k: v for k, v in values.items() if k in RULE_LABELS}
    fee = _plain_number(values.get("fee", ""), "the fee in dollars, such as 75.00", 2)
    if isinstance(fee, str):
        errors["fee"] = fee
    else:
        given["fee_cents"] = str(int(fee * 100))
    rate = _plain_number(
        values.get("audit_percent", ""), "the audit rate in percent, such as 10", 4
    )
    if isinstance(rate, str):
        errors["audit_percent"] = rate
    elif rate > 100:
        errors["audit_percent"] = "Enter the audit rate in percent, from 0 to 100"
    else:
        given["audit_rate"] = f"{(rate / 100).normalize():f}"
    minimums: dict[str, Decimal] = {}
    for category in categories:
        found = _plain_number(
            values.get(f"min_{category}", "") or "0", f"the minimum {category} CEUs, such as 6", 2
        )
        if isinstance(found, str):
            errors[f"min_{category}"] = found
        elif found > 0:
            minimums[category] = found
    source_minimums, source_maximums = _source_rules(values, errors)
    try:
        body = parse_form(given, RuleVersion, RULE_LABELS)
    except FormInvalid as exc:
        errors = {("fee" if k == "fee_cents" else k): v for k, v in exc.errors.items()} | errors
        if "audit_rate" in errors:
            errors["audit_percent"] = errors.pop("audit_rate")
        raise FormInvalid(errors) from exc
    if errors:
        raise FormInvalid(errors)
    if not (body.required_ceus.is_finite() and body.carryover_max_ceus.is_finite()):
        raise FormInvalid({"required_ceus": "Enter the CEUs required as a number"})
    return msgspec.structs.replace(
        msgspec.convert(body, Rules, from_attributes=True),
        categories=categories,
        category_minimums=minimums,
        source_minimums=source_minimums,
        source_maximums=source_maximums,
    )


def _plain_number(text: str, what: str, places: int) -> Decimal | str:
    """`text` as a number of 0 or more with at most `places` places, or the message to show."""
    if not text:
        return f"Enter {what}"
    if "," in text:
        return f"Enter {what}: use a dot for decimals"
    try:
        number = Decimal(text.removeprefix("$"))
    except InvalidOperation:
        return f"Enter {what}"
    exponent = number.as_tuple().exponent
    if not number.is_finite() or number < 0 or "e" in text.lower():
        return f"Enter {what}"
    if isinstance(exponent, int) and -exponent > places:
        return f"Enter {what}, with at most {places} decimal places"
    return number


async def _tokens(tokens: TokenStore) -> list[TokenEntry]:
    """Every token, newest first (GET /v1/tokens is oldest first)."""
    return (await tokens.entries())[::-1]


async def admin_page(
    request: Request[Any, Any, Any],
    principal: Viewer,
    tokens: TokenStore,
    reads: Reads,
    ledger: Ledger,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Template:
    entries = await _tokens(tokens)
    by_id = {str(t.token_id): t for t in entries}
    programs = await reads.programs()
    rule_values = {
        f"rules-{p.code}": _rule_values(p.rules[-1] if p.rules else None) for p in programs
    }
    rule_values[NEW_PROGRAM] = {
        "cycle_months": "24", "grace_days": "30", "audit_percent": "10",
        "correction_window_days": "60", "carryover_max_ceus": "0", "min_core": "0",
        "min_general": "0", "effective_from": str(ledger.today()),
    }  # fmt: skip
    context = {
        **page_context(request, principal),
        "new_categories": NEW_CATEGORIES,
        "tokens": [(t, scope_in_words(t), _creator(t, by_id)) for t in entries],
        "programs": programs,
        "providers": await reads.providers(),
        "today": ledger.today(),
        "errors": errors or {},
        "values": rule_values | (values or {}),
    }
    return Template("admin.html", context=context, status_code=status_code)


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False
    dependencies = {"principal": Provide(viewer)}
    guards = [admin]
    opt = {SESSION_GUARDED: True}

    @get("/")
    async def page(
        self, request: Request[Any, Any, Any], principal: Viewer, tokens: TokensDep,
        reads: ReadsDep, ledger: LedgerDep,
    ) -> Template:  # fmt: skip
        return await admin_page(request, principal, tokens, reads, ledger)

    @post("/tokens", status_code=303)
    async def create_token(
        self, request: Request[Any, Any, Any], principal: Viewer, tokens: TokensDep,
        reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        values = form_values(await request.form(), lists=("programs",))
        try:
            body = parse_form(values, IssueToken, TOKEN_LABELS)
            if errors := _scope_errors(body):
                raise FormInvalid(errors)
            unknown = await tokens.unknown_scope(
                provider_id=body.provider_id,
                manager_id=body.manager_id,
                programs=body.programs,
            )
            if unknown:
                raise FormInvalid({e.field.split("[")[0]: _no_such(e.message) for e in unknown})
            created = await tokens.create(
                role=body.role,
                created_by=principal.actor.id,
                provider_id=body.provider_id,
                manager_id=body.manager_id,
                programs=tuple(body.programs),
            )
        except FormInvalid as exc:
            values["programs"] = " ".join(values.get("programs", []))
            return await admin_page(
                request,
                principal,
                tokens,
                reads,
                ledger,
                errors={"token": exc.errors},
                values={"token": values},
                status_code=422,
            )
        shown = {"token": created.token, "scope": scope_in_words(created)}
        request.set_session({**(request.session or {}), NEW_TOKEN: shown})
        return Redirect("/admin/tokens/new", status_code=303)

    @get("/tokens/new")
    async def new_token(self, request: Request[Any, Any, Any], principal: Viewer) -> Template:
        """The token just created, once: the session gives it up as the page is made."""
        session = dict(request.session or {})
        created = session.pop(NEW_TOKEN, None)
        if created is not None:
            request.set_session(session)
        context = {**page_context(request, principal), "created": created}
        return Template("admin_new_token.html", context=context)

    @get("/tokens/{token_id:uuid}/revoke")
    async def confirm_revoke(
        self, request: Request[Any, Any, Any], token_id: FromPath[UUID], principal: Viewer,
        tokens: TokensDep,
    ) -> Template:  # fmt: skip
        entry = next((t for t in await _tokens(tokens) if t.token_id == token_id), None)
        if entry is None:
            raise NotFound("token", token_id)
        context = {
            **page_context(request, principal),
            "entry": entry,
            "scope": scope_in_words(entry),
        }
        return Template("admin_revoke_token.html", context=context)

    @post("/tokens/{token_id:uuid}/revoke", status_code=303)
    async def revoke_token(
        self, request: Request[Any, Any, Any], token_id: FromPath[UUID], principal: Viewer,
        tokens: TokensDep,
    ) -> Redirect:  # fmt: skip
        before = next((t for t in await _tokens(tokens) if t.token_id == token_id), None)
        if before is None:
            flash(request, "There is no such token.")
        elif before.revoked_at is not None:
            flash(
                request,
                f"The {scope_in_words(before)} was already revoked on {day(before.revoked_at)}.",
            )
        else:
            await tokens.revoke(token_id)
            flash(request, f"The {scope_in_words(before)} is revoked: it no longer opens anything.")
        return Redirect("/admin#tokens", status_code=303)

    @post("/programs/{code:str}/rules", status_code=303)
    async def add_rule_version(
        self, request: Request[Any, Any, Any], code: FromPath[str], principal: Viewer,
        tokens: TokensDep, reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        values = form_values(await request.form())
        programs = {p.code: p for p in await reads.programs()}
        if code not in programs or not programs[code].rules:
            raise NotFound("program", code)
        try:
            rules = _rule_version(values, programs[code].rules[-1].categories)
            await catalogue.revise_rules(ledger, ctx, code, rules)
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            if "audit_rate" in found:
                found["audit_percent"] = found.pop("audit_rate")
            if "fee_cents" in found:
                found["fee"] = found.pop("fee_cents")
            key = f"rules-{code}"
            return await admin_page(
                request, principal, tokens, reads, ledger, errors={key: found},
                values={key: values}, status_code=422,
            )  # fmt: skip
        flash(request, f"The {code} rules from {day(rules.effective_from)} are recorded.")
        return Redirect(f"/admin#program-{code}", status_code=303)

    @post("/programs", status_code=303)
    async def define_program(
        self, request: Request[Any, Any, Any], principal: Viewer, tokens: TokensDep,
        reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        values = form_values(await request.form())
        try:
            errors: dict[str, str] = {}
            body: Any = None
            try:
                body = parse_form(values, _ProgramNames, PROGRAM_LABELS)
            except FormInvalid as exc:
                errors = exc.errors
            try:
                rules = _rule_version(values, NEW_CATEGORIES)
            except FormInvalid as exc:
                errors |= exc.errors
            if errors:
                raise FormInvalid(errors)
            await catalogue.define_program(ledger, ctx, catalogue.program_of(body, rules))
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            return await admin_page(request, principal, tokens, reads, ledger,
                                    errors={NEW_PROGRAM: found},
                                    values={NEW_PROGRAM: values}, status_code=422)  # fmt: skip
        flash(request, f"The program {body.code}, {body.name}, is defined.")
        return Redirect(f"/admin#program-{body.code}", status_code=303)

    @post("/providers", status_code=303)
    async def register_provider(
        self, request: Request[Any, Any, Any], principal: Viewer, tokens: TokensDep,
        reads: ReadsDep, ledger: LedgerDep, ctx: RequestContext,
    ) -> Template | Redirect:  # fmt: skip
        values = form_values(await request.form(), lists=("programs",))
        try:
            body = parse_form(values, RegisterProvider, PROVIDER_LABELS)
            await catalogue.register_provider(ledger, ctx, body)
        except (FormInvalid, DomainError) as exc:
            found = exc.errors if isinstance(exc, FormInvalid) else errors_of(exc)
            values["programs"] = " ".join(values.get("programs", []))
            return await admin_page(
                request,
                principal,
                tokens,
                reads,
                ledger,
                errors={"provider": found},
                values={"provider": values},
                status_code=422,
            )
        flash(request, f"{body.name} is registered as provider {body.provider_id}.")
        return Redirect("/admin#providers", status_code=303)
