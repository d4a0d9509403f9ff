"""The door of a workshop session (SPEC 11): the kiosk's short-lived signed check-in codes, and
whether a manager's scan checks them in or out.

A code names an activity, one of its sessions and the second the kiosk made it, signed with
HMAC-SHA256 under the server's key: `{payload}.{signature}`, both base64url without padding,
the payload the JSON `[activity_id, session_id, issued_at]` (seconds since the epoch).  The
kiosk shows a new code every `ROTATION` (30 s); a code is good for `CODE_LIFE` (60 s) after it
was made, so a code read at the last second it was shown still leaves half a minute to confirm.

What a code is useless for, exactly (each a refusal here, each tested):

* **after its minute**: read at `now`, a code made at `issued` is good only while
  `issued - SKEW <= now < issued + CODE_LIFE` (`CodeExpired`; `SKEW` forgives two servers'
  clocks a few seconds apart);
* **for another session**: the activity and the session are inside the signed payload; a code
  changed to name another session (or anything else) fails its signature (`CodeUnreadable`),
  and a scan records attendance only at the session its code names;
* **replayed**: a code moves its holder through the door once.  The first scan of a session
  checks the manager in; a later one checks them out, but only with a code made *after* the
  check-in (`issued > checked_in_at`).  So the code that checked someone in, or the captured
  request that carried it, sent again, is refused (`CodeUsed`), and after its minute it is
  expired anyway; once checked out, a scan is refused (`WrongState`).
* **for another person's session cookie**: the code names no person; the scan is recorded for
  the manager signed in, and the page's confirm form carries a CSRF token bound to that
  person's session (ledger/web/session.py), so one person's form sent with another's cookie
  is refused before anything here is asked.  What no code can tell is a link forwarded within
  its minute to someone not at the door; the minute is what limits that.

The door of a session is open from `DOOR_OPENS` before it starts until `DOOR_CLOSES` after it
ends: the kiosk makes codes, and a scan is recorded, only then.  Pure: the key and the instants
are arguments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import msgspec

from ledger.domain.errors import DomainError, NotFound, WrongState

if TYPE_CHECKING:
    from events.catalog import Session
    from ledger.domain.workshops.agenda import Workshop

__all__ = [
    "CODE_LIFE",
    "DOOR_CLOSES",
    "DOOR_OPENS",
    "ROTATION",
    "SKEW",
    "CodeExpired",
    "CodeRefused",
    "CodeUnreadable",
    "CodeUsed",
    "DoorCode",
    "DoorStep",
    "door_key",
    "door_open",
    "door_step",
    "make_code",
    "read_code",
]

ROTATION = timedelta(seconds=30)
CODE_LIFE = timedelta(seconds=60)
SKEW = timedelta(seconds=5)
DOOR_OPENS = timedelta(minutes=60)
DOOR_CLOSES = timedelta(minutes=60)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_Payload = tuple[str, str, int]


class CodeRefused(DomainError):
    """A check-in code that cannot be used: why, as data (`reason`)."""

    reason = "refused"


class CodeUnreadable(CodeRefused):
    """Not a code this server made: garbled, cut short, or changed after it was signed."""

    reason = "unreadable"

    def __init__(self) -> None:
        super().__init__("this is not a check-in code of this ledger: scan the code at the door")


class CodeExpired(CodeRefused):
    reason = "expired"

    def __init__(self, issued_at: datetime) -> None:
        super().__init__(
            f"this code was made at {issued_at:%H:%M:%S} UTC and is good for one minute:"
            " scan the code the door shows now"
        )
        self.issued_at = issued_at


class CodeUsed(CodeRefused):
    """The code was made before the manager checked in: it is the one that checked them in."""

    reason = "used"

    def __init__(self, checked_in_at: datetime) -> None:
        super().__init__(
            f"this code checked you in at {_hm(checked_in_at)}; to check out, scan the"
            " next code the door shows (it changes every 30 seconds)"
        )
        self.checked_in_at = checked_in_at


class DoorCode(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: str
    session_id: str
    issued_at: datetime


class DoorStep(msgspec.Struct, frozen=True, kw_only=True):
    """What a scan records: a check-in (no check-out yet), or the check-out completing it."""

    direction: Literal["in", "out"]
    checked_in_at: datetime
    checked_out_at: datetime | None = None


def door_key(secret: bytes) -> bytes:
    """The codes' own key, derived from the server's secret (never the cookies' key itself)."""
    return hmac.new(secret, b"ceu-ledger check-in codes", hashlib.sha256).digest()


def _hm(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%H:%M} UTC"


def _span(start: datetime, end: datetime) -> str:
    """ "on 16 June 2026 from 17:00 UTC to 20:30 UTC" (each day said when they differ)."""
    first, last = start.astimezone(UTC), end.astimezone(UTC)
    day = f"{first.day} {first:%B %Y}"
    if first.date() == last.date():
        return f"on {day} from {_hm(first)} to {_hm(last)}"
    return f"from {day} at {_hm(first)} to {last.day} {last:%B %Y} at {_hm(last)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16])


def make_code(key: bytes, activity_id: str, session_id: str, issued_at: datetime) -> str:
    """The code of a session, made at `issued_at` (kept to the second)."""
    seconds = int((issued_at - _EPOCH).total_seconds())
    payload = _b64(msgspec.json.encode((activity_id, session_id, seconds)))
    return f"{payload}.{_signature(key, payload)}"


def _payload(key: bytes, code: str) -> _Payload:
    payload, dot, signature = code.partition(".")
    if not dot or not hmac.compare_digest(signature, _signature(key, payload)):
        raise CodeUnreadable()
    try:
        return msgspec.json.decode(_unb64(payload), type=_Payload)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise CodeUnreadable() from exc


def read_code(key: bytes, code: str, now: datetime) -> DoorCode:
    """The session a code names, if it is this server's and still good at `now`."""
    activity_id, session_id, seconds = _payload(key, code)
    issued_at = _EPOCH + timedelta(seconds=seconds)
    if not issued_at - SKEW <= now < issued_at + CODE_LIFE:
        raise CodeExpired(issued_at)
    return DoorCode(activity_id=activity_id, session_id=session_id, issued_at=issued_at)


def door_open(session: Session, now: datetime) -> bool:
    return session.starts_at - DOOR_OPENS <= now <= session.ends_at + DOOR_CLOSES


def door_step(workshop: Workshop, code: DoorCode, manager_id: str, now: datetime) -> DoorStep:
    """What `manager_id`'s scan of `code` at `now` records: a check-in, or the check-out of
    the check-in it completes; else why not."""
    session = workshop.session(code.session_id)
    if session is None:
        raise NotFound("session", code.session_id)
    if not door_open(session, now):
        opens, closes = session.starts_at - DOOR_OPENS, session.ends_at + DOOR_CLOSES
        raise WrongState(f"the door of {session.title} is open {_span(opens, closes)}")
    held = workshop.attendance.get((manager_id, code.session_id))
    if held is None:
        return DoorStep(direction="in", checked_in_at=now)
    if held.checked_out_at is not None:
        raise WrongState(
            f"you checked in at {_hm(held.checked_in_at)} and out at"
            f" {_hm(held.checked_out_at)}: nothing more to record"
        )
    if code.issued_at <= held.checked_in_at:
        raise CodeUsed(held.checked_in_at)
    return DoorStep(direction="out", checked_in_at=held.checked_in_at, checked_out_at=now)
