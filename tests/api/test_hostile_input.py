"""Hostile input, as a fuzzer or a careless client sends it: every answer is a clear 4xx
problem in the caller's words (never a 500, never a parser's message), and nothing is stored:
the log's head does not move.  Free text that is merely odd (quotes, SQL, any script) is
stored as it was sent (NFC-normalised), and shown back exactly; text that holds a control,
bidirectional or zero-width formatting character is refused (SPEC 6)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.world import ADMIN_TOKEN, World, assert_problem, bad_fields

SQL = "x'); DROP TABLE events; --"
UNICODE = "Zoë ✓ \U0001d518\U0001d52b\U0001d526 שלום ﷽"
NUL = "a\x00b"
LONG = "x" * 10_000
PARSER_WORDS = ("RFC3339", "Object contains", "Object missing", "Expected `", "msgspec")


@dataclass(frozen=True)
class Send:
    """One request: a JSON body (`body`), or bytes as given (`raw`, `content_type`)."""

    label: str
    path: str
    caller: str
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    query: dict[str, Any] = field(default_factory=dict)
    method: str = "POST"

    def __str__(self) -> str:
        return self.label


def manager(**changes: Any) -> dict[str, Any]:
    return {"manager_id": "m-hostile", "name": "Ann", "email": "ann@example.org"} | changes


def activity(**changes: Any) -> dict[str, Any]:
    return {
        "activity_id": "tma-hostile", "title": "Coding clinic", "format": "webinar",
        "ceus": "2", "category": "core", "programs": ["CMM"],
        "starts_on": "2026-04-01", "ends_on": "2026-04-30",
    } | changes  # fmt: skip


def completion(**changes: Any) -> dict[str, Any]:
    return {
        "external_id": "hostile-1", "manager_id": "m-1", "activity_id": "tma-billing",
        "completed_on": "2026-05-20", "ceus": "2",
    } | changes  # fmt: skip


def fee(**changes: Any) -> dict[str, Any]:
    return {"program": "CMM", "amount_cents": 7500, "reference": "cheque 1"} | changes


def audit(**changes: Any) -> dict[str, Any]:
    return {"filed_from": "2026-06-01", "filed_to": "2026-06-30", "rate": "1"} | changes


def post(label: str, path: str, caller: str, body: Any) -> Send:
    return Send(label, path, caller, body=body)


def get(label: str, path: str, caller: str, **query: Any) -> Send:
    return Send(label, path, caller, query=query, method="GET")


def raw(label: str, path: str, caller: str, content: bytes, content_type: str) -> Send:
    return Send(label, path, caller, raw=content, content_type=content_type)


RULES = {
    "effective_from": "2026-07-01", "cycle_months": 12, "required_ceus": "12",
    "grace_days": 30, "fee_cents": 7500,
}  # fmt: skip
ROSTER = "external_id,manager_id,activity_id,completed_on,ceus\n"

TEXT_FIELDS = [
    # (path, caller, body builder, the text fields to poison)
    ("/v1/managers", "admin", manager, ("manager_id", "name", "email")),
    (
        "/v1/providers/tma/activities",
        "tma",
        activity,
        ("activity_id", "title", "format", "category"),
    ),
    ("/v1/completions", "tma", completion, ("external_id", "manager_id", "activity_id")),
    ("/v1/managers/m-1/fees", "admin", fee, ("program", "reference")),
    (
        "/v1/providers",
        "admin",
        lambda **c: {"name": "P", "programs": ["CMM"]} | c,
        ("provider_id",),
    ),
]
IDS = {"manager_id", "activity_id", "provider_id", "program"}
"""Fields with a closed alphabet: SQL and unicode are refused there too."""

REFUSED: list[Send] = [
    post(f"{path} {field} {kind}", path, caller, build(**{field: value}))
    for path, caller, build, fields in TEXT_FIELDS
    for field in fields
    for kind, value in (("SQL", SQL), ("unicode", UNICODE), ("NUL", NUL), ("10 kB", LONG))
    if field in IDS or kind in ("NUL", "10 kB")
]
REFUSED += [
    # Numbers: never coerced, never out of range.
    *(
        post(f"amount_cents {value!r}", "/v1/managers/m-1/fees", "admin", fee(amount_cents=value))
        for value in ("75.00", "7500", 7500.0, "1e3", 1e3, -1, 0, 2**63 + 1, True, None)
    ),
    *(
        post(f"ceus {value!r}", "/v1/completions", "tma", completion(ceus=value))
        for value in ("1e1", "1E1", "+2", "2,5", "2.555", 2.555, "-1", -1, "", " 2", "0x10")
    ),
    *(
        post(f"ceus {value!r}", "/v1/completions", "tma", completion(ceus=value))
        for value in (True, None, [2], {"value": 2}, "NaN", "Infinity", 0, 10**30)
    ),
    *(
        post(f"seed {value!r}", "/v1/programs/CMM/audits", "cmm_auditor", audit(seed=value))
        for value in ("7", 7.0, -1, 2**53, 2**63 + 1, "1e3")
    ),
    post("rate '1e0'", "/v1/programs/CMM/audits", "cmm_auditor", audit(rate="1e0")),
    post("cycle_months 12.0", "/v1/programs/CMOM/rules", "admin", RULES | {"cycle_months": 12.0}),
    # Dates: YYYY-MM-DD only, and real ones.
    *(
        post(f"completed_on {value}", "/v1/completions", "tma", completion(completed_on=value))
        for value in ("0000-01-01", "9999-12-31", "01/02/2026", "2026-1-2", "2026-02-30", 20260520)
    ),
    *(
        post(
            f"certified_on {value}",
            "/v1/managers/m-1/certifications",
            "admin",
            {
                "program": "CMM",
                "certified_on": value,
            },
        )
        for value in ("0000-01-01", "01/02/2026", "2026-01-02T00:00:00Z")
    ),
    # Query values: as written, in range.
    *(
        get(f"after={value}", "/v1/events", "admin", after=value)
        for value in (10**30, 2**63, "1.0", "1e3", "-1", "one")
    ),
    *(get(f"limit={value}", "/v1/events", "admin", limit=value) for value in ("1e3", "0", "10.5")),
    *(
        get(f"within_days={value}", "/v1/programs/CMM/due", "cmm_auditor", within_days=value)
        for value in ("90.0", "1e3", "-1", 10**30)
    ),
    *(
        get(f"as_of={value}", "/v1/managers/m-1/status", "admin", as_of=value)
        for value in ("01/02/2026", "2026-1-2", "0000-01-01", "9999-12-31")
    ),
    get("known_at as a Unix time", "/v1/managers/m-1/status", "admin", known_at="1800000000"),
    get("state=bogus", "/v1/programs/CMM/renewals", "cmm_auditor", state="bogus"),
    get("format=xml", "/v1/managers/m-1/transcript", "admin", format="xml"),
    # Shapes.
    post("an unknown field", "/v1/completions", "tma", completion(extra_cells=["5"])),
    post("a list for a body", "/v1/completions", "tma", [completion()]),
    post("null for a body", "/v1/managers", "admin", None),
    raw("an empty body", "/v1/completions", "tma", b"", "application/json"),
    raw("malformed JSON", "/v1/completions", "tma", b'{"external_id": ', "application/json"),
    raw("deep JSON", "/v1/completions", "tma", b"[" * 10_000 + b"]" * 10_000, "application/json"),
    raw(
        "deep JSON in a roster",
        "/v1/completions/batch",
        "tma",
        b'{"items": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        "application/json",
    ),
    raw("a 5 MB body", "/v1/completions", "tma", b" " * (5 * 1024 * 1024), "application/json"),
    raw("a 5 MB roster", "/v1/completions/batch", "tma", b"x" * (5 * 1024 * 1024), "text/csv"),
    # Content types: JSON where JSON is due, CSV only where the SPEC says.
    *(
        raw(
            f"a completion as {ct}", "/v1/completions", "tma", json.dumps(completion()).encode(), ct
        )
        for ct in ("text/plain", "application/x-www-form-urlencoded", "text/csv", "")
    ),
    raw("a manager as XML", "/v1/managers", "admin", b"<manager/>", "application/xml"),
    raw("a roster as text/plain", "/v1/completions/batch", "tma", ROSTER.encode(), "text/plain"),
    # CSV rosters.
    raw(
        "a CSV with a wrong header", "/v1/completions/batch", "tma", b"id,who\n1,m-1\n", "text/csv"
    ),
    raw("a CSV that is not UTF-8", "/v1/completions/batch", "tma", b"\xff\xfe\x00x", "text/csv"),
    raw("an empty CSV", "/v1/completions/batch", "tma", b"", "text/csv"),
]


def roster(label: str, *lines: str, bom: bool = False) -> Send:
    text = ("\ufeff" if bom else "") + ROSTER + "".join(f"{line}\n" for line in lines)
    return raw(label, "/v1/completions/batch", "tma", text.encode(), "text/csv")


ROSTER_LINES_REFUSED = [
    roster("a BOM and an exponent", "r-1,m-1,tma-billing,2026-05-20,1e1", bom=True),
    roster("a ragged line", "r-1,m-1,tma-billing"),
    roster("a decimal comma", 'r-1,m-1,tma-billing,2026-05-20,"2,5"'),
    roster("a decimal comma unquoted", "r-1,m-1,tma-billing,2026-05-20,2,5"),
    roster("3 decimals", "r-1,m-1,tma-billing,2026-05-20,2.555"),
    roster("a formula cell", 'r-1,=HYPERLINK("http://x"),tma-billing,2026-05-20,2'),
    roster("a formula for CEUs", "r-1,m-1,tma-billing,2026-05-20,=1+1"),
    roster("a date as 01/02/2026", "r-1,m-1,tma-billing,01/02/2026,2"),
    roster("a NUL in a cell", "r-1,m\x00-1,tma-billing,2026-05-20,2"),
]


def token(world: World, caller: str) -> str:
    return ADMIN_TOKEN if caller == "admin" else getattr(world, caller)


async def send(world: World, request: Send) -> Any:
    api, auth = world.api, token(world, request.caller)
    if request.method == "GET":
        return await api.get(request.path, auth, **request.query)
    if request.raw is not None:
        headers = {"Authorization": f"Bearer {auth}"}
        if request.content_type:
            headers["Content-Type"] = request.content_type
        return await api.client.post(request.path, headers=headers, content=request.raw)
    return await api.post(request.path, auth, request.body)


def in_plain_words(response: Any) -> None:
    """A clear 4xx problem, naming fields a caller knows, in words a caller reads."""
    assert 400 <= response.status_code < 500, response.text[:500]
    body = assert_problem(response, response.status_code)
    assert not any(word in response.text for word in PARSER_WORDS), response.text[:500]
    if response.status_code == 422:
        assert body["errors"], body
        assert all(e["field"] not in ("data", "") for e in body["errors"]), body


@pytest.mark.parametrize("request_", REFUSED, ids=str)
async def test_hostile_input_is_a_clear_4xx_and_nothing_is_stored(shared_world, request_):
    head = await shared_world.api.head()

    response = await send(shared_world, request_)

    in_plain_words(response)
    assert await shared_world.api.head() == head


@pytest.mark.parametrize("request_", ROSTER_LINES_REFUSED, ids=str)
async def test_a_hostile_roster_line_is_rejected_alone_in_plain_words(shared_world, request_):
    head = await shared_world.api.head()

    response = await send(shared_world, request_)

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["rejected"]) == (0, 1), result
    assert not any(word in response.text for word in PARSER_WORDS), response.text
    assert await shared_world.api.head() == head


PLAIN_WORDS = [
    # (what is sent, where the problem is, what the answer says)
    (get("state", "/v1/programs/CMM/renewals", "cmm_auditor", state="bogus"), "query", "one of"),
    (get("after", "/v1/events", "admin", after=10**30), "query", "at most"),
    (
        post("date", "/v1/completions", "tma", completion(completed_on="01/02/2026")),
        "body",
        "use YYYY-MM-DD",
    ),
    (
        post("decimal comma", "/v1/completions", "tma", completion(ceus="2,5")),
        "body",
        "use a dot for decimals",
    ),
    (post("exponent", "/v1/completions", "tma", completion(ceus="1e1")), "body", "exponent"),
    (
        post("unknown field", "/v1/completions", "tma", completion(extra_cells=[])),
        "body",
        "unknown field extra_cells",
    ),
    (
        post("cents", "/v1/managers/m-1/fees", "admin", fee(amount_cents="75.00")),
        "body",
        "whole number",
    ),
]


@pytest.mark.parametrize(
    ("sent", "source", "words"), PLAIN_WORDS, ids=[s.label for s, *_ in PLAIN_WORDS]
)
async def test_errors_name_where_and_say_what_to_write(shared_world, sent, source, words):
    response = await send(shared_world, sent)

    body = assert_problem(response, 422)
    assert {e["source"] for e in body["errors"]} == {source}, body
    assert any(words in e["message"] for e in body["errors"]), body


async def test_an_empty_body_says_so_without_naming_a_field_data(shared_world):
    response = await send(shared_world, raw("", "/v1/managers", "admin", b"", "application/json"))

    body = assert_problem(response, 400)
    assert "no body" in body["detail"]
    assert "data" not in response.text


async def test_the_feed_past_any_bigint_is_a_4xx_not_a_500(shared_world):
    """A fuzzer found `after=701618058646647598489830162432`: bigint overflow, then a 500."""
    response = await shared_world.api.get("/v1/events", ADMIN_TOKEN, after=10**30)

    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("name", "value"), [("name", SQL), ("name", UNICODE), ("email", "zoë@exämple.org")]
)
async def test_odd_but_printable_text_is_stored_exactly_as_sent(world, name, value):
    response = await world.api.post("/v1/managers", ADMIN_TOKEN, manager(**{name: value}))

    assert response.status_code == 201, response.text
    assert response.json()[name] == value
    feed = (await world.api.get("/v1/events", ADMIN_TOKEN, limit=1000)).json()["events"]
    assert feed[-1]["data"][name] == value


async def test_a_strict_json_body_still_takes_numbers_and_plain_decimal_strings(world):
    for day, ceus in zip((18, 19, 20, 21), (2, 2.5, "2", "2.50"), strict=True):
        response = await world.api.post_completion(
            world.tma, f"plain-{day}", ceus=ceus, completed_on=f"2026-05-{day}"
        )
        assert response.status_code == 201, response.text


# -- names, titles, reasons and emails: no control or formatting characters (SPEC 6) ---------

UNSAFE = {
    "LF": "Ann\nBcc: all@example.org",
    "CR": "Ann\r",
    "NUL": "a\x00b",
    "tab": "Ann\tLee",
    "NEL (U+0085)": "Ann\x85",
    "RLO (U+202E)": "Dr. Gregory House\u202e\u200b",
    "ZWSP (U+200B)": "Ann\u200bLee",
    "RLM (U+200F)": "Ann\u200f",
    "FSI (U+2068)": "\u2068Ann",
}
SOME_ID = "00000000-0000-4000-8000-000000000001"
FREE_TEXT = [
    # (path, caller, body builder, its free-text fields)
    ("/v1/managers", "admin", manager, ("name", "email")),
    ("/v1/managers/m-1/profile", "admin", lambda **c: c or {"name": "Ann"}, ("name", "email")),
    ("/v1/providers/tma/activities", "tma", activity, ("title", "format", "category")),
    ("/v1/providers", "admin", lambda **c: {"provider_id": "p-x", "name": "P",
                                            "programs": ["CMM"]} | c, ("name",)),
    ("/v1/programs", "admin", lambda **c: {"code": "CXX", "name": "X", "association": "A",
                                           "rules": RULES} | c, ("name", "association")),
    ("/v1/completions", "tma", completion, ("external_id",)),
    ("/v1/managers/m-1/fees", "admin", fee, ("reference",)),
    (f"/v1/completions/{SOME_ID}/void", "admin", lambda **c: {"reason": "typo"} | c, ("reason",)),
    (f"/v1/completions/{SOME_ID}/amend", "admin", lambda **c: {"reason": "t"} | c, ("reason",)),
    (f"/v1/renewals/{SOME_ID}/decision", "cmm_auditor",
     lambda **c: {"decision": "deny"} | c, ("reason",)),
    (f"/v1/audits/{SOME_ID}/findings", "cmm_auditor",
     lambda **c: {"renewal_id": SOME_ID, "outcome": "failed"} | c, ("note",)),
    ("/v1/managers/m-1/certifications/CMM/revoke", "cmm_auditor",
     lambda **c: {"reason": "fraud"} | c, ("reason",)),
    ("/v1/managers/m-1/certifications/CMM/reinstate", "cmm_auditor",
     lambda **c: {"reason": "appeal"} | c, ("reason",)),
    ("/v1/managers/m-1/certifications/CMM/extensions", "cmm_auditor",
     lambda **c: {"ends_on": "2027-12-31", "reason": "illness"} | c, ("reason",)),
    (f"/v1/fees/{SOME_ID}/refund", "admin",
     lambda **c: {"amount_cents": 100, "reason": "twice"} | c, ("reason",)),
    ("/v1/managers/m-1/claims", "m1",
     lambda **c: {"activity_id": "tma-billing", "completed_on": "2026-05-20"} | c, ("note",)),
    (f"/v1/claims/{SOME_ID}/dispute", "tma", lambda **c: {"reason": "no"} | c, ("reason",)),
]  # fmt: skip
UNSAFE_TEXT = [
    (post(f"{path} {name} {kind}", path, caller, build(**{name: value})), name)
    for path, caller, build, names in FREE_TEXT
    for name in names
    for kind, value in UNSAFE.items()
]


@pytest.mark.parametrize(("sent", "name"), UNSAFE_TEXT, ids=[str(s) for s, _ in UNSAFE_TEXT])
async def test_a_line_break_or_a_bidi_override_in_any_free_text_is_refused_naming_the_field(
    shared_world, sent, name
):
    """Attack 5 and 7: a line break made a notice unbuildable; a right-to-left override was
    signed into a credential."""
    head = await shared_world.api.head()

    response = await send(shared_world, sent)

    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == [name], body
    assert "control, bidirectional or zero-width" in body["errors"][0]["message"], body
    assert await shared_world.api.head() == head


@pytest.mark.parametrize("kind", ["LF", "RLO (U+202E)", "ZWSP (U+200B)"])
async def test_a_roster_line_with_a_control_or_bidi_character_is_rejected_alone(shared_world, kind):
    external_id = f'"{UNSAFE[kind]}"'  # a quoted CSV cell may hold a line break
    head = await shared_world.api.head()

    response = await send(shared_world, roster(kind, f"{external_id},m-1,tma-billing,2026-05-20,2"))

    result = response.json()
    assert (result["created"], result["rejected"]) == (0, 1), result
    (error,) = result["results"][0]["error"]["errors"]
    assert error["field"] == "external_id", result
    assert "control, bidirectional or zero-width" in error["message"], result
    assert await shared_world.api.head() == head


async def test_the_house_name_attack_is_refused_as_a_profile_change(world):
    """Attack 7: `Dr. Gregory House` followed by U+202E and U+200B."""
    response = await world.api.change_profile(world.m1, "m-1", name="Dr. Gregory House\u202e\u200b")

    assert bad_fields(response) == {"name"}
    assert "\u202e" not in (await world.api.profile(world.m1, "m-1")).json()["name"]


async def test_names_are_stored_nfc_normalised(world):
    decomposed = "Rene\u0301e Mu\u0308ller"  # e + combining acute, u + combining diaeresis

    response = await world.api.post(
        "/v1/managers", ADMIN_TOKEN, manager(name=decomposed, email="rene\u0301e@example.org")
    )

    assert response.status_code == 201, response.text
    feed = (await world.api.get("/v1/events", ADMIN_TOKEN, limit=1000)).json()["events"]
    assert feed[-1]["data"]["name"] == "Renée Müller"
    assert feed[-1]["data"]["email"] == "renée@example.org"
