"""Hand-written hostile input through the gateway: clear 4xx, nothing written."""

from __future__ import annotations

import json

import pytest

from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e


def customer(**overrides) -> dict:
    body = {
        "id": "bad-1",
        "name": "Bad Input",
        "email": "bad@example.com",
        "totalSpends": 10,
        "visits": 1,
        "lastVisit": "2026-01-01T00:00:00Z",
    }
    body.update(overrides)
    return body


def deep_rules_json(depth: int) -> str:
    """Written by hand: the json module itself cannot encode 10,000 levels."""
    leaf = '{"field": "visits", "operator": ">", "value": 1}'
    return '{"operator": "AND", "conditions": [' * depth + leaf + "]}" * depth


def assert_clear_4xx(response, *statuses: int) -> None:
    assert response.status_code in (statuses or (400, 413, 422)), response.text[:300]
    body = response.json()
    assert body["error"]["code"] and body["error"]["message"]


@pytest.fixture(scope="module")
def client(stack: RunningStack):
    return stack.client()


def test_oversized_body_is_refused_with_413(client):
    blob = "x" * (30 * 1024 * 1024)
    response = client.post(
        "/api/customers", content=blob, headers={"Content-Type": "application/json"}
    )
    assert_clear_4xx(response, 413)


def test_ten_thousand_deep_rule_nesting_is_a_clear_422(client):
    json_header = {"Content-Type": "application/json"}
    raw = '{"rules": ' + deep_rules_json(10_000) + "}"
    response = client.post("/api/customers/preview", content=raw, headers=json_header)
    assert_clear_4xx(response, 400, 422)
    response = client.get("/api/customers/preview", params={"rules": deep_rules_json(1_000)})
    assert_clear_4xx(response, 400, 422)
    response = client.get("/api/customers/preview", params={"rules": deep_rules_json(50)})
    assert_clear_4xx(response, 422)
    body = '{"name": "deep", "message": "Hi", "segmentRules": ' + deep_rules_json(10_000) + "}"
    campaign = client.post("/api/campaigns", content=body, headers=json_header)
    assert_clear_4xx(campaign, 400, 422)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(client, literal):
    raw = json.dumps(customer()).replace('"totalSpends": 10', f'"totalSpends": {literal}')
    response = client.post(
        "/api/customers", content=raw, headers={"Content-Type": "application/json"}
    )
    assert_clear_4xx(response)


def test_huge_numbers_and_far_dates_are_refused(client):
    for body in (
        customer(totalSpends=10**30),
        customer(visits=2**80),
        customer(lastVisit="0001-01-01T00:00:00Z"),
        customer(lastVisit="9999-12-31T00:00:00Z"),
    ):
        assert_clear_4xx(client.post("/api/customers", json=body))


def test_invalid_utf8_is_refused(client):
    response = client.post(
        "/api/customers",
        content=b'{"id": "\xff\xfe", "name": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert_clear_4xx(response)


def test_template_injection_is_refused_at_create(client):
    rules = {"operator": "AND", "conditions": []}
    for message in ("{name.__class__.__mro__}", "{0}", "{name!r}", "{name:>999999}"):
        response = client.post(
            "/api/campaigns", json={"name": "x", "segmentRules": rules, "message": message}
        )
        assert_clear_4xx(response, 422)
    assert client.get("/api/campaigns").json()["total"] == 0, "nothing written"


@pytest.mark.parametrize(
    "value",
    [{"$gt": ""}, {"$where": "sleep(100)"}, {"$ne": None}, ["$gt"], {"$regex": ".*"}],
)
def test_nosql_operators_in_query_fields_are_refused(client, value):
    rules = {"operator": "AND", "conditions": [{"field": "name", "operator": "=", "value": value}]}
    assert_clear_4xx(client.post("/api/customers/preview", json={"rules": rules}), 422)
    assert_clear_4xx(client.post("/api/customers", json=customer(name=value)), 422)
    assert_clear_4xx(client.post("/api/segments", json={"name": value, "rules": rules}), 422)


def test_operator_shaped_search_and_ids_are_plain_text(client):
    listed = client.get("/api/customers", params={"q": '{"$where": "1"}', "sort": "$where"})
    assert listed.status_code in (200, 422)
    if listed.status_code == 200:
        assert listed.json()["items"] == []
    missing = client.get("/api/customers/%7B%22%24gt%22%3A%22%22%7D")
    assert_clear_4xx(missing, 404)
    assert client.get("/api/customers/stats").json()["customers"] == 0, "nothing written"
