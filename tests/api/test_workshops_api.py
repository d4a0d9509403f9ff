"""A workshop through the API (SPEC 11): its agenda, a roster of attendance (JSON or CSV, one
transaction, a result per line), corrections, the close and its credit, the certificate of
attendance, and the sessions the transcript and explain name.

The world: provider `tma` owns `tma-billing`, a workshop of up to 12 core CEUs for CMM and
CMOM, 2026-05-18..22; `mgma` owns `mgma-hr` (online).  m-1 holds CMM and CMOM, m-2 CMM only.
Today is 2026-06-15 14:30 UTC, after the workshop: it may be closed.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.api.world import ADMIN_TOKEN, assert_problem, bad_fields
from tests.pdf_text import pdf_text

W = "/v1/activities/tma-billing"

AGENDA = [
    {"session_id": "s-1", "title": "Coding basics", "starts_at": "2026-05-18T09:00:00-05:00",
     "ends_at": "2026-05-18T10:30:00-05:00", "ceus": "1.5", "category": "core"},
    {"session_id": "s-2a", "title": "Claims track", "starts_at": "2026-05-18T11:00:00-05:00",
     "ends_at": "2026-05-18T12:00:00-05:00", "ceus": "1", "category": "core"},
    {"session_id": "s-2b", "title": "People track", "starts_at": "2026-05-18T11:00:00-05:00",
     "ends_at": "2026-05-18T12:00:00-05:00", "ceus": "1", "category": "general"},
    {"session_id": "s-3", "title": "Leadership", "starts_at": "2026-05-18T13:00:00-05:00",
     "ends_at": "2026-05-18T14:30:00-05:00", "ceus": "2", "category": "general"},
    {"session_id": "s-4", "title": "Audits in practice", "starts_at": "2026-05-19T09:00:00-05:00",
     "ends_at": "2026-05-19T12:00:00-05:00", "ceus": "3", "category": "core"},
]  # fmt: skip
"""8.5 CEUs in five sessions; s-2a and s-2b are concurrent tracks."""


def present(manager_id: str, session_id: str, checked_in: str, checked_out: str | None):
    """One roster item; times are 2026-05-DDTHH:MM in CDT (-05:00)."""
    item = {"manager_id": manager_id, "session_id": session_id,
            "checked_in_at": f"2026-05-{checked_in}:00-05:00"}  # fmt: skip
    if checked_out is not None:
        item["checked_out_at"] = f"2026-05-{checked_out}:00-05:00"
    return item


M1_DAY = [
    present("m-1", "s-1", "18T08:55", "18T10:31"),
    present("m-1", "s-2a", "18T11:00", "18T12:00"),
    present("m-1", "s-3", "18T13:00", "18T13:20"),  # left after 20 of 90 minutes
    present("m-1", "s-4", "19T09:00", "19T12:00"),
]
"""m-1 earns 5.50 core (s-1, s-2a, s-4); s-3 does not count, s-2b was not attended."""
M2_DAY = [present("m-2", "s-3", "18T12:58", "18T14:30")]
"""m-2 earns 2.00 general."""


async def put(api, path: str, token: str | None, body: Any, content_type: str = "application/json"):
    headers = {"Content-Type": content_type} | (
        {} if token is None else {"Authorization": f"Bearer {token}"}
    )
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await api.client.put(path, headers=headers, content=content)


async def scheduled(world, agenda=AGENDA) -> dict[str, Any]:
    return await world.api.ok(await put(world.api, f"{W}/sessions", world.tma, agenda))


async def roster(world, items, token=None, status=200) -> dict[str, Any]:
    response = await world.api.post(f"{W}/attendance", token or world.tma, {"items": items})
    return await world.api.ok(response, status)


async def closed(world, status=201) -> dict[str, Any]:
    return await world.api.ok(await world.api.post(f"{W}/close", world.tma), status)


async def transcript_line(world, manager_id: str, token: str, external_id: str) -> dict:
    path = f"/v1/managers/{manager_id}/transcript"
    lines = await world.api.ok(await world.api.get(path, token), 200)
    return next(line for line in lines if line["external_id"] == external_id)


# -- the agenda -------------------------------------------------------------------------------


async def test_a_provider_gives_its_workshop_an_agenda_that_anyone_signed_in_reads(world):
    agenda = await scheduled(world)

    read = await world.api.ok(await world.api.get(f"{W}/sessions", world.m2), 200)
    assert [s["session_id"] for s in agenda["sessions"]] == ["s-1", "s-2a", "s-2b", "s-3", "s-4"]
    assert read == agenda
    assert agenda["closed_at"] is None
    assert agenda["position"] == await world.api.head()


async def test_the_same_agenda_again_is_200_and_records_nothing(world):
    await scheduled(world)
    head = await world.api.head()

    again = await put(world.api, f"{W}/sessions", world.tma, AGENDA)

    assert again.status_code == 200, again.text
    assert await world.api.head() == head


async def test_an_admin_gives_the_agenda_for_the_provider(world):
    response = await put(world.api, f"{W}/sessions", ADMIN_TOKEN, AGENDA)

    assert response.status_code == 201, response.text


async def test_an_agenda_of_an_activity_that_is_not_a_workshop_is_refused(world):
    response = await put(world.api, "/v1/activities/mgma-hr/sessions", world.mgma, AGENDA[:1])

    assert bad_fields(response) == {"activity_id"}


async def test_sessions_adding_up_to_more_than_the_activitys_ceus_are_refused(world):
    heavy = [*AGENDA, AGENDA[4] | {"session_id": "s-5", "ceus": "4"}]
    head = await world.api.head()

    response = await put(world.api, f"{W}/sessions", world.tma, heavy)

    assert bad_fields(response) == {"sessions"}
    assert "12.5" in response.json()["errors"][0]["message"]
    assert await world.api.head() == head


async def test_a_session_ending_before_it_starts_is_refused(world):
    backwards = [AGENDA[0] | {"ends_at": "2026-05-18T08:00:00-05:00"}]

    assert bad_fields(await put(world.api, f"{W}/sessions", world.tma, backwards)) == {
        "sessions[0].ends_at"
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            [AGENDA[0] | {"starts_at": "2026-05-18T09:00:00"}], "starts_at", id="no offset"
        ),
        pytest.param([AGENDA[0] | {"ceus": "1.555"}], "ceus", id="3 decimals"),
        pytest.param([AGENDA[0] | {"surprise": 1}], "surprise", id="unknown field"),
        pytest.param({"sessions": AGENDA}, "body", id="an object, not a list"),
        pytest.param([], "body", id="no session"),
    ],
)
async def test_a_malformed_agenda_is_a_422_naming_the_field(world, body, field):
    response = await put(world.api, f"{W}/sessions", world.tma, body)

    problem = assert_problem(response, 422)
    assert any(field in e["field"] for e in problem["errors"]), problem


async def test_an_agenda_that_is_not_json_is_a_415_and_broken_json_a_400(world):
    assert_problem(await put(world.api, f"{W}/sessions", world.tma, b"x", "text/plain"), 415)
    assert_problem(await put(world.api, f"{W}/sessions", world.tma, b"[{", "application/json"), 400)


async def test_a_changed_session_that_has_attendance_is_a_409(world):
    await scheduled(world)
    await roster(world, M1_DAY[:1])
    moved = [AGENDA[0] | {"starts_at": "2026-05-18T09:15:00-05:00"}, *AGENDA[1:]]

    response = await put(world.api, f"{W}/sessions", world.tma, moved)

    assert "s-1" in assert_problem(response, 409)["detail"]
    added = [*AGENDA, AGENDA[4] | {"session_id": "s-5", "ceus": "0.5"}]
    assert (await put(world.api, f"{W}/sessions", world.tma, added)).status_code == 201


async def test_another_providers_agenda_is_403_and_an_unknown_activity_404(world):
    assert_problem(await put(world.api, f"{W}/sessions", world.mgma, AGENDA), 403)
    assert_problem(await put(world.api, f"{W}/sessions", world.m1, AGENDA), 403)
    assert_problem(await put(world.api, f"{W}/sessions", None, AGENDA), 401)
    unknown = await put(world.api, "/v1/activities/nope/sessions", world.tma, AGENDA)
    assert_problem(unknown, 404)
    assert_problem(await world.api.get(f"{W}/sessions", world.m1), 404)  # no agenda yet


# -- attendance -------------------------------------------------------------------------------


async def test_a_roster_records_each_line_and_answers_each_with_its_position(world):
    await scheduled(world)
    head = await world.api.head()

    result = await roster(world, M1_DAY + M2_DAY)

    assert (result["created"], result["unchanged"], result["rejected"]) == (5, 0, 0)
    assert [r["line"] for r in result["results"]] == [1, 2, 3, 4, 5]
    assert [r["position"] for r in result["results"]] == list(range(head + 1, head + 6))
    assert await world.api.head() == head + 5


async def test_a_roster_is_one_append_to_the_workshop_stream(world):
    await scheduled(world)
    head = await world.api.head()

    await roster(world, M1_DAY + M2_DAY)

    feed = await world.api.ok(
        await world.api.get("/v1/events", ADMIN_TOKEN, after=head, limit=100), 200
    )
    events = feed["events"]
    assert {e["stream_id"] for e in events} == {"workshop-tma-billing"}
    assert {e["type"] for e in events} == {"attendance_recorded"}
    assert len({e["recorded_at"] for e in events}) == 1, "one transaction, one instant"


async def test_the_same_roster_again_is_unchanged_and_other_times_a_409_on_their_line(world):
    await scheduled(world)
    await roster(world, M1_DAY)
    head = await world.api.head()
    changed = present("m-1", "s-1", "18T09:00", "18T10:30")

    result = await roster(world, [*M1_DAY, changed])

    assert (result["created"], result["unchanged"], result["rejected"]) == (0, 4, 1)
    assert result["results"][4]["status"] == "rejected"
    assert result["results"][4]["error"]["status"] == 409
    assert await world.api.head() == head


async def test_a_bad_line_is_rejected_on_its_own_and_the_others_recorded(world):
    await scheduled(world)

    result = await roster(
        world,
        [
            present("m-1", "s-9", "18T09:00", "18T10:00"),  # no such session
            present("m-404", "s-1", "18T09:00", "18T10:00"),  # no such manager
            present("m-2", "s-1", "18T10:00", "18T09:00"),  # out before in
            {"manager_id": "m-2", "session_id": "s-2a", "checked_in_at": "yesterday"},
            M2_DAY[0],
        ],
    )

    statuses = [(r["status"], r.get("error", {}).get("status")) for r in result["results"]]
    assert statuses == [
        ("rejected", 404), ("rejected", 404), ("rejected", 422), ("rejected", 422),
        ("created", None),
    ]  # fmt: skip
    assert result["results"][3]["manager_id"] == "m-2"


async def test_a_csv_roster_with_an_empty_check_out_records_a_check_in(world):
    await scheduled(world)
    csv = (
        "manager_id,session_id,checked_in_at,checked_out_at\n"
        "m-1,s-1,2026-05-18T08:55:00-05:00,2026-05-18T10:31:00-05:00\n"
        "m-2,s-4,2026-05-19T09:00:00-05:00,\n"
    )

    result = await world.api.ok(await world.api.post_csv(f"{W}/attendance", world.tma, csv), 200)

    assert (result["created"], result["rejected"]) == (2, 0)
    m2 = await world.api.ok(await world.api.get(f"{W}/attendance/m-2", world.tma), 200)
    s4 = next(s for s in m2["sessions"] if s["session_id"] == "s-4")
    assert (s4["outcome"], s4["why"]) == ("not_checked_out", "not checked out")


async def test_a_roster_refused_whole(world):
    await scheduled(world)
    api = world.api
    bad_header = "manager,session\nm-1,s-1\n"
    too_long = "manager_id,session_id,checked_in_at,checked_out_at\n" + "m-1,s-1,x,\n" * 5001
    head = await api.head()

    assert bad_fields(await api.post_csv(f"{W}/attendance", world.tma, bad_header)) == {"header"}
    assert bad_fields(await api.post_csv(f"{W}/attendance", world.tma, too_long)) == {"items"}
    assert bad_fields(await api.post(f"{W}/attendance", world.tma, {"items": []})) == {"items"}
    assert_problem(await api.post_raw(f"{W}/attendance", world.tma, b"x", "text/plain"), 415)
    assert_problem(await api.post_raw(f"{W}/attendance", world.tma, b"{", "application/json"), 400)
    assert_problem(await api.post(f"{W}/attendance", world.mgma, {"items": M1_DAY}), 403)
    assert_problem(await api.post(f"{W}/attendance", world.m1, {"items": M1_DAY}), 403)
    assert_problem(await api.post(f"{W}/attendance", None, {"items": M1_DAY}), 401)
    assert_problem(
        await api.post("/v1/activities/nope/attendance", world.tma, {"items": M1_DAY}), 404
    )
    assert await api.head() == head


async def test_a_roster_before_any_agenda_is_a_404(world):
    assert_problem(await world.api.post(f"{W}/attendance", world.tma, {"items": M1_DAY}), 404)


# -- corrections ------------------------------------------------------------------------------


def correction_path(manager_id: str = "m-1", session_id: str = "s-3") -> str:
    return f"{W}/attendance/{manager_id}/{session_id}/correction"


async def test_the_provider_corrects_an_attendance_within_the_window(world):
    await scheduled(world)
    await roster(world, M1_DAY)
    body = {"reason": "left at 14:30, not 13:20", "checked_out_at": "2026-05-18T14:30:00-05:00"}

    corrected = await world.api.ok(await world.api.post(correction_path(), world.tma, body), 201)
    again = await world.api.post(correction_path(), world.tma, body)

    s3 = next(s for s in corrected["attendee"]["sessions"] if s["session_id"] == "s-3")
    assert (s3["counted"], s3["why"]) == (True, "attended 90 of 90 minutes")
    assert again.status_code == 200, again.text


async def test_after_the_window_only_an_admin_corrects(world, clock):
    await scheduled(world)
    await roster(world, M1_DAY)
    clock.advance(days=61)
    body = {"reason": "typo", "checked_in_at": "2026-05-18T12:59:00-05:00"}

    late = await world.api.post(correction_path(), world.tma, body)

    assert "window" in assert_problem(late, 403)["detail"]
    assert (await world.api.post(correction_path(), ADMIN_TOKEN, body)).status_code == 201


async def test_a_correction_removes_an_attendance(world):
    await scheduled(world)
    await roster(world, M2_DAY)

    removed = await world.api.post(
        correction_path("m-2"), world.tma, {"reason": "not there", "removed": True}
    )

    assert (await world.api.ok(removed, 201))["attendee"] is None
    assert_problem(await world.api.get(f"{W}/attendance/m-2", world.tma), 404)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({"reason": "", "removed": True}, 422, id="no reason"),
        pytest.param({"reason": "x"}, 422, id="nothing to correct"),
        pytest.param({"reason": "x", "removed": True, "checked_in_at": "2026-05-18T13:00:00-05:00"},
                     422, id="times and removed"),
        pytest.param({"reason": "x", "checked_out_at": "2026-05-18T12:00:00-05:00"}, 422,
                     id="out before in"),
        pytest.param({"reason": "x", "checked_in_at": "13:00"}, 422, id="not an instant"),
    ],
)  # fmt: skip
async def test_a_bad_correction_is_refused(world, body, status):
    await scheduled(world)
    await roster(world, M1_DAY)
    head = await world.api.head()

    assert_problem(await world.api.post(correction_path(), world.tma, body), status)
    assert await world.api.head() == head


async def test_a_correction_of_no_attendance_is_404_and_of_another_providers_403(world):
    await scheduled(world)
    body = {"reason": "x", "removed": True}

    assert_problem(await world.api.post(correction_path("m-2"), world.tma, body), 404)
    assert_problem(await world.api.post(correction_path(), world.mgma, body), 403)
    assert_problem(await world.api.post(correction_path(), world.cmm_auditor, body), 403)


# -- the close and its credit -----------------------------------------------------------------


async def test_the_close_derives_each_attendees_credit_and_closing_twice_records_nothing(world):
    await scheduled(world)
    await roster(world, M1_DAY + M2_DAY)

    first = await closed(world)
    head = await world.api.head()
    second = await closed(world, status=200)

    by = {a["manager_id"]: a for a in first["attendees"]}
    assert by["m-1"]["categories"] == [
        {"category": "core", "ceus": "5.5", "sessions": ["s-1", "s-2a", "s-4"]}
    ]
    assert by["m-1"]["changes"] == ["recorded core 5.5"]
    assert by["m-2"]["categories"] == [{"category": "general", "ceus": "2", "sessions": ["s-3"]}]
    assert by["m-1"]["completed_on"] == "2026-05-19"
    assert first["created"] is True
    assert second["created"] is False
    assert [a["changes"] for a in second["attendees"]] == [[], []]
    assert await world.api.head() == head


async def test_attendance_after_the_close_derives_the_difference(world):
    await scheduled(world)
    await roster(world, M1_DAY)
    await closed(world)

    result = await roster(world, [present("m-1", "s-2b", "18T11:00", "18T12:00"),  # concurrent
                                  present("m-2", "s-4", "19T09:00", "19T12:00")])  # fmt: skip

    assert result["derived"] == {"m-2": 1}
    line = await transcript_line(world, "m-2", world.m2, "tma-billing:core")
    assert (line["ceus"], line["state"]) == ("3", "counted")


async def test_a_close_before_the_last_session_is_409_and_without_an_agenda_404(world):
    api = world.api
    await api.activity(world.tma, "tma", "tma-later", starts_on="2026-06-20", ends_on="2026-06-21")
    later = [AGENDA[0] | {"starts_at": "2026-06-20T09:00:00-05:00",
                          "ends_at": "2026-06-20T10:00:00-05:00"}]  # fmt: skip
    await api.ok(await put(api, "/v1/activities/tma-later/sessions", world.tma, later))

    early = await api.post("/v1/activities/tma-later/close", world.tma)

    assert "2026-06-20" in assert_problem(early, 409)["detail"]
    assert_problem(await api.post(f"{W}/close", world.tma), 404)
    assert_problem(await api.post(f"{W}/close", world.mgma), 403)
    assert_problem(await api.post(f"{W}/close", world.m1), 403)


# -- transcript and explain: which sessions counted, and why the others did not ----------------


async def test_the_transcript_and_explain_name_the_sessions_and_why_others_did_not_count(world):
    await scheduled(world)
    await roster(world, M1_DAY)
    await closed(world)

    line = await transcript_line(world, "m-1", world.m1, "tma-billing:core")
    path = "/v1/managers/m-1/status/explain"
    explained = await world.api.ok(await world.api.get(path, world.m1, program="CMM"), 200)

    why = {s["session_id"]: (s["counted"], s["why"]) for s in line["sessions"]}
    assert why == {
        "s-1": (True, "attended 90 of 90 minutes"),
        "s-2a": (True, "attended 60 of 60 minutes"),
        "s-2b": (False, "no attendance recorded"),
        "s-3": (False, "left after 20 of 90 minutes"),
        "s-4": (True, "attended 180 of 180 minutes"),
    }
    assert explained["sessions"][line["completion_id"]] == line["sessions"]


# -- one attendee, and the certificate of attendance ------------------------------------------


async def test_the_certificate_of_attendance_shows_the_apis_numbers(world):
    await scheduled(world)
    await roster(world, M1_DAY + M2_DAY)
    await closed(world)
    view = await world.api.ok(await world.api.get(f"{W}/attendance/m-1", world.m1), 200)

    response = await world.api.get(f"{W}/attendance/m-1/certificate.pdf", world.m1)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/pdf")
    text = " ".join((await pdf_text(response.content)).split())
    assert "Certificate of attendance" in text
    assert "Provider: TMA (tma)" in text
    assert f"earning {_two(view['ceus'])} CEUs, completed 19 May 2026" in text
    for c in view["categories"]:
        assert f"{c['category']} {_two(c['ceus'])} {', '.join(c['sessions'])}" in text
    for s in view["sessions"]:
        assert f"{s['session_id']}: {s['title']}" in text
        assert f"{s['starts_at'][:10]} {s['starts_at'][11:16]}-{s['ends_at'][11:16]}" in text
        counted = "yes" if s["counted"] else "no"
        assert f"{s['category']} {_two(s['ceus'])} {counted}: {s['why']}" in text
    assert (view["ceus"], len(view["sessions"])) == ("5.5", 5)
    assert f"from the ledger at position {view['position']}, hash {view['hash']}" in text
    feed = await world.api.ok(
        await world.api.get("/v1/events", ADMIN_TOKEN, after=view["position"] - 1, limit=1), 200
    )
    [event] = feed["events"]
    assert (event["hash"], event["type"]) == (view["hash"], "workshop_closed")


def _two(ceus: str) -> str:
    """CEUs as the documents print them: 5.5 -> 5.50."""
    return f"{Decimal(ceus):.2f}"


async def test_an_attendee_is_read_by_the_provider_the_manager_their_association_and_admins(world):
    await scheduled(world)
    await roster(world, M1_DAY + M2_DAY)
    api = world.api

    for token in (world.tma, world.m1, world.cmm_auditor, world.cmom_auditor, ADMIN_TOKEN):
        assert (await api.get(f"{W}/attendance/m-1", token)).status_code == 200
    assert_problem(await api.get(f"{W}/attendance/m-1", world.m2), 403)
    assert_problem(await api.get(f"{W}/attendance/m-1", world.mgma), 403)
    assert_problem(await api.get(f"{W}/attendance/m-2", world.cmom_auditor), 403)  # holds CMM only
    assert_problem(await api.get(f"{W}/attendance/m-1/certificate.pdf", world.m2), 403)
    assert_problem(await api.get(f"{W}/attendance/m-1/certificate.pdf", None), 401)
    assert_problem(await api.get(f"{W}/attendance/m-1/certificate.pdf", world.mgma), 403)
    assert_problem(
        await api.get("/v1/activities/nope/attendance/m-1/certificate.pdf", world.m1), 404
    )


async def test_no_attendance_no_certificate(world):
    await scheduled(world)

    assert_problem(await world.api.get(f"{W}/attendance/m-2/certificate.pdf", world.m2), 404)


async def test_a_roster_of_5000_lines_is_read_off_the_loop_and_a_repeated_line_is_unchanged(world):
    """5,000 JSON lines (past ledger/http/rosters.py's INLINE_BYTES: read in a worker process),
    the same five attendances over and over: five created, the rest retries of them."""
    await scheduled(world)
    items = [*M1_DAY, *M2_DAY] * 1000
    head = await world.api.head()

    result = await roster(world, items)

    assert (result["created"], result["unchanged"], result["rejected"]) == (5, 4995, 0)
    assert len(result["results"]) == 5000
    assert await world.api.head() == head + 5
