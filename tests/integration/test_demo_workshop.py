"""The demo's three-day workshop (ledger/demo.py): whenever the demo is first started, its last
session is on (its kiosk ready to scan), its agenda is one the rules accept, Sam missed a
session and Lee arrived late to it, and a second start leaves it as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from events.postgres.connection import create_pool
from ledger.access.tokens import TokenStore
from ledger.cli import SYSTEM
from ledger.demo import WORKSHOP, demo_ledger, seed_demo
from ledger.domain.workshops.door import door_open
from ledger.domain.workshops.presence import credit_of
from ledger.queries.workshop_views import load_workshop
from tests.builders import SteppingClock

SHARE = Decimal("0.9")
"""The default min_presence of both default programs."""


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 6, 17, 15, 0, tzinfo=UTC),  # 10:00 in Texas
        datetime(2026, 6, 18, 4, 58, tzinfo=UTC),  # 23:58 in Texas: the panel ends at 23:59
        datetime(2026, 6, 18, 5, 2, tzinfo=UTC),  # 00:02 in Texas: it began the day before
    ],
    ids=["morning", "just-before-midnight-in-texas", "just-after-midnight-in-texas"],
)
async def test_the_demo_workshop_has_a_session_on_now_whenever_it_is_seeded(dsn, now):
    clock = SteppingClock(now)
    async with create_pool(dsn, min_size=1, max_size=2) as pool:
        ledger = demo_ledger(pool, clock)
        await seed_demo(ledger, TokenStore(pool, clock=clock), SYSTEM)
        workshop = await load_workshop(ledger.store, WORKSHOP)
        activity = await ledger.catalogue.activity(WORKSHOP)
        clock.advance(days=3)
        await seed_demo(ledger, TokenStore(pool, clock=clock), SYSTEM)  # a later start
        again = await load_workshop(ledger.store, WORKSHOP)

    assert workshop is not None
    assert activity is not None
    assert (activity.ends_on - activity.starts_on).days == 2
    panel = workshop.session("d3-panel")
    assert panel is not None
    assert panel.starts_at <= now < panel.ends_at
    assert door_open(panel, now)
    sam = {s.session_id: s for s in credit_of(workshop, "sam-short", SHARE).sessions}
    assert sam["d2-am"].outcome == "not_attended"
    lee = {s.session_id: s for s in credit_of(workshop, "lee-core", SHARE).sessions}
    assert lee["d2-am"].explanation == "arrived 30 minutes late: present for 60 of 90 minutes"
    assert lee["d3-panel"].outcome == "not_checked_out"
    assert again == workshop
