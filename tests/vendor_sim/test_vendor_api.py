"""The vendor simulator as a real process: HTTP contract, signatures, faults, callbacks."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import orjson
import pytest

from libs.common.testing.pytest_plugin import wait_until
from tests.vendor_sim.receiver import webhook_receiver

pytestmark = pytest.mark.integration

SECRET = "test-vendor-secret"


def vendor_env(**extra: str) -> dict[str, str]:
    return {
        "VENDOR_WEBHOOK_SECRET": SECRET,
        "VENDOR_SEED": "11",
        "VENDOR_LATENCY_MS": "50",
        "VENDOR_LATENCY_JITTER_MS": "20",
        "VENDOR_CALLBACK_RETRY_BASE_MS": "50",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def messages(n: int, start: int = 0) -> list[dict[str, str]]:
    return [
        {"clientRef": f"camp:{i}", "to": f"user{i}@example.com", "channel": "email", "body": "hi"}
        for i in range(start, start + n)
    ]


def test_vendor_is_ready_without_redis_or_the_db(spawn) -> None:
    env = vendor_env(REDIS_URL="redis://127.0.0.1:1/0", MONGODB_URI="mongodb://127.0.0.1:1")
    vendor = spawn("vendor", env=env, app="services.vendor_sim.app:create_app")
    assert httpx.get(f"{vendor.url}/readyz").status_code == 200


def test_receipts_come_back_signed_in_batches_once_per_message(spawn) -> None:
    vendor = spawn(
        "vendor",
        env=vendor_env(VENDOR_CALLBACK_BATCH="100"),
        app="services.vendor_sim.app:create_app",
    )
    with webhook_receiver() as (url, received):
        body = {"callbackUrl": url, "messages": messages(250)}
        headers = {"Idempotency-Key": "batch-1"}
        first = httpx.post(f"{vendor.url}/vendor/messages", json=body, headers=headers)
        again = httpx.post(f"{vendor.url}/vendor/send", json=body, headers=headers)
        assert first.status_code == again.status_code == 202
        ids = [m["vendorMessageId"] for m in first.json()["messages"]]
        assert ids == [m["vendorMessageId"] for m in again.json()["messages"]]
        assert len(set(ids)) == 250

        wait_until(lambda: len(received.receipts()) >= 250, timeout=15)
        stats = httpx.get(f"{vendor.url}/vendor/stats").json()
        assert len(received.receipts()) == 250
        assert {r["vendorMessageId"] for r in received.receipts()} == set(ids)
        assert all(len(orjson.loads(b)["receipts"]) <= 100 for _, b in received.posts)
        for headers_seen, raw in received.posts:
            # the timestamp is signed with the body: old and replayed posts can be refused
            signed = headers_seen["x-vendor-timestamp"].encode() + b"." + raw
            expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
            assert headers_seen["x-vendor-signature"] == expected
            assert abs(int(headers_seen["x-vendor-timestamp"]) - time.time()) < 60
        assert stats["accepted"] == 250
        assert stats["duplicatesRefused"] == 250
        assert stats["receiptsPosted"] == 250


def test_callbacks_are_retried_while_the_receiver_is_down(spawn) -> None:
    vendor = spawn("vendor", env=vendor_env(), app="services.vendor_sim.app:create_app")
    with webhook_receiver() as (url, received):
        received.fail_first = 3
        body = {"callbackUrl": url, "messages": messages(20)}
        assert httpx.post(f"{vendor.url}/vendor/messages", json=body).status_code == 202
        wait_until(lambda: len(received.receipts()) == 20, timeout=15)
        assert received.refused == 3
        stats = httpx.get(f"{vendor.url}/vendor/stats").json()
        assert stats["callbackFailures"] == 3


def test_down_switch_and_error_injection_through_control(spawn) -> None:
    vendor = spawn("vendor", env=vendor_env(), app="services.vendor_sim.app:create_app")
    body = {"callbackUrl": "http://127.0.0.1:1/hook", "messages": messages(1)}
    assert httpx.post(f"{vendor.url}/vendor/control", json={"down": True}).json()["down"] is True
    assert httpx.post(f"{vendor.url}/vendor/messages", json=body).status_code == 503

    httpx.post(f"{vendor.url}/vendor/control", json={"down": False, "errorRate": 1.0})
    answers = [httpx.post(f"{vendor.url}/vendor/messages", json=body) for _ in range(20)]
    assert {a.status_code for a in answers} == {429, 500}
    assert all(a.headers.get("retry-after") for a in answers if a.status_code == 429)

    httpx.post(f"{vendor.url}/vendor/control", json={"errorRate": 0})
    assert httpx.post(f"{vendor.url}/vendor/messages", json=body).status_code == 202


def test_bad_batches_are_refused_with_reasons(spawn) -> None:
    env = vendor_env(VENDOR_MAX_BATCH="5")
    vendor = spawn("vendor", env=env, app="services.vendor_sim.app:create_app")
    too_many = httpx.post(
        f"{vendor.url}/vendor/messages",
        json={"callbackUrl": "http://x/hook", "messages": messages(6)},
    )
    assert too_many.status_code == 422
    empty = httpx.post(
        f"{vendor.url}/vendor/messages", json={"callbackUrl": "http://x/hook", "messages": []}
    )
    assert empty.status_code == 422
    assert empty.json()["error"]["details"]
    reused = [
        httpx.post(
            f"{vendor.url}/vendor/messages",
            json={"callbackUrl": "http://x/hook", "messages": messages(1, start=i)},
            headers={"Idempotency-Key": "same"},
        )
        for i in range(2)
    ]
    assert [r.status_code for r in reused] == [202, 409]
