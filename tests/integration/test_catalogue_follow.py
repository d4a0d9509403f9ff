"""The catalogue follows the head by LISTEN (ledger/infra/notify.py): reads of programs cost
no query while nothing is stored, a change made by another process is seen once its NOTIFY
arrives, and this process's own catalogue writes are seen at once."""

from __future__ import annotations

import asyncio

from events.catalog import ProgramDefined
from events.postgres.connection import create_pool
from events.postgres.store import PostgresEventStore
from ledger.cli import SYSTEM
from ledger.commands import Ledger, catalogue
from ledger.infra.notify import following_catalogue
from tests.builders import facts


async def _until(condition, what: str) -> None:
    for _ in range(500):  # 10 s at most
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


async def test_programs_are_read_from_memory_until_something_is_stored(dsn, pool):
    here = Ledger(PostgresEventStore(pool))
    await catalogue.ensure_default_programs(here, SYSTEM)
    async with create_pool(dsn, min_size=1, max_size=2) as other_pool:
        elsewhere = Ledger(PostgresEventStore(other_pool))  # another process
        async with following_catalogue(dsn, here.catalogue):
            await _until(lambda: _following(here), "the follower is listening")
            await here.catalogue.programs()
            before = here.catalogue.refreshes
            for _ in range(20):
                assert sorted(await here.catalogue.programs()) == ["CMM", "CMOM"]
            assert here.catalogue.refreshes == before, "no query while nothing is stored"

            cmm = (await elsewhere.catalogue.programs())["CMM"].versions[-1]
            await catalogue.define_program(
                elsewhere, SYSTEM, ProgramDefined(program="Y", name="Y", association="y", rules=cmm)
            )

            async def defined() -> bool:
                return "Y" in await here.catalogue.programs()

            await _until(defined, "another process's program is seen")

            await catalogue.define_program(
                here, SYSTEM, ProgramDefined(program="X", name="X", association="x", rules=cmm)
            )
            assert "X" in await here.catalogue.programs(), "its own write, seen at once"


async def _following(ledger: Ledger) -> bool:
    return ledger.catalogue._following


async def test_events_of_other_types_do_not_make_the_catalogue_read_the_log(dsn, pool):
    here = Ledger(PostgresEventStore(pool))
    await catalogue.ensure_default_programs(here, SYSTEM)
    async with create_pool(dsn, min_size=1, max_size=2) as other_pool:
        elsewhere = PostgresEventStore(other_pool)
        async with following_catalogue(dsn, here.catalogue):
            await _until(lambda: _following(here), "the follower is listening")
            await here.catalogue.programs()
            before = here.catalogue.refreshes

            last = 0
            for version in range(5):
                written = await elsewhere.append(
                    "m-1", facts(1, "fee_paid"), expected_version=version
                )
                last = written.last_position

            async def heard_them() -> bool:
                return here.catalogue.heard >= last

            await _until(heard_them, "the follower heard the five appends of fees")
            cmm = (await here.catalogue.programs())["CMM"].versions[-1]
            assert here.catalogue.refreshes == before, "no read for the appends of fees"
            await catalogue.define_program(
                Ledger(elsewhere),
                SYSTEM,
                ProgramDefined(program="Y", name="Y", association="y", rules=cmm),
            )

            async def defined() -> bool:
                return "Y" in await here.catalogue.programs()

            await _until(defined, "the program defined after them is seen")
            assert here.catalogue.refreshes - before == 1, "one read, for the program"
