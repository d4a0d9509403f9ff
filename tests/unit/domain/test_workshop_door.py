"""The door of a session (SPEC 11): the kiosk's signed codes over literal instants, and what a
scan records.  A code is useless after its minute, for another session, replayed, or made
under another key; the first scan checks in, a scan with a later code checks out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain.errors import NotFound, WrongState
from ledger.domain.workshops.door import (
    CodeExpired,
    CodeUnreadable,
    CodeUsed,
    DoorCode,
    door_key,
    door_open,
    door_step,
    make_code,
    read_code,
)
from tests.unit.domain.workshop_given import AGENDA, Stream, at, session

KEY = door_key(b"the server's secret, 32 bytes or more....")
OTHER_KEY = door_key(b"another server's secret, not this one.....")
MADE = datetime(2025, 5, 1, 14, 0, 0, tzinfo=UTC)  # 09:00 CDT, when s-1 starts


def code_of(session_id: str = "s-1", made: datetime = MADE, key: bytes = KEY) -> str:
    return make_code(key, "tma-billing", session_id, made)


# -- the code ----------------------------------------------------------------------------------


def test_a_code_reads_back_as_its_activity_session_and_second():
    code = make_code(KEY, "tma-billing", "s-1", MADE + timedelta(microseconds=700_000))

    assert read_code(KEY, code, MADE + timedelta(seconds=10)) == DoorCode(
        activity_id="tma-billing", session_id="s-1", issued_at=MADE
    )


def test_a_code_is_a_short_url_safe_text():
    code = code_of()

    assert len(code) < 80
    assert set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_a_code_is_good_until_the_last_second_of_its_minute():
    assert read_code(KEY, code_of(), MADE + timedelta(seconds=59, microseconds=999_999))


def test_a_code_is_useless_after_its_minute():
    with pytest.raises(CodeExpired) as refused:
        read_code(KEY, code_of(), MADE + timedelta(seconds=60))

    assert refused.value.reason == "expired"
    assert "14:00:00 UTC" in refused.value.detail


def test_a_code_read_before_it_was_made_is_refused_beyond_five_seconds_of_skew():
    assert read_code(KEY, code_of(), MADE - timedelta(seconds=5))
    with pytest.raises(CodeExpired):
        read_code(KEY, code_of(), MADE - timedelta(seconds=6))


def test_a_code_changed_to_name_another_session_fails_its_signature():
    genuine_payload, signature = code_of("s-1").split(".")
    other_payload, _ = code_of("s-3").split(".")

    with pytest.raises(CodeUnreadable) as refused:
        read_code(KEY, f"{other_payload}.{signature}", MADE)

    assert refused.value.reason == "unreadable"
    assert read_code(KEY, f"{genuine_payload}.{signature}", MADE).session_id == "s-1"


def test_a_code_made_under_another_key_is_unreadable():
    with pytest.raises(CodeUnreadable):
        read_code(KEY, code_of(key=OTHER_KEY), MADE)


@pytest.mark.parametrize(
    "garbled",
    ["", ".", "nodot", "not base64!.x", code_of()[:-3], code_of() + "A", "a.b.c", "%00.%00"],
)
def test_a_garbled_code_is_unreadable_never_an_error(garbled):
    with pytest.raises(CodeUnreadable):
        read_code(KEY, garbled, MADE)


def test_a_well_signed_payload_that_is_not_a_code_is_unreadable():
    import base64
    import hashlib
    import hmac

    payload = base64.urlsafe_b64encode(b'{"not": "a code"}').rstrip(b"=").decode()
    mac = hmac.new(KEY, payload.encode(), hashlib.sha256).digest()[:16]
    forged = payload + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    with pytest.raises(CodeUnreadable):
        read_code(KEY, forged, MADE)


def test_the_codes_key_is_not_the_servers_secret_itself():
    secret = b"the server's secret, 32 bytes or more...."

    assert door_key(secret) != secret
    assert door_key(secret) == KEY


# -- the door ----------------------------------------------------------------------------------


def test_the_door_opens_an_hour_before_the_session_and_closes_an_hour_after_it():
    s1 = AGENDA[0]  # 09:00-10:30 CDT

    assert not door_open(s1, at(1, 7, 59))
    assert door_open(s1, at(1, 8))
    assert door_open(s1, at(1, 11, 30))
    assert not door_open(s1, at(1, 11, 30, 1))


def scanned(session_id: str, made: datetime) -> DoorCode:
    return DoorCode(activity_id="tma-billing", session_id=session_id, issued_at=made)


def test_the_first_scan_checks_in():
    workshop = Stream().scheduled().workshop()

    step = door_step(workshop, scanned("s-1", at(1, 8, 58)), "m-1", at(1, 8, 58, 20))

    assert (step.direction, step.checked_in_at, step.checked_out_at) == (
        "in",
        at(1, 8, 58, 20),
        None,
    )


def test_a_scan_with_a_code_made_after_the_check_in_checks_out():
    workshop = (
        Stream().scheduled().attended("s-1", at(1, 8, 58, 20), None, method="kiosk").workshop()
    )

    step = door_step(workshop, scanned("s-1", at(1, 10, 30)), "m-1", at(1, 10, 30, 12))

    assert (step.direction, step.checked_in_at, step.checked_out_at) == (
        "out",
        at(1, 8, 58, 20),
        at(1, 10, 30, 12),
    )


def test_the_code_that_checked_someone_in_is_refused_when_sent_again():
    workshop = (
        Stream().scheduled().attended("s-1", at(1, 8, 58, 20), None, method="kiosk").workshop()
    )

    with pytest.raises(CodeUsed) as refused:
        door_step(workshop, scanned("s-1", at(1, 8, 58)), "m-1", at(1, 8, 58, 40))

    assert refused.value.reason == "used"
    assert "13:58 UTC" in refused.value.detail


def test_a_code_made_the_very_second_of_the_check_in_does_not_check_out():
    workshop = Stream().scheduled().attended("s-1", at(1, 9), None, method="kiosk").workshop()

    with pytest.raises(CodeUsed):
        door_step(workshop, scanned("s-1", at(1, 9)), "m-1", at(1, 9, 0, 30))


def test_the_same_code_checks_in_another_person_at_the_door():
    workshop = (
        Stream().scheduled().attended("s-1", at(1, 8, 58, 20), None, method="kiosk").workshop()
    )

    step = door_step(workshop, scanned("s-1", at(1, 8, 58)), "m-2", at(1, 8, 58, 40))

    assert step.direction == "in"


def test_once_checked_out_a_scan_records_nothing_more():
    workshop = Stream().scheduled().attended("s-1", at(1, 9), at(1, 10, 30)).workshop()

    with pytest.raises(WrongState) as refused:
        door_step(workshop, scanned("s-1", at(1, 10, 40)), "m-1", at(1, 10, 40, 5))

    assert "14:00 UTC and out at 15:30 UTC" in refused.value.detail


def test_a_scan_outside_the_sessions_door_hours_is_refused():
    workshop = Stream().scheduled().workshop()

    with pytest.raises(WrongState) as refused:
        door_step(workshop, scanned("s-1", at(1, 12)), "m-1", at(1, 12, 0, 5))

    assert "open on 1 May 2025 from 13:00 UTC to 16:30 UTC" in refused.value.detail


def test_a_code_of_a_session_no_longer_on_the_agenda_is_refused():
    workshop = Stream().scheduled().workshop()

    with pytest.raises(NotFound):
        door_step(workshop, scanned("s-9", at(1, 9)), "m-1", at(1, 9, 0, 5))


def test_a_door_open_across_midnight_says_both_days():
    late = session("s-9", at(1, 18), at(1, 19, 30))  # 23:00 UTC on 1 May to 00:30 on 2 May
    workshop = Stream().scheduled(late).workshop()

    with pytest.raises(WrongState) as refused:
        door_step(workshop, scanned("s-9", at(1, 12)), "m-1", at(1, 12, 0, 5))

    assert refused.value.detail.endswith(
        "open from 1 May 2025 at 22:00 UTC to 2 May 2025 at 01:30 UTC"
    )
