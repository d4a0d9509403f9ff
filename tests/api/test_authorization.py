"""Who may call what: every endpoint of SPEC section 6 against every caller, as one table.

A cell is the status that caller gets: the endpoint's own answer where the "who" column lets
the caller in, 401 without a token or with a bad one, 403 outside the caller's scope.  Admin is
allowed where the column names admin, and nowhere else.  "auditor" on a program's resources
(fees, certifications, corrections, the register, audits) means an auditor of that program.

Each row is one test on a fresh world; the callers take turns in the column order, so a row
whose call changes something makes a fresh target for each caller (`given`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.world import ADMIN_TOKEN, World, assert_problem

CALLERS = ("none", "bad", "admin", "tma", "mgma", "m1", "m2", "cmm_auditor", "cmom_auditor")
BAD_TOKEN = "ceu_this-token-was-never-issued"

Names = dict[str, str]


class Given:
    """What must exist before a call, made with the world's tokens; `caller` names the target
    where each caller needs its own."""

    def __init__(self, world: World) -> None:
        self.world, self.api = world, world.api
        self._once: dict[str, Names] = {}

    async def a_completion(self, caller: str) -> Names:
        """The same completion for everybody (an identical retry returns the same receipt)."""
        response = await self.api.post_completion(self.world.tma, "read-me")
        assert response.status_code in (200, 201), response.text
        return {"completion": response.json()["id"]}

    async def _activity(self, provider: str, token: str, activity_id: str, **fields: Any) -> None:
        """An activity of its own for each caller: the same one on the same day is recorded
        only once per manager (SPEC section 3)."""
        body = {
            "activity_id": activity_id, "title": "Fix", "format": "online", "ceus": "12",
            "category": "core", "programs": ["CMM", "CMOM"],
            "starts_on": "2026-01-01", "ends_on": "2026-12-31",
        } | fields  # fmt: skip
        await self.api.ok(await self.api.post(f"/v1/providers/{provider}/activities", token, body))

    async def a_fresh_completion(self, caller: str) -> Names:
        """tma's posting of a CMM and CMOM activity for m-1, one per caller."""
        await self._activity("tma", self.world.tma, f"fix-{caller}")
        response = await self.api.post_completion(
            self.world.tma, f"fix-{caller}", activity_id=f"fix-{caller}", ceus="3"
        )
        return {"completion": (await self.api.ok(response))["id"]}

    async def a_fresh_cmm_only_completion(self, caller: str) -> Names:
        """mgma's posting of a CMM-only activity for m-1, one per caller."""
        await self._activity("mgma", self.world.mgma, f"hr-{caller}", programs=["CMM"])
        response = await self.api.post_completion(
            self.world.mgma, f"hr-{caller}", activity_id=f"hr-{caller}", completed_on="2026-03-02"
        )
        return {"completion": (await self.api.ok(response))["id"]}

    async def a_fresh_manager(self, caller: str) -> Names:
        body = {"manager_id": f"new-{caller}", "name": "New", "email": "new@example.org"}
        await self.api.ok(await self.api.post("/v1/managers", self.world.admin, body))
        return {"manager": f"new-{caller}"}

    async def m2_ready_to_renew(self, caller: str) -> Names:
        """m-2's CMM cycle ended on 2026-06-01 (grace to 2026-07-01): 24 CEUs and the fee."""
        if "ready" not in self._once:
            world, api = self.world, self.api
            law = {
                "activity_id": "tma-law", "title": "Health law", "format": "online",
                "ceus": "12", "category": "general", "programs": ["CMM"],
                "starts_on": "2026-01-01", "ends_on": "2026-12-31",
            }  # fmt: skip
            await api.ok(await api.post("/v1/providers/tma/activities", world.tma, law))
            for external_id, activity_id in (("m2-billing", "tma-billing"), ("m2-law", "tma-law")):
                await api.ok(
                    await api.post_completion(
                        world.tma, external_id, manager_id="m-2", activity_id=activity_id, ceus="12"
                    )
                )
            fee = {"program": "CMM", "amount_cents": 7500, "reference": "cheque 1001"}
            await api.ok(await api.post("/v1/managers/m-2/fees", world.cmm_auditor, fee))
            self._once["ready"] = {}
        return self._once["ready"]

    async def a_cmm_renewal(self, caller: str) -> Names:
        if "renewal" not in self._once:
            await self.m2_ready_to_renew(caller)
            response = await self.api.post("/v1/managers/m-2/renewals", self.world.m2, RENEWAL)
            self._once["renewal"] = {"renewal": (await self.api.ok(response))["renewal_id"]}
        return self._once["renewal"]

    async def a_cmm_audit(self, caller: str) -> Names:
        """An audit of June's CMM renewals that selects m-2's (rate 1)."""
        if "audit" not in self._once:
            renewal = await self.a_cmm_renewal(caller)
            response = await self.api.post("/v1/programs/CMM/audits", self.world.cmm_auditor, AUDIT)
            self._once["audit"] = renewal | {"audit": (await self.api.ok(response))["audit_id"]}
        return self._once["audit"]

    async def a_fresh_token(self, caller: str) -> Names:
        """A manager token of m-2, one per caller (to be revoked)."""
        response = await self.api.post("/v1/tokens", self.world.admin, TOKEN)
        return {"token": (await self.api.ok(response))["token_id"]}

    # -- for the routes added with issue 8 -----------------------------------------------

    async def a_fresh_cmm_manager(self, caller: str) -> Names:
        """A manager of its own per caller, CMM since 2026-01-10 (cycle 1 ends 2028-01-10)."""
        manager_id = f"cmm-{caller}"
        await self.api.enrol_person(manager_id, "Kim", "kim@example.org", CMM="2026-01-10")
        return {"manager": manager_id}

    async def a_fresh_revoked_cmm_manager(self, caller: str) -> Names:
        names = await self.a_fresh_cmm_manager(caller)
        response = await self.api.revoke_certification(
            self.world.cmm_auditor, names["manager"], "CMM"
        )
        await self.api.ok(response)
        return names

    async def a_cmm_fee(self, caller: str) -> Names:
        """m-2's CMM fee, paid once for every caller (each refunds 1 cent of it)."""
        if "fee" not in self._once:
            self._once["fee"] = {"fee": (await self.api.pay_fee("m-2", "CMM"))["fee_id"]}
        return self._once["fee"]


Body = Any | Callable[[Names], Any]
"""A literal body, or one made from the names (`caller` and what `given` made)."""


@dataclass(frozen=True)
class Row:
    endpoint: str
    expected: tuple[int, ...]
    body: Body = None
    query: dict[str, str] = field(default_factory=dict)
    given: Callable[[Given, str], Awaitable[Names]] | None = None
    on: str = ""
    """What the row is about, where the endpoint alone does not say."""

    def __str__(self) -> str:
        return f"{self.endpoint} on {self.on}" if self.on else self.endpoint


def row(endpoint: str, *expected: int, **options: Any) -> Row:
    assert len(expected) == len(CALLERS), endpoint
    return Row(endpoint, expected, **options)


TOKEN = {"role": "manager", "manager_id": "m-2"}
RULES = {"cycle_months": 12, "required_ceus": "12", "grace_days": 30, "fee_cents": 7500}
PROGRAM = {
    "code": "CPM", "name": "Certified Practice Manager", "association": "PMI",
    "rules": RULES | {"effective_from": "2026-01-01"},
}  # fmt: skip
RENEWAL = {"program": "CMM"}
AUDIT = {"filed_from": "2026-06-01", "filed_to": "2026-06-30", "rate": "1", "seed": 7}
CORRECTION = {"reason": "posted for the wrong day", "completed_on": "2026-05-19"}


def activity(names: Names) -> dict[str, Any]:
    return {
        "activity_id": f"tma-{names['caller']}", "title": "Coding clinic", "format": "webinar",
        "ceus": "2", "category": "core", "programs": ["CMOM"],
        "starts_on": "2026-04-01", "ends_on": "2026-04-30",
    }  # fmt: skip


def manager(names: Names) -> dict[str, Any]:
    return {"manager_id": f"m-{names['caller']}", "name": "Ann", "email": "ann@example.org"}


def completion(names: Names) -> dict[str, Any]:
    """tma-billing for m-1: its poster is tma, so mgma may not post it."""
    return {
        "external_id": f"row-{names['caller']}", "manager_id": "m-1",
        "activity_id": "tma-billing", "completed_on": "2026-05-20", "ceus": "6",
    }  # fmt: skip


def batch(names: Names) -> dict[str, Any]:
    """A roster is answered item by item: mgma's item is rejected inside a 200."""
    return {"items": [completion(names)]}


def fee(names: Names) -> dict[str, Any]:
    return {"program": "CMM", "amount_cents": 7500, "reference": f"cheque {names['caller']}"}


def finding(names: Names) -> dict[str, Any]:
    return {"renewal_id": names["renewal"], "outcome": "passed", "note": "records match"}


# fmt: off
MATRIX = [
    #                                             none bad  admin tma mgma m1   m2   CMM  CMOM
    row("POST /v1/tokens",                         401, 401, 201, 403, 403, 403, 403, 403, 403,
        body=TOKEN),
    row("GET /v1/tokens",                          401, 401, 200, 403, 403, 403, 403, 403, 403),
    row("POST /v1/tokens/{token}/revoke",          401, 401, 200, 403, 403, 403, 403, 403, 403,
        given=Given.a_fresh_token),
    row("GET /v1/programs",                        401, 401, 200, 200, 200, 200, 200, 200, 200),
    row("GET /v1/programs/CMM",                    401, 401, 200, 200, 200, 200, 200, 200, 200),
    row("POST /v1/programs",                       401, 401, 201, 403, 403, 403, 403, 403, 403,
        body=PROGRAM),
    row("POST /v1/programs/CMOM/rules",            401, 401, 201, 403, 403, 403, 403, 403, 403,
        body=RULES | {"effective_from": "2026-07-01"}),
    row("POST /v1/providers",                      401, 401, 201, 403, 403, 403, 403, 403, 403,
        body={"provider_id": "ahima", "name": "AHIMA", "programs": ["CMM"]}),
    # mgma registering an activity under tma's path: 403.
    row("POST /v1/providers/tma/activities",       401, 401, 201, 201, 403, 403, 403, 403, 403,
        body=activity),
    row("POST /v1/managers",                       401, 401, 201, 403, 403, 403, 403, 201, 201,
        body=manager),
    # Granting CMOM: the CMM auditor is outside CMOM.
    row("POST /v1/managers/{manager}/certifications",
                                                   401, 401, 201, 403, 403, 403, 403, 403, 201,
        body={"program": "CMOM", "certified_on": "2026-06-01"}, given=Given.a_fresh_manager),
    # mgma posting for tma's activity: 403.
    row("POST /v1/completions",                    401, 401, 403, 201, 403, 403, 403, 403, 403,
        body=completion),
    row("POST /v1/completions/batch",              401, 401, 403, 200, 200, 403, 403, 403, 403,
        body=batch),
    row("GET /v1/completions/{completion}",        401, 401, 200, 200, 403, 200, 403, 200, 200,
        given=Given.a_completion),
    # It counts for CMM and CMOM (m-1 holds both): an auditor of one of them may not move the
    # other's figures (SPEC 6: an auditor of every program it counts for).
    row("POST /v1/completions/{completion}/void",  401, 401, 200, 200, 403, 403, 403, 403, 403,
        body={"reason": "posted twice"}, given=Given.a_fresh_completion),
    row("POST /v1/completions/{completion}/amend", 401, 401, 200, 200, 403, 403, 403, 403, 403,
        body=CORRECTION, given=Given.a_fresh_completion),
    # A CMM-only completion is outside the CMOM auditor's scope, and tma did not post it.
    row("POST /v1/completions/{completion}/void",  401, 401, 200, 403, 200, 403, 403, 200, 403,
        body={"reason": "posted twice"}, given=Given.a_fresh_cmm_only_completion,
        on="a CMM-only completion"),
    # m-2 reading m-1's record: 403; the CMOM auditor asking for m-1's CMM: 403.
    row("GET /v1/managers/m-1/status",             401, 401, 200, 403, 403, 200, 403, 200, 200),
    row("GET /v1/managers/m-1/status/explain",     401, 401, 200, 403, 403, 200, 403, 200, 403,
        query={"program": "CMM"}),
    row("GET /v1/managers/m-1/transcript",         401, 401, 200, 403, 403, 200, 403, 200, 200),
    row("GET /v1/managers/m-1/cycles",             401, 401, 200, 403, 403, 200, 403, 200, 403,
        query={"program": "CMM"}),
    row("GET /v1/managers/m-1/notices",            401, 401, 200, 403, 403, 200, 403, 200, 200),
    row("POST /v1/managers/m-2/fees",              401, 401, 201, 403, 403, 403, 403, 201, 403,
        body=fee),
    # m-1 filing m-2's renewal: 403; nobody but m-2 files it, not even an admin.
    row("POST /v1/managers/m-2/renewals",          401, 401, 403, 403, 403, 403, 201, 403, 403,
        body=RENEWAL, given=Given.m2_ready_to_renew),
    # The CMOM auditor deciding a CMM renewal: 403.
    row("POST /v1/renewals/{renewal}/decision",    401, 401, 403, 403, 403, 403, 403, 200, 403,
        body={"decision": "approve", "reason": "complete"}, given=Given.a_cmm_renewal),
    row("GET /v1/programs/CMM/renewals",           401, 401, 403, 403, 403, 403, 403, 200, 403),
    row("GET /v1/programs/CMM/due",                401, 401, 403, 403, 403, 403, 403, 200, 403),
    row("POST /v1/programs/CMM/audits",            401, 401, 403, 403, 403, 403, 403, 201, 403,
        body=AUDIT, given=Given.a_cmm_renewal),
    row("GET /v1/audits/{audit}",                  401, 401, 403, 403, 403, 403, 403, 200, 403,
        given=Given.a_cmm_audit),
    row("POST /v1/audits/{audit}/findings",        401, 401, 403, 403, 403, 403, 403, 201, 403,
        body=finding, given=Given.a_cmm_audit),
    # A provider reading the event feed: 403.
    row("GET /v1/events",                          401, 401, 200, 403, 403, 403, 403, 200, 200),
    row("GET /v1/ledger/verify",                   401, 401, 200, 403, 403, 403, 403, 200, 200),
    # Acting on a certification: an auditor of its program only, not even an admin.
    row("POST /v1/managers/{manager}/certifications/CMM/revoke",
                                                   401, 401, 403, 403, 403, 403, 403, 201, 403,
        body={"reason": "failed audit"}, given=Given.a_fresh_cmm_manager),
    row("POST /v1/managers/{manager}/certifications/CMM/reinstate",
                                                   401, 401, 403, 403, 403, 403, 403, 201, 403,
        body={"reason": "appeal upheld"}, given=Given.a_fresh_revoked_cmm_manager),
    row("POST /v1/managers/{manager}/certifications/CMM/extensions",
                                                   401, 401, 403, 403, 403, 403, 403, 201, 403,
        body={"ends_on": "2028-03-01", "reason": "medical leave"},
        given=Given.a_fresh_cmm_manager),
    # The CMOM auditor asking for CMM's managers: 403.
    row("GET /v1/managers",                        401, 401, 200, 403, 403, 403, 403, 200, 403,
        query={"program": "CMM"}),
    # m-2 holds CMM only: the CMOM auditor audits none of its programs; m-1 is another manager.
    row("GET /v1/managers/m-2",                    401, 401, 200, 403, 403, 403, 200, 200, 403),
    # Only the manager or an admin changes a profile, not even the auditor of its program.
    row("POST /v1/managers/m-2/profile",           401, 401, 200, 403, 403, 403, 200, 403, 403,
        body={"name": "Pat Doe"}),
    row("GET /v1/providers",                       401, 401, 200, 200, 200, 200, 200, 200, 200),
    row("GET /v1/activities",                      401, 401, 200, 200, 200, 200, 200, 200, 200,
        query={"program": "CMM"}),
    # mgma reading tma's postings: 403.
    row("GET /v1/providers/tma/completions",       401, 401, 200, 200, 403, 403, 403, 403, 403),
    # A CMM fee: the CMOM auditor is outside its program.
    row("POST /v1/fees/{fee}/refund",              401, 401, 201, 403, 403, 403, 403, 201, 403,
        body={"amount_cents": 1, "reason": "rounding"}, given=Given.a_cmm_fee),
    row("GET /health",                             200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("GET /metrics",                            200, 200, 200, 200, 200, 200, 200, 200, 200),
]
# fmt: on


def token_of(world: World, caller: str) -> str | None:
    if caller == "none":
        return None
    return BAD_TOKEN if caller == "bad" else getattr(world, caller)


def refusal_problems(response: Any) -> list[str]:
    """What is wrong with a 401 or 403 beyond its status: it must be problem details, and a
    401 must say how to authenticate."""
    wrong = []
    if response.headers.get("content-type") != "application/problem+json":
        wrong.append(f"content-type {response.headers.get('content-type')}")
    elif response.json().get("status") != response.status_code:
        wrong.append(f"problem status {response.json().get('status')}")
    challenge = response.headers.get("www-authenticate", "")
    if response.status_code == 401 and not challenge.startswith("Bearer"):
        wrong.append(f"WWW-Authenticate {challenge!r}")
    return wrong


async def wrong_answers(world: World, entry: Row) -> dict[str, Any]:
    """Each caller whose answer is not the one the row expects: (expected, got, body)."""
    given, api = Given(world), world.api
    method, path = entry.endpoint.split(" ")
    wrong: dict[str, Any] = {}
    for caller, expected in zip(CALLERS, entry.expected, strict=True):
        names = {"caller": caller} | (await entry.given(given, caller) if entry.given else {})
        body = entry.body(names) if callable(entry.body) else entry.body
        token = token_of(world, caller)
        if method == "GET":
            response = await api.get(path.format(**names), token, **entry.query)
        else:
            response = await api.post(path.format(**names), token, body)
        if response.status_code != expected:
            wrong[caller] = (expected, response.status_code, response.text[:200])
        elif expected in (401, 403) and (problems := refusal_problems(response)):
            wrong[caller] = problems
    return wrong


@pytest.mark.parametrize("entry", MATRIX, ids=str)
async def test_each_caller_gets_what_the_who_column_of_section_6_allows(world, entry):
    assert await wrong_answers(world, entry) == {}


# -- a hostile auditor (issue 16, attacks 1 and 2): scope, not the activity, decides ----------


async def carlas_completion(world: World) -> str:
    """Carla holds CMM only; tma's billing workshop (for CMM and CMOM) is posted for her."""
    await world.api.enrol_person("m-carla", "Carla Cmm-Only", "carla@cmm.example", CMM="2026-01-15")
    posted = await world.api.post_completion(world.tma, "carla-billing", manager_id="m-carla")
    return (await world.api.ok(posted))["id"]


@pytest.mark.parametrize(
    ("correction", "body"),
    [("void", {"reason": "posted twice"}), ("amend", {"reason": "typo", "ceus": "1"})],
)
async def test_an_auditor_of_cmom_cannot_correct_a_completion_that_counts_only_for_cmm(
    world, correction, body
):
    completion = await carlas_completion(world)
    before = await world.api.certification(ADMIN_TOKEN, "m-carla", "CMM")
    head = await world.api.head()

    response = await world.api.post(
        f"/v1/completions/{completion}/{correction}", world.cmom_auditor, body
    )

    assert_problem(response, 403)
    assert await world.api.head() == head
    assert await world.api.certification(ADMIN_TOKEN, "m-carla", "CMM") == before


async def test_an_auditor_of_one_of_two_programs_a_completion_counts_for_cannot_void_it(world):
    """m-1 holds CMM and CMOM: the billing workshop counts for both, so neither auditor alone
    may move the other association's figures; an admin may."""
    completion = (await world.api.ok(await world.api.post_completion(world.tma, "both")))["id"]
    path = f"/v1/completions/{completion}/void"

    for auditor in (world.cmm_auditor, world.cmom_auditor):
        assert_problem(await world.api.post(path, auditor, {"reason": "posted twice"}), 403)
    assert (await world.api.post(path, ADMIN_TOKEN, {"reason": "posted twice"})).status_code == 200


async def test_an_auditor_of_its_only_program_voids_a_completion_as_before(world):
    completion = await carlas_completion(world)

    response = await world.api.post(
        f"/v1/completions/{completion}/void", world.cmm_auditor, {"reason": "posted twice"}
    )

    assert response.status_code == 200, response.text


async def test_an_auditor_of_cmom_that_granted_cmom_cannot_change_the_managers_email(world):
    await carlas_completion(world)
    grant = {"program": "CMOM", "certified_on": "2026-01-15"}
    await world.api.ok(
        await world.api.post("/v1/managers/m-carla/certifications", world.cmom_auditor, grant)
    )

    refused = await world.api.change_profile(
        world.cmom_auditor, "m-carla", email="attacker@evil.example"
    )

    assert_problem(refused, 403)
    profile = await world.api.ok(await world.api.profile(ADMIN_TOKEN, "m-carla"), 200)
    assert profile["email"] == "carla@cmm.example"
    carla = await world.api.token("manager", manager_id="m-carla")
    for token, email in ((carla, "carla@home.example"), (ADMIN_TOKEN, "carla@work.example")):
        changed = await world.api.change_profile(token, "m-carla", email=email)
        assert (await world.api.ok(changed, 200))["email"] == email
