"""Unit tests of the vendor's in-memory logic (no servers)."""

from __future__ import annotations

import math
import random

import pytest

from services.vendor_sim import simulator
from services.vendor_sim.models import SendRequest
from services.vendor_sim.simulator import Controls, KeyReused, SeenRefs, Vendor, VendorFault

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


# -- bounded memory: compact idempotency answers, hashed client refs ----------------------
def test_replay_rebuilt_from_compact_storage_is_identical_and_schedules_nothing() -> None:
    clock = FakeClock()
    vendor = Vendor(Controls(latency_ms=0, latency_jitter_ms=0), seed=11, clock=clock)
    first = vendor.submit("key-a", batch(10))
    vendor.submit("key-b", batch(5, start=100))
    assert len(vendor.take_due()["http://receiver/hook"]) == 15
    # What the vendor keeps per key: the 32-byte fingerprint and 8 bytes per vendor id.
    assert len(vendor._by_key["key-a"]) == 32 + 8 * 10

    again = vendor.submit("key-a", batch(10))
    assert [m.model_dump() for m in again] == [m.model_dump() for m in first]
    assert all(m.vendor_message_id.startswith("vm_") for m in again)
    assert len({m.vendor_message_id for m in again}) == 10
    assert vendor.stats["accepted"] == 15
    assert vendor.stats["receipts_scheduled"] == 15
    assert vendor.stats["duplicate_requests"] == 1
    assert vendor.stats["duplicates_refused"] == 10
    assert vendor.stats["duplicate_client_refs"] == 0
    assert vendor.pending_receipts == 0
    assert vendor.take_due() == {}


def test_any_other_body_under_a_known_key_is_refused_even_the_same_messages_reordered() -> None:
    vendor = Vendor(Controls(), seed=1)
    request = batch(4)
    vendor.submit("key-1", request)
    vendor.submit("key-2", batch(4, start=10))
    reordered = request.model_copy(update={"messages": list(reversed(request.messages))})
    other_callback = request.model_copy(update={"callback_url": "http://elsewhere/hook"})
    for body in (batch(4, start=50), batch(3), reordered, other_callback):
        with pytest.raises(KeyReused):
            vendor.submit("key-1", body)
    assert vendor.stats["accepted"] == 8


def test_oldest_keys_are_forgotten_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulator, "MAX_REMEMBERED_KEYS", 2)
    vendor = Vendor(Controls(), seed=1)
    for key in ("k1", "k2", "k3"):
        vendor.submit(key, batch(2))
    vendor.submit("k1", batch(2, start=70))  # forgotten: a new send, not KeyReused
    with pytest.raises(KeyReused):
        vendor.submit("k1", batch(2))
    assert list(vendor._by_key) == ["k3", "k1"]


def test_duplicate_client_refs_are_counted_exactly_across_folds() -> None:
    vendor = Vendor(Controls(), seed=1, ref_fold_size=4)
    vendor.submit(None, batch(6))  # c1:0..5, folded at the end of the batch
    vendor.submit(None, batch(3, start=4))  # 4, 5 folded; 6 new, kept recent
    vendor.submit(None, batch(2, start=6))  # 6 recent; 7 new
    vendor.submit(None, batch(10))  # 0..7 seen (folded or recent); 8, 9 new
    assert vendor.stats["duplicate_client_refs"] == 2 + 1 + 8
    assert len(vendor._seen_refs) == 10


@pytest.mark.parametrize("fold_size", [1, 2, 3, 5, 64])
def test_seen_refs_counts_like_a_plain_set(fold_size: int) -> None:
    rng = random.Random(fold_size)
    seen = SeenRefs(fold_size)
    plain: set[str] = set()
    for _ in range(300):
        refs = [f"c:{rng.randrange(400)}" for _ in range(rng.randint(1, 12))]
        expected = 0
        for ref in refs:
            expected += ref in plain
            plain.add(ref)
        assert seen.add_all(refs) == expected
        assert len(seen) == len(plain)


def test_reset_forgets_keys_refs_receipts_and_stats() -> None:
    vendor = Vendor(Controls(), seed=1, ref_fold_size=2)
    vendor.submit("key-1", batch(5))
    vendor.submit(None, batch(5))
    assert vendor.stats["duplicate_client_refs"] == 5
    vendor.reset(Controls(), seed=1)
    assert not vendor.stats
    assert vendor.pending_receipts == 0
    assert len(vendor._seen_refs) == 0
    vendor.submit("key-1", batch(5, start=20))  # the key is unknown again: no KeyReused
    vendor.submit(None, batch(5))  # the refs are unknown again: no duplicates
    assert vendor.stats["duplicate_client_refs"] == 0
    assert vendor.stats["accepted"] == 10
