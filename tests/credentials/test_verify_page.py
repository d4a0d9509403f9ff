"""The public verification page: anyone with a credential's id, no login, learns the holder's
name, the program, the status now, the validity and whether it was revoked; nothing else."""

from __future__ import annotations

from tests.api.world import World
from tests.credentials.given import approved_cmom_renewal, credential_of

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def test_the_verification_json_says_who_what_and_whether_it_holds_and_no_more(
    world: World,
) -> None:
    issued = await credential_of(world, await approved_cmom_renewal(world))
    path = f"/verify/{issued['credential_id']}"
    by_suffix = await world.api.ok(await world.api.get(f"{path}.json", None), 200)
    by_accept = await world.api.client.get(path, headers={"Accept": "application/json"})
    assert by_accept.json() == by_suffix

    assert by_suffix["holder_name"] == "m-1"
    assert (by_suffix["program"], by_suffix["association"]) == ("CMOM", "PMI")
    assert by_suffix["status"] == "active"
    assert by_suffix["valid_until"].startswith("2027-09-30")
    assert (by_suffix["revoked"], by_suffix["valid"]) == (False, True)
    assert "m-1@example.org" not in str(by_suffix)
    assert set(by_suffix) == {
        "credential_id", "holder_name", "program", "program_name", "association", "status",
        "valid_from", "valid_until", "revoked", "revoked_at", "lapsed", "expired", "valid",
        "checked_at", "credential_url", "verify_url", "format", "reissued_as", "reissued_url",
    }  # fmt: skip
    assert (by_suffix["format"], by_suffix["reissued_as"]) == (2, None)


async def test_the_verification_page_is_html_for_a_browser(world: World) -> None:
    issued = await credential_of(world, await approved_cmom_renewal(world))
    page = await world.api.client.get(
        f"/verify/{issued['credential_id']}", headers={"Accept": "text/html"}
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Valid" in page.text
    assert 'data-field="holder_name">m-1<' in page.text
    assert 'data-field="valid_until">30 September 2027<' in page.text
    assert 'data-field="revoked">no<' in page.text
    assert 'data-field="format">Open Badges 3.0<' in page.text


async def test_an_unknown_or_malformed_id_is_a_404_page_or_problem(world: World) -> None:
    for raw in (UNKNOWN, "not-a-uuid"):
        page = await world.api.client.get(f"/verify/{raw}", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert "There is no credential" in page.text
        problem = await world.api.client.get(f"/verify/{raw}.json")
        assert problem.status_code == 404
        assert problem.headers["content-type"].startswith("application/problem+json")
