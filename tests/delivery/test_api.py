"""Delivery HTTP API in-process: the signed receipt webhook and communications reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from libs.common.events import ReceiptsReceived
from libs.common.streams.names import RECEIPT
from services.delivery.app import create_app
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


def token(clean_env: Any) -> dict[str, str]:
    return {"X-Internal-Token": clean_env.internal_token}


def signed(body: bytes) -> dict[str, str]:
    return {
        "X-Vendor-Signature": expected_signature(WEBHOOK_SECRET, body),
        "content-type": "application/json",
    }


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
