"""GET /customers from the read model: the same totals and pages, in the same order, as
the database path, for every sort, search, tie, missing value and placeholder."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import customer, order, wait_columns_current
from pymongo import ASCENDING

from libs.common.testing.pytest_plugin import CleanEnv
from services.ingest.audience.columns import Columns, StringTable
from services.ingest.audience.listing import (
    SORTS,
    StringRanks,
    list_page,
    page_order,
    search_query,
    sorted_codes,
)
from services.ingest.store import OBSOLETE_INDEXES, CustomerStore

pytestmark = pytest.mark.integration

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
WORDS = ["asha", "Asha", "bob", "BOB", "Émile", "émile", "zed", "Zoë", "a.b", "x y"]
ids = st.text(alphabet="aAbB0_-é", min_size=1, max_size=4)
word = st.sampled_from(WORDS) | st.text(alphabet="abAB é.", min_size=1, max_size=3)
number = st.sampled_from([0, 1, 2.5, 3, 1000.75])
date = st.sampled_from(
    [NOW - timedelta(days=d, milliseconds=m) for d in (0, 1, 30) for m in (0, 7)]
)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": word,
    "email": word.map(lambda w: f"{w.lower()}@x.io"),
    "city": word,
    "phone": st.sampled_from(["+91 98", "+1 555", "0zz"]),
    "total_spends": number,
    "visits": st.sampled_from([0, 1, 2, 40]),
    "order_count": st.sampled_from([0, 1, 2]),
    "last_visit": date,
    "created_at": date,
    "last_order_at": date,
}


@st.composite
def customer_doc(draw: st.DrawFn) -> dict[str, Any]:
    doc = {path: draw(value) for path, value in FIELDS.items() if draw(st.integers(0, 3))}
    if draw(st.integers(0, 5)) == 0:
        doc["placeholder"] = True
    return doc


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    docs=st.lists(customer_doc(), min_size=1, max_size=30),
    customer_ids=st.lists(ids, min_size=30, max_size=30, unique=True),
    needles=st.lists(st.sampled_from(["", "a", "A", "émile", "B", "@x", ".", "zz"]), max_size=2),
    page_size=st.integers(1, 7),
)
def test_model_and_database_give_the_same_pages_for_every_sort(
    clean_env: CleanEnv,
    docs: list[dict[str, Any]],
    customer_ids: list[str],
    needles: list[str],
    page_size: int,
) -> None:
    store = CustomerStore(clean_env.db("ingest"))
    store.customers.delete_many({})
    docs = [{"_id": cid, **doc} for cid, doc in zip(customer_ids, docs, strict=False)]
    store.customers.insert_many([dict(d) for d in docs])
    columns = Columns(capacity=4)
    columns.upsert(docs[: len(docs) // 2])  # half packed as after a load, half added later
    columns.prepare()
    list_page(columns, path="name", descending=False, needle="", skip=0, limit=1)  # ranked
    columns.upsert(docs)  # ... so the ranks are merged, not built from scratch
    for path in SORTS.values():
        for descending in (False, True):
            for needle in ["", *needles]:
                query = search_query(needle)
                for skip in (0, page_size, 2 * page_size):
                    found, total = store.list_customers(
                        skip=skip,
                        limit=page_size,
                        sort=[(path, -1 if descending else 1)],
                        query=query,
                    )
                    model = list_page(
                        columns,
                        path=path,
                        descending=descending,
                        needle=needle,
                        skip=skip,
                        limit=page_size,
                    )
                    assert model == ([d["_id"] for d in found], total), (path, descending, needle)


def test_page_order_picks_the_lowest_ties_at_the_page_boundary() -> None:
    key = np.array([1.0, 0.0, 1.0, 1.0, 1.0, -np.inf])
    tie = np.array([5, 9, 4, 0, 2, 7])
    assert list(page_order(key, tie, 0, 4)) == [5, 1, 3, 4]
    assert list(page_order(key, tie, 2, 4)) == [3, 4]
    assert list(page_order(key, tie, 4, 9)) == [2, 0]
    assert list(page_order(key, tie, 6, 9)) == []


def test_obsolete_customer_indexes_are_dropped_at_start(clean_env: CleanEnv) -> None:
    db = clean_env.db("ingest")
    db.customers.insert_one({"_id": "c1", "name": "x"})
    for spec in OBSOLETE_INDEXES:  # a database from before: five secondary indexes
        db.customers.create_index(list(spec.keys))
    assert len(db.customers.index_information()) == 6
    CustomerStore(db).ensure_indexes()
    CustomerStore(db).ensure_indexes()  # a second start changes nothing
    assert [i["key"] for i in db.customers.index_information().values()] == [[("_id", 1)]]
    keys = [i["key"] for i in db.orders.index_information().values()]
    assert [("customer_id", ASCENDING)] in keys


def seed(api: TestClient, drain: Callable[[str], int]) -> None:
    people = [
        customer(f"c{i:02d}", name=["Asha", "bob", "Émile"][i % 3], totalSpends=i % 4 * 10)
        for i in range(12)
    ]
    people[3].pop("lastVisit")  # missing: first ascending, last descending
    for person in people[:5]:
        person["city"] = "Pune"
    api.post("/api/customers/batch", json={"customers": people})
    api.post("/api/orders", json=order("o1", "ghost", 99_999))  # a placeholder
    api.post("/api/orders", json=order("o2", "c05", 7))
    drain("ingest")


def test_list_and_stats_come_from_the_model_as_they_would_from_the_database(
    make_api: Callable[..., TestClient], drain: Callable[[str], int]
) -> None:
    database = make_api(columns_enabled=False)
    seed(database, drain)
    model = make_api()
    wait_columns_current(model)
    for sort in ("-totalSpends", "name", "-name", "email", "lastVisit", "-lastVisit", "-city"):
        for params in ({}, {"q": "a"}, {"q": "ÉMILE", "pageSize": 2, "page": 2}):
            query = {"sort": sort, "pageSize": 5, **params}
            assert model.get("/api/customers", params=query).json() == (
                database.get("/api/customers", params=query).json()
            ), query
    stats = model.get("/api/customers/stats").json()
    assert stats == database.get("/api/customers/stats").json()
    assert stats["customers"] == 12  # the placeholder is not counted


def test_list_over_a_large_base_answers_503_while_the_model_loads(
    make_api: Callable[..., TestClient], drain: Callable[[str], int]
) -> None:
    seed(make_api(columns_enabled=False), drain)
    api = make_api(columns_scan_max_rows=5)
    wait_columns_current(api)
    preview = api.app.state.preview  # type: ignore[attr-defined]
    api.portal.call(preview.stop)  # type: ignore[union-attr]
    preview.columns = None  # type: ignore[union-attr]
    preview.expected_rows = 13  # type: ignore[union-attr]
    answer = api.get("/api/customers")
    assert answer.status_code == 503 and "Retry-After" in answer.headers
    assert answer.json()["error"]["details"]["state"] == "loading"
    preview.scan_max_rows = 100  # type: ignore[union-attr]
    assert api.get("/api/customers").json()["total"] == 12  # small enough: the database


@pytest.mark.parametrize("step", [1, 3, 50])
def test_string_ranks_stay_sorted_as_the_table_grows(step: int) -> None:
    rng = random.Random(step)
    table = StringTable()
    ranks = StringRanks(table)
    strings = list(dict.fromkeys("".join(rng.choices("aAbé0 ", k=5)) for _ in range(400)))
    for start in range(0, len(strings), step):
        table.codes(strings[start : start + step])
        if start == 200:
            table.pack()
        rank = ranks.current()
        known = strings[: start + step]
        assert [known[c] for c in np.argsort(rank)] == sorted(known)


@settings(max_examples=200, deadline=None)
@given(
    strings=st.lists(
        st.text(alphabet="ab\x01é€Z 9", max_size=20)
        | st.sampled_from(["abcdefghijklmnop", "abcdefghijklmnopq", "abcdefghijklmnoo~"]),
        unique=True,
        max_size=60,
    ),
    packed=st.booleans(),
)
def test_sorted_codes_is_the_strings_code_point_order(strings: list[str], packed: bool) -> None:
    table = StringTable()
    half = len(strings) // 2
    table.codes(strings[:half])
    if packed:
        table.pack()  # the vectorised prefixes (ASCII) or the per-string ones
    table.codes(strings[half:])  # and a tail not packed yet
    assert [table[int(c)] for c in sorted_codes(table)] == sorted(strings)
