"""Pure logic of the ingest service: the entry envelope, batch validation, aggregates,
the columnar model's text search, CSV rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pytest
from ingest_helpers import customer, order

from libs.common.errors import ValidationFailed
from libs.common.events import CustomerRecord, CustomersUpserted, OrdersRecorded, decode
from libs.common.rules import parse_rules
from services.ingest.aggregates import build_customer, same_content
from services.ingest.audience.columns import Columns, StringTable, evaluate
from services.ingest.intake import KINDS, encode_chunks, validate_body, validate_items
from services.ingest.models import parse_date, round_cents
from services.ingest.store import portable
from services.ingest.views import csv_item

pytestmark = pytest.mark.unit
NOW = datetime(2025, 1, 1, tzinfo=UTC)


CUSTOMERS, ORDERS = KINDS["customers"], KINDS["orders"]


def _body(kind: str, items: list[object]) -> bytes:
    return orjson.dumps({kind: items})


def test_hot_path_entries_decode_as_the_shared_event_models() -> None:
    body = _body("customers", [customer(f"c{i}", city="Pune") for i in range(5)])
    valid, _ = validate_body(CUSTOMERS, body, batch=True, max_batch=10)
    entries = encode_chunks(CUSTOMERS, valid, 2, import_id="imp1")
    events = [decode(f"1-{i}", dict(e.items())) for i, e in enumerate(entries)]
    assert [len(e.customers) for e in events] == [2, 2, 1]  # type: ignore[attr-defined]
    assert all(isinstance(e, CustomersUpserted) and e.import_id == "imp1" for e in events)
    assert events[0].customers[0].city == "Pune"  # type: ignore[attr-defined]
    orders, _ = validate_body(
        ORDERS, _body("orders", [order("o1", "c1", 10.006)]), batch=True, max_batch=10
    )
    [entry] = encode_chunks(ORDERS, orders, 500)
    event = decode("1-0", dict(entry.items()))
    assert isinstance(event, OrdersRecorded) and event.orders[0].amount == 10.01


@pytest.mark.parametrize("whole_body", [True, False])
def test_batch_validation_keeps_order_and_reports_every_bad_item(whole_body: bool) -> None:
    items: list[object] = [
        customer("a"),
        "not an object",
        customer("b", email="x@y"),
        customer("late", lastVisit="2999-01-01T00:00:00Z"),
        customer("c"),
    ]
    if whole_body:
        valid, rejected = validate_body(
            CUSTOMERS, _body("customers", items), batch=True, max_batch=10
        )
    else:
        valid, rejected = validate_items(CUSTOMERS, items)
    assert [c["id"] for c in valid] == ["a", "c"]
    assert [(r.index, r.id) for r in rejected] == [(1, None), (2, "b"), (3, "late")]
    assert rejected[2].errors == [
        {"field": "lastVisit", "message": "Value error, date must not be in the future"}
    ]


def test_a_valid_body_over_the_batch_limit_is_refused() -> None:
    body = _body("customers", [customer(f"c{i}") for i in range(3)])
    with pytest.raises(ValidationFailed, match="at most 2"):
        validate_body(CUSTOMERS, body, batch=True, max_batch=2)


def test_emails_are_stored_lowercase_dates_in_utc_tags_once_and_money_in_cents() -> None:
    items = [
        customer("a", email="Asha@Example.COM", tags=["vip", "new", "vip"], totalSpends=10.126),
        customer("n", lastVisit="2024-01-01T10:00:00"),
        customer("z", lastVisit="2024-01-01T10:00:00+05:30"),
        customer("u", lastVisit="2024-01-01T10:00:00Z"),
    ]
    [a, n, z, u], rejected = validate_body(
        CUSTOMERS, _body("customers", items), batch=True, max_batch=10
    )
    assert not rejected
    assert a["email"] == "asha@example.com" and a["tags"] == ["vip", "new"]
    assert a["total_spends"] == 10.13
    assert n["last_visit"] == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert z["last_visit"] == datetime(2024, 1, 1, 4, 30, tzinfo=UTC)
    assert z["last_visit"].tzinfo is UTC
    assert u["last_visit"] == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert u["last_visit"].tzinfo is UTC, "one tzinfo object: dates compare without utcoffset()"


HALF_WAY_AND_BINARY_EDGES = [
    0.0,
    0.125,
    0.375,
    1.005,
    2.675,
    10.126,
    0.285,
    1e12,
    999_999_999_999.995,
]


def test_round_cents_is_round_to_two_places_on_every_value() -> None:
    rng = np.random.default_rng(7)
    values = [
        *HALF_WAY_AND_BINARY_EDGES,
        *(float(v) for v in rng.uniform(0, 1e12, 20_000)),  # many decimals
        *(round(float(v), d) for d in (1, 2, 3) for v in rng.uniform(0, 1e6, 10_000)),
        *(k / 100 for k in range(0, 100_000, 7)),  # already in cents: the fast path
        *(k / 1000 + 0.0005 for k in range(0, 10_000)),  # half a cent off, near ties
    ]
    assert [round_cents(v) for v in values] == [round(v, 2) for v in values]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2024-01-01T10:00:00Z", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01T10:00:00.250+00:00", datetime(2024, 1, 1, 10, 0, 0, 250_000, tzinfo=UTC)),
        ("2024-01-01T10:00:00-02:00", datetime(2024, 1, 1, 12, tzinfo=UTC)),
        ("2024-01-01", datetime(2024, 1, 1, tzinfo=UTC)),
        (1_704_103_200, datetime(2024, 1, 1, 10, tzinfo=UTC)),  # unix seconds (pydantic)
        ("1704103200", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        (datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 10, tzinfo=UTC)),
    ],
)
def test_dates_are_read_as_iso_text_or_what_pydantic_reads(
    given: object, expected: datetime
) -> None:
    parsed = parse_date(given, NOW)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("yesterday", "Input should be a valid datetime"),
        ({"day": 1}, "Input should be a valid datetime"),
        (None, "Input should be a valid datetime"),
        ("1899-12-31T23:59:59Z", "Value error, date must be after 1900-01-01"),
        ("2999-01-01T00:00:00Z", "Value error, date must not be in the future"),
    ],
)
def test_a_record_with_an_unreadable_or_insane_date_is_refused_with_the_reason(
    given: object, message: str
) -> None:
    body = _body("orders", [order("ok", "c1", 5), {**order("bad", "c1", 5), "date": given}])
    valid, [rejected] = validate_body(ORDERS, body, batch=True, max_batch=10)
    assert [o["id"] for o in valid] == ["ok"]
    assert rejected.index == 1 and rejected.id == "bad"
    [error] = rejected.errors
    assert error["field"] == "date" and error["message"].startswith(message)


def _record(**kw: object) -> CustomerRecord:
    return CustomerRecord(id="c1", name="Asha", email="a@x.io", total_spends=10, **kw)


def test_customer_document_recounts_orders_and_moves_last_visit_forward() -> None:
    orders = [
        {"amount": 5.5, "date": datetime(2024, 3, 1, tzinfo=UTC)},
        {"amount": 4.5, "date": datetime(2024, 1, 1, tzinfo=UTC)},
    ]
    doc = build_customer(None, _record(last_visit=datetime(2024, 2, 1, tzinfo=UTC)), orders, NOW)
    assert doc is not None
    assert (doc["total_spends"], doc["order_count"], doc["order_spends"]) == (20, 2, 10)
    assert doc["last_visit"] == doc["last_order_at"] == datetime(2024, 3, 1, tzinfo=UTC)
    assert doc["created_at"] == NOW and doc["contactable"] is True
    assert not any(v is None or v == [] for v in doc.values())


def test_placeholder_keeps_only_aggregates_and_is_replaced_by_the_record() -> None:
    orders = [{"amount": 7, "date": datetime(2024, 3, 1, tzinfo=UTC)}]
    placeholder = build_customer(None, None, orders, NOW)
    assert placeholder is not None and placeholder["placeholder"] is True
    assert "contactable" not in placeholder and placeholder["total_spends"] == 7
    merged = build_customer({"_id": "c1", **placeholder}, _record(), orders, NOW)
    assert merged is not None and "placeholder" not in merged and merged["total_spends"] == 17
    assert build_customer(None, None, [], NOW) is None


def test_unchanged_rebuild_is_recognised_so_redelivery_writes_nothing() -> None:
    doc = build_customer(None, _record(), [], NOW)
    assert doc is not None
    stored = {"_id": "c1", **doc, "version": "v1", "updated_at": NOW}
    again = build_customer(stored, _record(), [], NOW)
    assert again is not None and same_content(stored, again)
    changed = build_customer(stored, _record(city="Pune"), [], NOW)
    assert changed is not None and not same_content(stored, changed)


def test_columns_contains_is_case_insensitive_and_literal() -> None:
    cols = Columns(capacity=1)
    names = ["Asha Rao", "ASHOK", "bob.s", "bobXs", "Zed"]
    cols.upsert({"_id": f"c{i}", "name": n, "contactable": True} for i, n in enumerate(names))
    cols.upsert([{"_id": "c4", "name": "zedd ash"}])  # update in place, now not contactable

    def select(value: str) -> list[str]:
        condition = {"field": "name", "operator": "contains", "value": value}
        group = parse_rules({"conditions": [condition]})
        return [cols.ids[i] for i in cols.audience(group, NOW).nonzero()[0]]

    assert select("ash") == ["c0", "c1"]
    assert select("b.s") == ["c2"]  # a dot is a dot
    assert cols.n == 5
    # answers are cached per needle; new vocabulary is still searched
    cols.upsert([{"_id": "c9", "name": "Prakash", "contactable": True}])
    cols.upsert([{"_id": "c1", "name": "Ravi", "contactable": True}])
    assert select("ash") == ["c0", "c9"]


def test_csv_rows_become_api_items() -> None:
    row = {"id": " c1 ", "tags": "vip; new|x", "phone": "", "attributes": '{"tier": 2}'}
    row[None] = ["z"]  # type: ignore[index]
    item = csv_item(row)
    assert item == {
        "id": "c1",
        "tags": ["vip", "new", "x"],
        "attributes": {"tier": 2},
        "(extra cells)": ["z"],
    }


def test_not_equal_is_spelled_to_match_absent_fields_on_every_server() -> None:
    flt = {"b": 2, "a": {"$ne": 1}, "$or": [{"c": {"$ne": "x"}}, {"d": {"$gt": 1}}]}
    assert portable(flt) == {
        "$and": [
            {
                "b": 2,
                "$or": [
                    {"$or": [{"c": {"$ne": "x"}}, {"c": {"$exists": False}}]},
                    {"d": {"$gt": 1}},
                ],
            },
            {"$or": [{"a": {"$ne": 1}}, {"a": {"$exists": False}}]},
        ]
    }
    assert portable({}) == {}


def test_columns_sample_takes_the_first_matches_across_mask_blocks() -> None:
    cols = Columns()
    cols.upsert({"_id": f"c{i}", "visits": i, "contactable": True} for i in range(70_000))
    condition = {"field": "visits", "operator": ">=", "value": 65_530}
    group = parse_rules({"conditions": [condition]})
    mask = cols.audience(group, NOW)
    sample = cols.sample(mask, 10, ["visits"])
    assert [s["visits"] for s in sample] == list(range(65_530, 65_540))
    assert len(cols.sample(mask, 100_000, [])) == 70_000 - 65_530


def test_string_table_keeps_codes_and_finds_values_packed_or_not() -> None:
    table = StringTable()
    values = ["b", "A", "İx", "b2", "", "a\x00b"]  # İ lowercases to two characters
    assert table.codes(values).tolist() == [0, 1, 2, 3, 4, 5]
    table.pack()  # a NUL in a value: stays unpacked, still right
    assert [table[c] for c in range(6)] == values
    table = StringTable()
    assert table.codes(values[:5]).tolist() == [0, 1, 2, 3, 4]
    table.pack()
    assert table.codes(["zz", "b", "A", "zz"]).tolist() == [5, 0, 1, 5]
    assert [table[c] for c in range(6)] == [*values[:5], "zz"]
    assert table.find("İx") == 2 and table.find("b2") == 3 and table.find("nope") is None
    assert table.contains("i̇x").tolist() == [False, False, True, False, False, False]
    assert table.contains("b").tolist() == [True, False, False, True, False, False]
    table.pack()
    assert table.contains("z").tolist() == [False] * 5 + [True]
    assert table.contains("").all()


def test_columns_tag_sets_follow_updates() -> None:
    cols = Columns(capacity=1)
    cols.upsert([{"_id": "a", "tags": ["vip"]}, {"_id": "b", "tags": ["new", "vip", "new"]}])
    cols.upsert([{"_id": "a"}, {"_id": "c", "tags": ["new"]}])  # a lost its tags

    def select(op: str, value: Any) -> list[str]:
        group = parse_rules({"conditions": [{"field": "tags", "operator": op, "value": value}]})
        return [cols.ids[i] for i in np.flatnonzero(evaluate(cols, group, NOW))]

    assert select("contains", "vip") == ["b"]
    assert select("in", ["new", "x"]) == ["b", "c"]
    assert select("exists", False) == ["a"]
    assert cols.row_view(1, ["tags"])["tags"] == ["new", "vip"]
