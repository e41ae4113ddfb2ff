"""Delivery HTTP API in-process: the signed receipt webhook and communications reads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from libs.common.events import ReceiptsReceived
from libs.common.streams.names import RECEIPT
from services.delivery.app import create_app
from services.delivery.ledger import SentLedger
from services.delivery.settings import DeliverySettings
from services.delivery.signing import expected_signature
from services.delivery.store import DeliveryStore
from tests.delivery.conftest import WEBHOOK_SECRET, read_stream

pytestmark = pytest.mark.integration

URL = "/api/deliveries/receipts"


@pytest.fixture
def client(clean_env: Any) -> Iterator[TestClient]:
    settings = DeliverySettings(VENDOR_WEBHOOK_SECRET=WEBHOOK_SECRET, receipt_chunk=2)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def read_stream_raw(clean_env: Any) -> list[ReceiptsReceived]:
    from libs.common.events.base import decode

    return [decode(i.decode(), f) for i, f in clean_env.redis.xrange(RECEIPT)]


def token(clean_env: Any) -> dict[str, str]:
    return {"X-Internal-Token": clean_env.internal_token}


def signed(body: bytes, at: int | None = None) -> dict[str, str]:
    at = int(time.time()) if at is None else at
    return {
        "X-Vendor-Timestamp": str(at),
        "X-Vendor-Signature": expected_signature(WEBHOOK_SECRET, body, at),
        "content-type": "application/json",
    }


def handed_to_vendor(clean_env: Any, campaign_id: str, vendor_ids: dict[str, str]) -> None:
    """What the send path records when the vendor took the messages."""
    ledger = SentLedger(clean_env.redis)
    ledger.handing(campaign_id, list(vendor_ids))
    ledger.record(campaign_id, vendor_ids)


def receipts_body(n: int) -> bytes:
    items = [
        {
            "vendorMessageId": f"vm_{i}",
            "clientRef": f"camp1:cust:{i}",
            "status": "FAILED" if i == 0 else "DELIVERED",
            "timestamp": "2026-01-02T03:04:05Z",
            **({"reason": "mailbox full"} if i == 0 else {}),
        }
        for i in range(n)
    ]
    return orjson.dumps({"receipts": items})


def test_webhook_rejects_missing_and_bad_signatures(client: TestClient, clean_env: Any) -> None:
    body = receipts_body(1)
    missing = client.post(URL, content=body, headers={"content-type": "application/json"})
    forged = client.post(URL, content=body, headers={"X-Vendor-Signature": "sha256=" + "0" * 64})
    tampered = client.post(
        URL, content=body.replace(b"mailbox full", b"mailbox okay"), headers=signed(body)
    )
    assert [r.status_code for r in (missing, forged, tampered)] == [401, 401, 401]
    assert missing.json()["error"]["code"] == "unauthorized"
    assert clean_env.redis.xlen(RECEIPT) == 0


def test_webhook_publishes_signed_receipts_in_chunks_without_the_internal_token(
    client: TestClient, clean_env: Any, deps: Any
) -> None:
    handed_to_vendor(clean_env, "camp1", {f"cust:{i}": f"vm_{i}" for i in range(5)})
    body = receipts_body(5)
    answer = client.post(URL, content=body, headers=signed(body))
    assert answer.status_code == 202
    assert answer.json()["accepted"] == 5 and len(answer.json()["entryIds"]) == 3
    events = read_stream(deps, RECEIPT)
    assert all(isinstance(e, ReceiptsReceived) for e in events)
    receipts = [r for e in events for r in e.receipts]
    first = receipts[0]
    assert (first.message_id, first.campaign_id, first.customer_id) == (
        "camp1:cust:0",
        "camp1",
        "cust:0",
    )
    assert first.status == "FAILED" and first.reason == "mailbox full"
    assert first.at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def receipt(client_ref: str, vendor_id: str, status: str = "DELIVERED") -> dict[str, str]:
    return {
        "vendorMessageId": vendor_id,
        "clientRef": client_ref,
        "status": status,
        "timestamp": "2026-01-02T03:04:05Z",
    }


def refused_count(reason: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value("crm_delivery_receipts_refused_total", {"reason": reason})
    return value or 0.0


def test_stale_future_and_replayed_receipt_posts_are_refused_whole(
    client: TestClient, clean_env: Any
) -> None:
    handed_to_vendor(clean_env, "camp1", {"cust:0": "vm_0"})
    body = orjson.dumps({"receipts": [receipt("camp1:cust:0", "vm_0")]})
    now = int(time.time())
    stale = client.post(URL, content=body, headers=signed(body, now - 330))
    ahead = client.post(URL, content=body, headers=signed(body, now + 330))
    # a valid signature over one timestamp does not cover another
    moved = {**signed(body, now - 400), "X-Vendor-Timestamp": str(now)}
    forged = client.post(URL, content=body, headers=moved)
    assert [r.status_code for r in (stale, ahead, forged)] == [401, 401, 401]
    assert stale.json()["error"]["code"] == "receipts_stale"
    assert clean_env.redis.xlen(RECEIPT) == 0

    replays = refused_count("replayed")
    headers = signed(body, now)
    first = client.post(URL, content=body, headers=headers)
    again = client.post(URL, content=body, headers=headers)
    assert first.status_code == 202 and first.json()["accepted"] == 1
    assert again.status_code == 409 and again.json()["error"]["code"] == "receipts_replayed"
    assert refused_count("replayed") == replays + 1
    assert clean_env.redis.xlen(RECEIPT) == 1


def test_receipts_for_unsent_messages_or_another_campaign_are_refused_one_by_one(
    client: TestClient, clean_env: Any
) -> None:
    handed_to_vendor(clean_env, "camp1", {"a": "vm_a", "b": "vm_b"})
    handed_to_vendor(clean_env, "camp2", {"a": "vm_2a"})
    unsent = refused_count("not_sent")
    items = [
        receipt("camp1:a", "vm_a"),  # sent: accepted
        receipt("camp1:zz", "vm_zz", "FAILED"),  # never sent
        receipt("camp9:a", "vm_a"),  # a campaign that sent nothing
        receipt("camp2:a", "vm_a"),  # another campaign's message id
        receipt("camp1:b", "vm_2a"),  # another message's vendor id
    ]
    body = orjson.dumps({"receipts": items})
    answer = client.post(URL, content=body, headers=signed(body))
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == 1
    refused = {(r["clientRef"], r["reason"]) for r in answer.json()["refused"]}
    assert refused == {
        ("camp1:zz", "not_sent"),
        ("camp9:a", "not_sent"),
        ("camp2:a", "vendor_id_mismatch"),
        ("camp1:b", "vendor_id_mismatch"),
    }
    published = [r for e in read_stream_raw(clean_env) for r in e.receipts]
    assert [r.message_id for r in published] == ["camp1:a"]
    assert refused_count("not_sent") == unsent + 2
    kept = client.get("/api/deliveries/refused-receipts", headers=token(clean_env)).json()["items"]
    assert {(k["clientRef"], k["reason"]) for k in kept} == refused


def test_a_receipt_ahead_of_its_recorded_send_asks_for_the_batch_again(
    client: TestClient, clean_env: Any
) -> None:
    SentLedger(clean_env.redis).handing("camp1", ["a"])  # the vendor call is still out
    body = orjson.dumps({"receipts": [receipt("camp1:a", "vm_a")]})
    early = client.post(URL, content=body, headers=signed(body))
    assert early.status_code == 503
    assert early.json()["error"]["code"] == "receipts_ahead_of_send"
    assert clean_env.redis.xlen(RECEIPT) == 0
    SentLedger(clean_env.redis).record("camp1", {"a": "vm_a"})
    retried = client.post(URL, content=body, headers=signed(body))
    assert retried.status_code == 202 and retried.json()["accepted"] == 1


def test_webhook_refuses_invalid_receipts_with_reasons(client: TestClient) -> None:
    body = orjson.dumps(
        {"receipts": [{"vendorMessageId": "v", "clientRef": "nocolon", "status": "LOST"}]}
    )
    answer = client.post(URL, content=body, headers=signed(body))
    assert answer.status_code == 422
    fields = {d["field"] for d in answer.json()["error"]["details"]}
    assert {"receipts.0.clientRef", "receipts.0.status", "receipts.0.timestamp"} <= fields


def test_communications_are_paged_and_filtered_and_need_the_internal_token(
    client: TestClient, clean_env: Any
) -> None:
    store = DeliveryStore(clean_env.db("delivery"))
    now = datetime.now(UTC)
    store.insert_new(
        [
            {
                "_id": f"k1:c{i:02d}",
                "campaign_id": "k1",
                "customer_id": f"c{i:02d}",
                "status": "delivered" if i % 3 else "failed",
                "to": f"c{i}@example.com",
                "channel": "email",
                "body": "hello",
                "vendor_message_id": f"vm_{i}",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(12)
        ]
    )
    path = "/api/campaigns/k1/communications"
    assert client.get(path).status_code == 403
    page = client.get(path, params={"page": 2, "pageSize": 5}, headers=token(clean_env)).json()
    assert page["total"] == 12 and page["pageSize"] == 5
    assert [i["customerId"] for i in page["items"]] == [f"c{i:02d}" for i in range(5, 10)]
    assert page["items"][0]["vendorMessageId"] == "vm_5" and page["items"][0]["updatedAt"]
    failed = client.get(path, params={"status": "failed"}, headers=token(clean_env)).json()
    assert failed["total"] == 4
    bad = client.get(path, params={"status": "lost"}, headers=token(clean_env))
    assert bad.status_code == 422
    huge = client.get(path, params={"page": 10**18}, headers=token(clean_env))
    assert huge.status_code == 422 and huge.json()["error"]["details"][0]["field"] == "query.page"

    mine = client.get("/api/deliveries/customers/c03", headers=token(clean_env)).json()
    assert [i["id"] for i in mine["items"]] == ["k1:c03"]
