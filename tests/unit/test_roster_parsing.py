"""A roster's body read in one pass when every item is well-formed (ledger/http/rosters.py),
item by item otherwise: the postings read are the same either way, and a bad item is
rejected on its own line, naming its field."""

from __future__ import annotations

import msgspec
import pytest

from ledger.commands import PostCompletion
from ledger.http.rosters import batch_items
from ledger.queries.views import ItemResult


def _item(n: int, **changes: object) -> dict[str, object]:
    item: dict[str, object] = {
        "external_id": f"x-{n}", "manager_id": "m-1", "activity_id": "a-1",
        "completed_on": "2026-05-04", "ceus": "1.25",
    }  # fmt: skip
    return item | changes


def _json(items: list[object]) -> bytes:
    return msgspec.json.encode({"items": items})


def _csv(items: list[dict[str, object]]) -> bytes:
    lines = ["external_id,manager_id,activity_id,completed_on,ceus"]
    lines += [",".join(str(v) for v in item.values()) for item in items]
    return "\n".join(lines).encode()


BAD: list[tuple[str, object, str]] = [
    ("a number as a date", _item(9, completed_on=20260504), "completed_on"),
    ("an unknown field", _item(9, note="hi"), "note"),
    ("an exponent", _item(9, ceus="1e1"), "ceus"),
    ("a control character", _item(9, external_id="x\x00"), "external_id"),
    ("not an object", [1, 2], "item"),
]


@pytest.mark.parametrize(("label", "bad", "field"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_item_is_rejected_alone_and_the_others_read_as_when_all_are_good(label, bad, field):
    good = [_item(n, ceus=n + 0.5 if n % 2 else str(n)) for n in range(4)]

    alone = batch_items(_json(good), "application/json")
    mixed = batch_items(_json([*good[:2], bad, *good[2:]]), "application/json")

    assert all(isinstance(p, PostCompletion) for p in alone)
    assert alone == [*mixed[:2], *mixed[3:]]
    rejected = mixed[2]
    assert isinstance(rejected, ItemResult)
    assert rejected.status == "rejected"
    assert rejected.error is not None
    assert rejected.error["errors"][0]["field"].split(".")[-1] == field


def test_a_csv_roster_reads_the_same_postings_as_its_json():
    items = [_item(n) for n in range(5)]

    assert batch_items(_csv(items), "text/csv") == batch_items(_json(items), "application/json")
