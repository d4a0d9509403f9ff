"""A read of a few event types uses the (type, position) index, whatever plan is cached.

asyncpg prepares every statement, and after five executions PostgreSQL may switch a
prepared statement to its generic plan, which cannot see the parameter values.  Forcing the
generic plan shows the plan every long-lived connection ends up with.
"""

from __future__ import annotations

import json

from events.postgres.reads import events_query
from tests.builders import facts

_GENERIC = "SET plan_cache_mode = force_generic_plan"
_FILTERED_BEFORE = """SELECT position FROM events
WHERE position > $1 AND type = ANY($3::text[]) ORDER BY position LIMIT $2"""


async def _ledger_with_two_rare_events(pg_store, pool) -> None:
    await pg_store.append("noise", facts(4000, type="completion_recorded"), expected_version=0)
    await pg_store.append("catalogue", facts(2, type="program_defined"), expected_version=0)
    await pool.execute("VACUUM ANALYZE events")


async def _generic_plan(pool, query: str) -> tuple[str, dict]:
    """The generic plan of `query` (args: 0, 1000, the rare type), as text and as JSON."""
    async with pool.acquire() as conn:
        await conn.execute(_GENERIC)
        await conn.execute(f"PREPARE q(bigint, bigint, text[]) AS {query}")
        args = "EXECUTE q(0, 1000, '{program_defined}')"
        text = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {args}"))
        analysed = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {args}")
        await conn.execute("DEALLOCATE q; RESET plan_cache_mode")
    return text, json.loads(analysed)[0]["Plan"]


def _nodes(plan: dict) -> list[dict]:
    return [plan, *(n for child in plan.get("Plans", []) for n in _nodes(child))]


async def test_the_old_filtered_read_walks_the_primary_key_under_the_generic_plan(pg_store, pool):
    await _ledger_with_two_rare_events(pg_store, pool)

    text, plan = await _generic_plan(pool, _FILTERED_BEFORE)

    assert "events_pkey" in text, text
    removed = sum(n.get("Rows Removed by Filter", 0) for n in _nodes(plan))
    assert removed >= 4000, text


async def test_a_filtered_read_scans_only_its_types_under_the_generic_plan(pg_store, pool):
    await _ledger_with_two_rare_events(pg_store, pool)

    text, plan = await _generic_plan(pool, events_query(types=True, up_to=False))

    assert "events_type_position" in text, text
    assert "events_pkey" not in text, text
    assert sum(n.get("Rows Removed by Filter", 0) for n in _nodes(plan)) == 0, text
    assert plan["Actual Rows"] == 2


async def test_a_filtered_read_up_to_a_position_also_uses_the_type_index(pg_store, pool):
    await _ledger_with_two_rare_events(pg_store, pool)
    # The projector's form binds after, limit, up_to, types; here up_to is the head.
    query = events_query(types=True, up_to=True).replace("$3", "4002").replace("$4", "$3")

    text, plan = await _generic_plan(pool, query)

    assert "events_type_position" in text, text
    assert "events_pkey" not in text, text
    assert plan["Actual Rows"] == 2
