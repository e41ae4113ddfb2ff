"""Unit tests of the vendor's in-memory logic (no servers)."""

from __future__ import annotations

import math

import pytest

from services.vendor_sim.models import SendRequest
from services.vendor_sim.simulator import Controls, KeyReused, Vendor, VendorFault

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def batch(n: int, start: int = 0, channel: str = "sms") -> SendRequest:
    return SendRequest.model_validate(
        {
            "callbackUrl": "http://receiver/hook",
            "messages": [
                {"clientRef": f"c1:{i}", "to": f"+1555{i:06d}", "channel": channel, "body": "hi"}
                for i in range(start, start + n)
            ],
        }
    )


def test_same_idempotency_key_returns_same_ids_and_schedules_no_second_receipts() -> None:
    vendor = Vendor(Controls(), seed=1)
    first = vendor.submit("key-1", batch(10))
    again = vendor.submit("key-1", batch(10))
    assert [m.vendor_message_id for m in first] == [m.vendor_message_id for m in again]
    assert vendor.stats["accepted"] == 10
    assert vendor.stats["receipts_scheduled"] == 10
    assert vendor.stats["duplicates_refused"] == 10


def test_key_reused_with_another_body_is_refused() -> None:
    vendor = Vendor(Controls(), seed=1)
    vendor.submit("key-1", batch(3))
    with pytest.raises(KeyReused):
        vendor.submit("key-1", batch(3, start=50))


def test_without_key_every_request_is_a_new_send() -> None:
    vendor = Vendor(Controls(), seed=1)
    vendor.submit(None, batch(2))
    vendor.submit(None, batch(2))
    assert vendor.stats["accepted"] == 4
    assert vendor.stats["duplicate_client_refs"] == 2


def test_success_rate_lies_within_binomial_bounds_with_a_seed() -> None:
    clock = FakeClock()
    n, p = 5000, 0.9
    vendor = Vendor(
        Controls(success_rate=p, latency_ms=0, latency_jitter_ms=0), seed=42, clock=clock
    )
    for i in range(0, n, 500):
        vendor.submit(f"k{i}", batch(500, start=i))
    due = vendor.take_due()["http://receiver/hook"]
    delivered = sum(r["status"] == "DELIVERED" for r in due)
    sigma = math.sqrt(n * p * (1 - p))
    assert len(due) == n
    assert abs(delivered - n * p) < 4 * sigma
    failed = [r for r in due if r["status"] == "FAILED"]
    assert failed and all(r["reason"] for r in failed)


def test_same_seed_gives_the_same_outcomes() -> None:
    outcomes = []
    for _ in range(2):
        vendor = Vendor(Controls(latency_ms=0, latency_jitter_ms=0), seed=7, clock=FakeClock())
        vendor.submit("k", batch(50))
        outcomes.append(vendor.take_due()["http://receiver/hook"])
    strip = [[(r["vendorMessageId"], r["status"]) for r in run] for run in outcomes]
    assert strip[0] == strip[1]


def test_receipts_wait_for_their_latency() -> None:
    clock = FakeClock()
    vendor = Vendor(Controls(latency_ms=500, latency_jitter_ms=0), seed=3, clock=clock)
    vendor.submit("k", batch(5))
    assert vendor.take_due() == {}
    clock.now += 0.6
    assert len(vendor.take_due()["http://receiver/hook"]) == 5
    assert vendor.pending_receipts == 0


def test_down_switch_refuses_every_request_with_503() -> None:
    vendor = Vendor(Controls(down=True), seed=1)
    with pytest.raises(VendorFault) as info:
        vendor.submit("k", batch(1))
    assert info.value.status == 503
    assert vendor.stats["accepted"] == 0


def test_error_injection_answers_429_with_retry_after_or_500_at_about_the_rate() -> None:
    vendor = Vendor(Controls(error_rate=0.3), seed=5)
    statuses = []
    for i in range(1000):
        try:
            vendor.submit(f"k{i}", batch(1, start=i))
            statuses.append(202)
        except VendorFault as fault:
            statuses.append(fault.status)
            if fault.status == 429:
                assert fault.retry_after
    refused = sum(s != 202 for s in statuses)
    assert 230 < refused < 370
    assert {429, 500} <= set(statuses)
