"""Consent end to end through the gateway (issue #22): one-click unsubscribe, the
suppression list from vendor receipts and mid-campaign, signed links, erasure, export.

The consent stack (tests/support/consent_stack.py, shared with the browser test of the
/u/ page); campaigns of 15-20 people, sent two at a time at five a second, so a
suppression added just after a launch lands before the last batch."""

from __future__ import annotations

import base64
import json

import httpx
import pymongo
import pytest
import redis

from libs.common.consent import address_hash
from libs.common.settings import DEV_UNSUBSCRIBE_KEY
from libs.common.testing.pytest_plugin import wait_until
from libs.common.unsubscribe import TokenSigner
from tests.e2e.test_campaign_flow import all_communications, wait_completed
from tests.support.consent_stack import ALPHA, BETA, PREFIX, customer
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

MESSAGE = "Hi {firstName}, 20% off. Stop: {unsubscribeUrl}"


@pytest.fixture(scope="module")
def stack(consent_stack: RunningStack) -> RunningStack:
    return consent_stack


@pytest.fixture(scope="module")
def client(consent_client: httpx.Client) -> httpx.Client:
    return consent_client


def city(name: str) -> dict:
    return {"operator": "AND", "conditions": [{"field": "city", "operator": "=", "value": name}]}


def preview(client: httpx.Client, rules: dict) -> dict:
    response = client.post("/api/customers/preview", json={"rules": rules, "channel": "email"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def run_campaign(client: httpx.Client, name: str, rules: dict) -> tuple[dict, list[dict]]:
    response = client.post(
        "/api/campaigns",
        json={"name": name, "segmentRules": rules, "message": MESSAGE, "channel": "email"},
    )
    assert response.status_code == 201, response.text
    campaign = wait_completed(client, response.json()["id"], timeout=120)
    return campaign, all_communications(client, campaign["id"])


def consent_of(client: httpx.Client, customer_id: str) -> dict:
    return dict(client.get(f"/api/customers/{customer_id}").json()["consent"]["email"])


def token_of(row: dict) -> str:
    header = row["headers"]["List-Unsubscribe"]
    assert row["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header.strip("<>")
    assert url in row["body"], "the {unsubscribeUrl} in the body is the header's link"
    return url.rsplit("/u/", 1)[1]


def test_one_click_unsubscribe_leaves_the_person_out_of_the_next_campaign(
    stack: RunningStack, client: httpx.Client
) -> None:
    before = preview(client, city(ALPHA))
    assert before["count"] == 19 and before["excluded"] == {"unsubscribed": 1, "suppressed": 0}
    campaign, rows = run_campaign(client, "consent A", city(ALPHA))
    assert len(rows) == before["count"], "preview count == sent count"
    assert "p001" not in {r["customerId"] for r in rows}
    token = token_of(next(r for r in rows if r["customerId"] == "p005"))

    public = httpx.Client(base_url=stack.url, timeout=30)  # not signed in
    page = public.get(f"/u/{token}")
    assert page.status_code == 200 and "<button" in page.text
    assert consent_of(client, "p005")["state"] == "unknown", "GET changes nothing"
    done = public.post(
        f"/u/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200, done.text
    wait_until(lambda: consent_of(client, "p005")["state"] == "unsubscribed", timeout=30)
    assert consent_of(client, "p005")["source"] == "link"
    counted = client.get("/api/unsubscriptions", params={"campaignId": campaign["id"]}).json()
    assert counted["unsubscribed"] == 1

    after = preview(client, city(ALPHA))
    assert after["count"] == 18 and after["excluded"]["unsubscribed"] == 2
    _, rows = run_campaign(client, "consent B", city(ALPHA))
    assert len(rows) == after["count"]
    assert not {"p001", "p005"} & {r["customerId"] for r in rows}


def test_bad_tokens_get_a_plain_400_and_change_nothing(
    stack: RunningStack, client: httpx.Client
) -> None:
    good = TokenSigner([DEV_UNSUBSCRIBE_KEY]).sign("p006", "email", "cmp-x")
    body, _, signature = good.rpartition(".")
    tampered = f"{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    payload = json.dumps(["p007", "email", "cmp-x"], separators=(",", ":")).encode()
    other = base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + signature
    retired = TokenSigner(["a-key-rotated-out"]).sign("p006", "email", "cmp-x")
    public = httpx.Client(base_url=stack.url, timeout=30)
    for token in (tampered, other, retired, "not-a-token"):
        for method in ("GET", "POST"):
            response = public.request(
                method,
                f"/u/{token}",
                content="List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert response.status_code == 400, (token, method, response.text)
            assert "not valid" in response.text
    assert public.get(f"/u/{good}").status_code == 200, "the untampered token is fine"
    assert consent_of(client, "p006")["state"] == "unknown"
    assert consent_of(client, "p007")["state"] == "unknown"


def listed(client: httpx.Client, address: str) -> bool:
    found = client.get("/api/suppressions", params={"channel": "email", "q": address}).json()
    return any(item["address"] == address for item in found["items"])


def test_vendor_unsubscribed_and_invalid_receipts_suppress_soft_failures_do_not(
    stack: RunningStack, client: httpx.Client
) -> None:
    vendor = httpx.Client(base_url=stack.layout.url("vendor_sim"), timeout=30)
    vendor.post("/vendor/control", json={"successRate": 0.0}).raise_for_status()
    try:
        rules = {**city(BETA), "conditions": [*city(BETA)["conditions"]]}
        rules["conditions"].append({"field": "visits", "operator": "=", "value": 1})
        _, rows = run_campaign(client, "consent C", rules)
    finally:
        vendor.post("/vendor/control", json={"successRate": 1.0}).raise_for_status()
    hard = [r for r in rows if any(w in r["reason"] for w in ("unsubscribed", "invalid address"))]
    soft = [r for r in rows if r not in hard]
    assert hard and soft, [r["reason"] for r in rows]
    wait_until(lambda: all(listed(client, r["to"]) for r in hard), timeout=30)
    assert not any(listed(client, r["to"]) for r in soft)
    said_stop = [r for r in hard if "unsubscribed" in r["reason"]]
    for row in said_stop:
        wait_until(lambda row=row: consent_of(client, row["customerId"])["state"] == "unsubscribed")
        assert consent_of(client, row["customerId"])["source"] == "vendor"
    excluded = preview(client, city(BETA))["excluded"]
    assert excluded["unsubscribed"] + excluded["suppressed"] == len(hard)


def test_a_suppression_added_mid_campaign_stops_what_was_not_sent(
    stack: RunningStack, client: httpx.Client
) -> None:
    rules = city(ALPHA)
    audience = preview(client, rules)["count"]
    response = client.post(
        "/api/campaigns",
        json={"name": "consent D", "segmentRules": rules, "message": MESSAGE, "channel": "email"},
    )
    assert response.status_code == 201, response.text
    cid = response.json()["id"]
    # under way (the audience resolved, the first batch sent); the last person in _id
    # order has their vendor batch ~3 s after the first
    wait_until(
        lambda: client.get(f"/api/campaigns/{cid}/realtime").json().get("sent", 0) >= 1,
        timeout=60,
        interval=0.05,
    )
    added = client.post(
        "/api/suppressions", json={"channel": "email", "address": "p019@example.com"}
    )
    assert added.status_code == 201, added.text
    campaign = wait_completed(client, response.json()["id"], timeout=120)
    rows = {r["customerId"]: r for r in all_communications(client, campaign["id"])}
    assert len(rows) == audience, "everyone resolved has a row"
    assert rows["p019"]["status"] == "suppressed"
    assert sum(r["status"] == "suppressed" for r in rows.values()) == 1
    client.delete(f"/api/suppressions/{added.json()['id']}").raise_for_status()
    hashed = address_hash("email", "p019@example.com")
    wait_until(
        lambda: (
            not redis.Redis.from_url(stack.env["REDIS_URL"]).sismember(
                "delivery:suppressed", hashed
            )
        ),
        timeout=30,
    )


def test_export_then_erase_leaves_no_trace_in_any_collection(
    stack: RunningStack, client: httpx.Client, mongo_uri: str
) -> None:
    person = customer(10)
    exported = client.get("/api/customers/p010/export")
    assert exported.status_code == 200, exported.text
    document = exported.json()
    assert document["customer"]["email"] == person["email"]
    assert [o["id"] for o in document["orders"]] == ["o-p010"]
    assert document["messages"] and all(m["customerId"] == "p010" for m in document["messages"])

    erase = client.post("/api/customers/p010/erase")
    assert erase.status_code == 202, erase.text
    status = wait_until(
        lambda: (s := client.get("/api/customers/p010/erasure").json()).get("complete") and s,
        timeout=60,
    )
    assert set(status["services"]) == {"ingest", "delivery", "campaign", "ai"}
    assert client.get("/api/customers/p010").status_code == 404

    needles = ("p010", person["name"], person["email"], person["phone"])
    server = pymongo.MongoClient(mongo_uri)
    found = []
    for db_name in server.list_database_names():
        if not db_name.startswith(PREFIX):
            continue
        for name in server[db_name].list_collection_names():
            for doc in server[db_name][name].find({}):
                text = json.dumps(doc, default=str)
                found += [(db_name, name, n) for n in needles if n in text]
    assert not found, found[:10]
    # the address stays suppressed, as a hash only
    assert address_hash("email", person["email"]) in {
        i["id"].split(":", 1)[1]
        for i in client.get("/api/suppressions", params={"limit": 500}).json()["items"]
    }

    # imported again later: still left out of every audience
    again = client.post("/api/customers", json=person)
    assert again.status_code == 202, again.text
    wait_until(lambda: listed(client, person["email"]), timeout=30)
    wait_until(lambda: client.get("/api/customers/p010").status_code == 200, timeout=30)
    assert preview(client, city(ALPHA))["excluded"]["suppressed"] == 1
