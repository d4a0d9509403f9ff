"""Nothing signed, stored, shown or printed is built from a request's Host header (SPEC 6,
issue 16 attack 3): the app cannot be built without LEDGER_PUBLIC_URL, and a request naming
`Host: evil.example` gets a credential, a status list, a verification page and a PDF on the
configured address only.  And a name an old event holds with a bidirectional override
(attack 7) is never signed or shown with it."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest

from events.codec import Actor
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.app.factory import create_app
from ledger.commands import Context, Ledger
from ledger.commands import managers as enrolment
from ledger.commands.messages import ChangeProfile
from ledger.settings import Settings
from tests.api.conftest import PUBLIC_URL
from tests.api.world import World
from tests.credentials.given import approved_cmom_renewal, decide, filed_cmom_renewal

EVIL = "evil.example"
HOUSE = "Dr. Gregory House\u202e\u200b"


def payload(vc_jwt: str) -> dict[str, Any]:
    part = vc_jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def urls_in(document: Any) -> list[str]:
    text = json.dumps(document)
    return [word for word in text.replace('"', " ").split() if "://" in word]


async def text_of(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "document.pdf").write_bytes(pdf)
    pdftotext = await asyncio.create_subprocess_exec(
        "pdftotext", tmp_path / "document.pdf", "-", stdout=asyncio.subprocess.PIPE
    )
    return (await pdftotext.communicate())[0].decode()


async def hostile_get(world: World, path: str, token: str | None = None, **params: Any) -> Any:
    headers = {"Host": EVIL}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = await world.api.client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response


def test_the_app_is_not_built_without_a_public_url_so_no_host_header_is_signed() -> None:
    """Before, an unset LEDGER_PUBLIC_URL (the default, and the Dockerfile's) made the app
    sign whatever Host a request named."""
    with pytest.raises(ValueError, match="LEDGER_PUBLIC_URL"):
        create_app(Settings(), "postgresql://nobody@127.0.0.1:1/none")


async def test_a_hostile_host_header_reaches_no_credential_status_list_page_or_pdf(
    world: World, tmp_path: Path
) -> None:
    renewal_id = await approved_cmom_renewal(world)

    issued = (await hostile_get(world, f"/v1/renewals/{renewal_id}/credential", world.m1)).json()
    status_list = await hostile_get(world, "/v1/status-lists/CMOM/revocation")
    issuer = (await hostile_get(world, "/v1/issuers/CMOM")).json()
    verification = (await hostile_get(world, f"/verify/{issued['credential_id']}.json")).json()
    page = await hostile_get(world, f"/verify/{issued['credential_id']}", Accept="text/html")
    certificate = await hostile_get(world, f"/v1/renewals/{renewal_id}/certificate.pdf", world.m1)
    transcript = await hostile_get(world, "/v1/managers/m-1/transcript", world.m1, format="pdf")
    pdf_text = await text_of(certificate.content, tmp_path) + await text_of(
        transcript.content, tmp_path
    )

    stored = payload(issued["vc_jwt"])  # what the registry stored and signed
    signed_list = payload(status_list.text)
    for document in (stored, signed_list, issuer, verification, issued):
        found = urls_in(document)
        assert found, document
        assert all(
            url.startswith((PUBLIC_URL, "https://www.w3.org", "https://purl.imsglobal.org"))
            for url in found
        ), found
    assert EVIL not in status_list.text + page.text + pdf_text + json.dumps(stored)
    assert pdf_text.count(f"{PUBLIC_URL}/verify/{issued['credential_id']}") == 2
    assert f'href="{PUBLIC_URL}/v1/credentials/{issued["credential_id"]}"' in page.text


async def test_a_name_an_old_event_holds_with_a_bidi_override_is_never_signed_or_shown(
    world: World, dsn: str
) -> None:
    """Attack 7: the API refuses the name now (tests/api/test_hostile_input.py), but an event
    written before may hold it: the verification page drops the formatting characters (and
    the credential no longer carries the name at all)."""
    renewal_id = await filed_cmom_renewal(world)
    async with create_pool(dsn, min_size=1, max_size=1) as pool:
        before = Context(actor=Actor(role="manager", id="m-1"), request_id="old")
        await enrolment.change_profile(
            Ledger(PostgresEventStore(pool)), before, "m-1", ChangeProfile(name=HOUSE, email=None)
        )
    await decide(world, renewal_id)

    issued = (await hostile_get(world, f"/v1/renewals/{renewal_id}/credential", world.m1)).json()
    verification = (await hostile_get(world, f"/verify/{issued['credential_id']}.json")).json()
    page = await hostile_get(world, f"/verify/{issued['credential_id']}", Accept="text/html")

    # The credential names its holder by a salted hash of the email only (issue 22 item 9).
    subject = payload(issued["vc_jwt"])["credentialSubject"]
    assert "Gregory" not in json.dumps(subject, ensure_ascii=False)
    for shown in (json.dumps(subject, ensure_ascii=False), verification["holder_name"], page.text):
        assert "\u202e" not in shown
        assert "\u200b" not in shown
    assert verification["holder_name"] == "Dr. Gregory House"
