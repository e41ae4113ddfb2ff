"""Ingestion API: validation, per-item errors, chunked queueing, idempotency keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from ingest_helpers import customer, order

from libs.common.events import CustomersUpserted, OrdersRecorded, decode
from libs.common.testing.pytest_plugin import CleanEnv

pytestmark = pytest.mark.integration


def queued(clean_env: CleanEnv) -> list[object]:
    return [decode(i.decode(), f) for i, f in clean_env.redis.xrange("ingest")]


def test_one_customer_is_queued_as_a_customers_upserted_entry(
    api: TestClient, clean_env: CleanEnv
) -> None:
    response = api.post("/api/customers", json=customer("c1", tags=["vip", "vip", "new"]))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 1 and len(body["entryIds"]) == 1
    [event] = queued(clean_env)
    assert isinstance(event, CustomersUpserted)
    record = event.customers[0]
    assert record.id == "c1" and record.total_spends == 100 and record.tags == ["vip", "new"]
    assert event.entry_id == body["entryIds"][0]


def test_batch_lists_invalid_items_by_index_and_queues_the_valid_ones(
    api: TestClient, clean_env: CleanEnv
) -> None:
    items = [
        customer("ok1"),
        customer("bad-email", email="not-an-email"),
        customer("neg", totalSpends=-5),
        customer("ok2"),
        {**customer("extra"), "favouriteColour": "blue"},
        customer("future", lastVisit="2999-01-01T00:00:00Z"),
        customer("tz", timezone="Mars/Olympus"),
    ]
    response = api.post("/api/customers/batch", json={"customers": items})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 2
    rejected = {r["index"]: r for r in body["rejected"]}
    assert sorted(rejected) == [1, 2, 4, 5, 6]
    assert rejected[1]["id"] == "bad-email" and rejected[1]["errors"][0]["field"] == "email"
    assert rejected[2]["errors"][0]["field"] == "totalSpends"
    assert rejected[4]["errors"][0]["field"] == "favouriteColour"
    assert "future" in rejected[5]["errors"][0]["message"]
    assert "time zone" in rejected[6]["errors"][0]["message"]
    [event] = queued(clean_env)
    assert [c.id for c in event.customers] == ["ok1", "ok2"]  # type: ignore[attr-defined]


def test_entirely_invalid_batch_is_refused_with_reasons_and_queues_nothing(
    api: TestClient, clean_env: CleanEnv
) -> None:
    response = api.post("/api/orders/batch", json={"orders": [{"id": "o1"}, {"amount": -1}]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [d["index"] for d in error["details"]] == [0, 1]
    assert clean_env.redis.xlen("ingest") == 0


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"customers": []}',
        b'{"customers": {"id": 1}}',
        b'{"customers": [], "more": 1}',
        b"[1, 2]",
    ],
)
def test_malformed_batch_bodies_are_refused(api: TestClient, body: bytes) -> None:
    response = api.post("/api/customers/batch", content=body)
    assert response.status_code == 422
    assert response.json()["error"]["message"]


def test_single_invalid_customer_answers_422_with_field_errors(api: TestClient) -> None:
    response = api.post("/api/customers", json=customer("c1", visits="many"))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "visits"


def test_batch_over_the_limit_is_refused(make_api: Callable[..., TestClient]) -> None:
    api = make_api(columns_enabled=False, max_batch=3)
    items = [customer(f"c{i}") for i in range(4)]
    response = api.post("/api/customers/batch", json={"customers": items})
    assert response.status_code == 422
    assert "at most 3" in response.json()["error"]["message"]


def test_ten_thousand_orders_are_accepted_in_chunks_of_five_hundred(
    api: TestClient, clean_env: CleanEnv
) -> None:
    orders = [order(f"o{i}", f"c{i % 50}", 10.5) for i in range(10_000)]
    response = api.post("/api/orders/batch", json={"orders": orders})
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 10_000
    assert len(response.json()["entryIds"]) == 20
    events = queued(clean_env)
    assert all(isinstance(e, OrdersRecorded) and len(e.orders) == 500 for e in events)


def test_order_without_date_is_dated_on_receipt(api: TestClient, clean_env: CleanEnv) -> None:
    body = {"id": "o1", "customerId": "c1", "amount": 2500, "items": ["Product A"]}
    assert api.post("/api/orders", json=body).status_code == 202
    [event] = queued(clean_env)
    assert event.orders[0].date is not None  # type: ignore[attr-defined]


def test_retry_with_the_same_idempotency_key_answers_the_same_and_queues_nothing(
    api: TestClient, clean_env: CleanEnv
) -> None:
    headers = {"Idempotency-Key": "req-42"}
    payload = {"customers": [customer("c1"), customer("c2", email="bad")]}
    first = api.post("/api/customers/batch", json=payload, headers=headers)
    second = api.post("/api/customers/batch", json=payload, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert clean_env.redis.xlen("ingest") == 1
    other = api.post("/api/customers/batch", json=payload, headers={"Idempotency-Key": "req-43"})
    assert other.json()["entryIds"] != first.json()["entryIds"]


def test_an_idempotency_key_belongs_to_its_caller(api: TestClient, clean_env: CleanEnv) -> None:
    ann = {"Idempotency-Key": "shared", "X-User-Id": "key:ann"}
    bob = {"Idempotency-Key": "shared", "X-User-Id": "key:bob"}
    first = api.post("/api/customers", json=customer("c1"), headers=ann)
    other = api.post("/api/customers", json=customer("c2"), headers=bob)
    assert first.status_code == other.status_code == 202
    assert other.json()["entryIds"] != first.json()["entryIds"]
    assert clean_env.redis.xlen("ingest") == 2  # the second caller's record is not dropped
    invalid = api.post("/api/customers", json={"id": "x"}, headers={**bob, "Idempotency-Key": "k2"})
    assert invalid.status_code == 422  # not ann's answer


def test_the_same_idempotency_key_with_another_body_is_a_409(
    api: TestClient, clean_env: CleanEnv
) -> None:
    headers = {"Idempotency-Key": "req-7", "X-User-Id": "key:ann"}
    first = api.post("/api/customers", json=customer("c1"), headers=headers)
    assert first.status_code == 202
    for body in (customer("c1", name="Changed"), {"id": "broken"}):
        reused = api.post("/api/customers", json=body, headers=headers)
        assert reused.status_code == 409
        assert reused.json()["error"]["code"] == "idempotency_key_reused"
    again = api.post("/api/customers", json=customer("c1"), headers=headers)
    assert again.json() == first.json()
    # another route is another request
    batch = api.post("/api/customers/batch", json={"customers": [customer("c3")]}, headers=headers)
    assert batch.status_code == 202
    assert clean_env.redis.xlen("ingest") == 2


def test_failed_request_does_not_burn_its_idempotency_key(
    api: TestClient, clean_env: CleanEnv
) -> None:
    headers = {"Idempotency-Key": "k1"}
    assert api.post("/api/customers", json={"id": "x"}, headers=headers).status_code == 422
    assert api.post("/api/customers", json=customer("x"), headers=headers).status_code == 202
    assert clean_env.redis.xlen("ingest") == 1


def test_requests_without_the_internal_token_are_forbidden(api: TestClient) -> None:
    response = api.post("/api/customers", json=customer("c1"), headers={"x-internal-token": ""})
    assert response.status_code == 403


def test_accepted_and_rejected_records_are_counted_in_metrics(api: TestClient) -> None:
    api.post("/api/customers/batch", json={"customers": [customer("a"), {"id": "b"}]})
    text = api.get("/metrics").text
    assert 'crm_ingest_records_total{kind="customers",outcome="accepted"}' in text
    assert 'crm_ingest_records_total{kind="customers",outcome="rejected"}' in text
