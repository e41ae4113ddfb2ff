"""Rate limiter and auto-pause window on real Redis, with a fake clock."""

from __future__ import annotations

import pytest

from services.delivery.autopause import AutoPause
from services.delivery.ratelimit import RateLimiter

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.25
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_campaign_limit_spreads_a_large_batch_over_windows(redis_client) -> None:
    clock = Clock()
    limiter = RateLimiter(
        redis_client, global_per_s=0, campaign_per_s=100, clock=clock, sleep=clock.sleep
    )
    limiter.acquire("c1", 250)
    assert len(clock.sleeps) == 2  # 100 now, 100 next second, 50 the one after


def test_global_limit_is_shared_by_campaigns_and_refunds_what_did_not_fit(redis_client) -> None:
    clock = Clock()
    limiter = RateLimiter(
        redis_client, global_per_s=100, campaign_per_s=80, clock=clock, sleep=clock.sleep
    )
    limiter.acquire("a", 80)
    limiter.acquire("b", 20)
    assert clock.sleeps == []
    limiter.acquire("b", 10)  # global window is full: waits for the next second
    assert len(clock.sleeps) == 1
    window = int(clock.now)
    assert int(redis_client.get(f"delivery:rate:global:{window}")) == 10
    assert int(redis_client.get(f"delivery:rate:global:{window - 1}")) == 100


def test_autopause_trips_once_when_the_window_is_full_and_over_threshold(redis_client) -> None:
    window = AutoPause(redis_client, window=10, threshold=0.5)
    assert window.record("c", [True] * 9) is None  # not enough finished sends yet
    assert window.record("c", [False]) == pytest.approx(0.9)
    assert window.record("c", [True]) is None  # already announced
    window.reset("c")
    assert window.record("c", [False] * 5 + [True] * 5) is None  # 50% is not over 50%
    assert window.record("c", [True]) == pytest.approx(0.6)
