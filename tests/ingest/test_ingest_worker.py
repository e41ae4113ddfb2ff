"""Ingest worker: bulk upserts with exactly-once order aggregates under redelivery."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from ingest_helpers import customer, order

from libs.common.events import CustomersUpserted, OrdersRecorded, decode
from libs.common.testing.pytest_plugin import CleanEnv
from services.ingest.audience.changes import CHANGES_STREAM, parse_docs
from services.ingest.handlers import Deps, record_orders, upsert_customers
from services.ingest.store import CustomerStore

pytestmark = pytest.mark.integration


def stored(clean_env: CleanEnv, cid: str) -> dict:
    doc = clean_env.db("ingest").customers.find_one({"_id": cid})
    assert doc is not None, f"customer {cid} not stored"
    return doc


def entries(clean_env: CleanEnv) -> list:
    return [decode(i.decode(), f) for i, f in clean_env.redis.xrange("ingest")]


def announced(clean_env: CleanEnv) -> list[list[str]]:
    """The customer ids of each change notice."""
    notices = clean_env.redis.xrange(CHANGES_STREAM)
    return [[d["_id"] for d in parse_docs(fields)] for _, fields in notices]


def test_orders_add_to_the_customer_aggregates(
    api: TestClient, drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    api.post("/api/customers", json=customer("c1", totalSpends=1000, lastVisit="2024-01-01"))
    api.post(
        "/api/orders/batch",
        json={
            "orders": [
                order("o1", "c1", 250.25, "2024-02-01T00:00:00Z"),
                order("o2", "c1", 100, "2024-05-01T00:00:00Z"),
            ]
        },
    )
    drain("ingest")
    doc = stored(clean_env, "c1")
    assert doc["total_spends"] == 1350.25
    assert doc["order_count"] == 2
    assert doc["last_order_at"] == datetime(2024, 5, 1, tzinfo=UTC)
    assert doc["last_visit"] == datetime(2024, 5, 1, tzinfo=UTC)  # moved forward
    assert doc["contactable"] is True and "placeholder" not in doc
    detail = api.get("/api/customers/c1").json()
    assert detail["totalSpends"] == 1350.25 and detail["orderCount"] == 2
    assert [o["id"] for o in detail["orders"]] == ["o2", "o1"]


def test_redelivered_entries_leave_the_same_totals(
    api: TestClient, deps: Deps, clean_env: CleanEnv
) -> None:
    api.post("/api/customers", json=customer("c1", totalSpends=10))
    api.post("/api/orders/batch", json={"orders": [order("o1", "c1", 5), order("o2", "c1", 7)]})
    customers_entry, orders_entry = entries(clean_env)
    for _ in range(3):  # every entry handled three times, in both orders
        upsert_customers([customers_entry], deps)
        record_orders([orders_entry], deps)
        record_orders([orders_entry, orders_entry], deps)
        upsert_customers([customers_entry], deps)
    doc = stored(clean_env, "c1")
    assert (doc["total_spends"], doc["order_count"]) == (22, 2)
    assert clean_env.db("ingest").orders.count_documents({}) == 2


def test_orders_before_their_customer_count_once_and_merge_into_it(
    api: TestClient, deps: Deps, clean_env: CleanEnv
) -> None:
    api.post("/api/orders", json=order("o1", "late", 40, "2024-06-01T00:00:00Z"))
    api.post("/api/customers", json=customer("late", totalSpends=60, lastVisit="2024-01-01"))
    orders_entry, customers_entry = entries(clean_env)
    assert isinstance(orders_entry, OrdersRecorded)
    assert isinstance(customers_entry, CustomersUpserted)

    record_orders([orders_entry], deps)
    placeholder = stored(clean_env, "late")
    assert placeholder["placeholder"] is True and placeholder["total_spends"] == 40
    assert "contactable" not in placeholder and "name" not in placeholder
    listed = api.get("/api/customers").json()
    assert listed["total"] == 0  # placeholders are not listed

    upsert_customers([customers_entry], deps)
    record_orders([orders_entry], deps)  # a late redelivery changes nothing
    doc = stored(clean_env, "late")
    assert "placeholder" not in doc and doc["contactable"] is True
    assert (doc["total_spends"], doc["order_count"]) == (100, 1)
    assert doc["last_visit"] == datetime(2024, 6, 1, tzinfo=UTC)


def test_updating_a_customer_keeps_its_order_aggregates_and_drops_cleared_fields(
    api: TestClient, drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    api.post("/api/customers", json=customer("c1", city="Pune", tags=["vip"], totalSpends=5))
    api.post("/api/orders", json=order("o1", "c1", 20))
    drain("ingest")
    api.post("/api/customers", json=customer("c1", totalSpends=50, name="Asha Rao"))
    drain("ingest")
    doc = stored(clean_env, "c1")
    assert doc["name"] == "Asha Rao"
    assert (doc["total_spends"], doc["order_count"]) == (70, 1)
    assert "city" not in doc and "tags" not in doc  # never stored as null or []


def test_every_write_is_announced_on_the_changes_stream(
    api: TestClient, drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    api.post("/api/customers/batch", json={"customers": [customer("a"), customer("b")]})
    api.post("/api/orders", json=order("o1", "z", 1))
    drain("ingest")
    assert announced(clean_env) == [["a", "b"], ["z"]]


def test_a_redelivery_after_a_crash_before_the_notice_announces_again(
    api: TestClient, deps: Deps, clean_env: CleanEnv
) -> None:
    api.post("/api/customers/batch", json={"customers": [customer("a"), customer("b")]})
    [entry] = entries(clean_env)
    deps.store.upsert_customers(entry.customers)  # written, then the worker died
    upsert_customers([entry], deps)  # the redelivery finds nothing to write
    assert announced(clean_env) == [["a", "b"]]


def test_list_is_paged_sorted_and_searchable(api: TestClient, drain: Callable[[str], int]) -> None:
    people = [
        customer("c1", name="Asha Rao", totalSpends=300),
        customer("c2", name="Bob Stone", totalSpends=100, email="bob@stone.io"),
        customer("c3", name="Chen (Li)", totalSpends=200, city="Mumbai"),
    ]
    api.post("/api/customers/batch", json={"customers": people})
    drain("ingest")
    page = api.get("/api/customers", params={"pageSize": 2, "sort": "-totalSpends"}).json()
    assert [c["id"] for c in page["items"]] == ["c1", "c3"] and page["total"] == 3
    page2 = api.get("/api/customers", params={"pageSize": 2, "page": 2}).json()
    assert [c["id"] for c in page2["items"]] == ["c2"]
    assert [c["id"] for c in api.get("/api/customers?q=STONE").json()["items"]] == ["c2"]
    assert [c["id"] for c in api.get("/api/customers?q=(li)").json()["items"]] == ["c3"]
    assert api.get("/api/customers?q=.*").json()["total"] == 0  # regex is escaped
    city = api.get("/api/customers", params={"q": "mumbai"}).json()  # the box says city too
    assert [c["id"] for c in city["items"]] == ["c3"]
    assert api.get("/api/customers?sort=password").status_code == 422
    stats = api.get("/api/customers/stats").json()
    assert stats == {"customers": 3, "orders": 0, "revenue": 0}
    assert api.get("/api/customers/nobody").status_code == 404


class RacingOrders:
    """The orders collection, with a competing write of the customer slipped in between
    this worker's read of the customer and its read of the orders (once)."""

    def __init__(self, deps: Deps, cid: str) -> None:
        self.real, self.deps, self.cid, self.raced = deps.store.orders, deps, cid, False

    def find(self, *args: object, **kwargs: object) -> object:
        if not self.raced:
            self.raced = True
            customers = self.deps.store.customers
            doc = customers.find_one({"_id": self.cid})
            theirs = {**doc, "version": doc["version"] + 1, "visits": 99}
            customers.replace_one({"_id": self.cid}, theirs)
        return self.real.find(*args, **kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def test_a_write_that_loses_a_race_is_redone_on_the_newer_document(
    api: TestClient, deps: Deps, drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    api.post("/api/customers", json=customer("c1", totalSpends=10))
    drain("ingest")
    api.post("/api/orders", json=order("o1", "c1", 5))
    [_, orders_entry] = entries(clean_env)
    deps.store.orders = RacingOrders(deps, "c1")  # type: ignore[assignment]
    record_orders([orders_entry], deps)
    doc = stored(clean_env, "c1")
    assert doc["version"] == 3  # 1: ours, 2: theirs, 3: redone after losing, not over 1
    assert doc["visits"] == 99  # the competing write's content was kept
    assert (doc["total_spends"], doc["order_count"]) == (15, 1)


class RacingCustomers:
    """The customers collection, with a competing write run right after this worker's
    first read of the documents (once), before its own write."""

    def __init__(self, deps: Deps, race: Callable[[], object]) -> None:
        self.real, self.race, self.raced = deps.store.customers, race, False

    def find(self, *args: object, **kwargs: object) -> object:
        found = list(self.real.find(*args, **kwargs))
        if not self.raced:
            self.raced = True
            self.race()
        return found

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def test_a_customer_update_racing_an_order_keeps_the_order_counted(
    api: TestClient, deps: Deps, drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    api.post("/api/customers", json=customer("c1", totalSpends=10))
    drain("ingest")
    api.post("/api/customers", json=customer("c1", totalSpends=10, name="Asha Rao"))
    api.post("/api/orders", json=order("o1", "c1", 5, "2024-06-01T00:00:00Z"))
    [_, customers_entry, orders_entry] = entries(clean_env)
    other = CustomerStore(deps.store.db)  # a second worker, recounting c1 meanwhile
    deps.store.customers = RacingCustomers(  # type: ignore[assignment]
        deps, lambda: other.insert_orders(orders_entry.orders)
    )
    upsert_customers([customers_entry], deps)
    doc = stored(clean_env, "c1")
    assert doc["name"] == "Asha Rao"  # the record was written ...
    assert (doc["total_spends"], doc["order_count"]) == (15, 1)  # ... over the recount
    assert doc["last_visit"] == datetime(2024, 6, 1, tzinfo=UTC)


def test_a_new_customer_racing_its_first_order_merges_with_the_placeholder(
    api: TestClient, deps: Deps, clean_env: CleanEnv
) -> None:
    api.post("/api/orders", json=order("o1", "new", 40))
    api.post("/api/customers", json=customer("new", totalSpends=60))
    orders_entry, customers_entry = entries(clean_env)
    other = CustomerStore(deps.store.db)  # creates the placeholder after our read
    deps.store.customers = RacingCustomers(  # type: ignore[assignment]
        deps, lambda: other.insert_orders(orders_entry.orders)
    )
    upsert_customers([customers_entry], deps)
    doc = stored(clean_env, "new")
    assert "placeholder" not in doc and doc["contactable"] is True
    assert (doc["total_spends"], doc["order_count"]) == (100, 1)
    assert announced(clean_env) == [["new"]]  # the insert that lost is not announced twice


def test_an_order_ids_first_version_wins_inside_a_batch_and_across_requests(
    api: TestClient, drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    api.post("/api/customers", json=customer("c1", totalSpends=0))
    batch = {
        "orders": [
            order("o1", "c1", 100),
            order("o1", "c1", 999),  # another version: reported, not applied
            order("o1", "c1", 100),  # the same order sent twice: nothing to report
            order("o2", "c1", 50),
        ]
    }
    answer = api.post("/api/orders/batch", json=batch).json()
    assert answer["accepted"] == 2
    assert [d["id"] for d in answer["duplicates"]] == ["o1"]
    drain("ingest")
    assert stored(clean_env, "c1")["total_spends"] == 150

    again = api.post("/api/orders", json=order("o1", "c1", 300))
    assert again.status_code == 202
    assert again.json()["accepted"] == 0 and again.json()["entryIds"] == []
    assert again.json()["duplicates"][0]["id"] == "o1"
    same = api.post("/api/orders", json=order("o1", "c1", 100)).json()
    assert same["accepted"] == 1 and "duplicates" not in same
    drain("ingest")
    assert stored(clean_env, "c1")["total_spends"] == 150
    assert stored(clean_env, "c1")["order_count"] == 2


def test_the_worker_keeps_an_order_ids_first_record_of_an_entry(clean_env: CleanEnv) -> None:
    from libs.common.events import OrderRecord

    store = CustomerStore(clean_env.db("ingest"))
    at = datetime(2024, 3, 1, tzinfo=UTC)
    store.insert_orders(
        [
            OrderRecord(id="o9", customer_id="c9", amount=10, date=at),
            OrderRecord(id="o9", customer_id="c9", amount=20, date=at),
        ]
    )
    assert clean_env.db("ingest").orders.find_one({"_id": "o9"})["amount"] == 10
