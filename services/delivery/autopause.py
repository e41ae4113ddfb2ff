"""Auto-pause: a campaign whose failure rate over its last N finished sends passes a
threshold is paused, with the reason. The window is a capped Redis list per campaign
(shared by the send and receipt workers); the first crossing wins a SET NX flag so the
pause is announced once until the campaign is resumed."""

from __future__ import annotations

from collections.abc import Sequence

import redis


def _outcomes_key(campaign_id: str) -> str:
    return f"delivery:outcomes:{campaign_id}"


def _flag_key(campaign_id: str) -> str:
    return f"delivery:autopaused:{campaign_id}"


class AutoPause:
    def __init__(self, client: redis.Redis, *, window: int, threshold: float) -> None:
        self.client = client
        self.window = window
        self.threshold = threshold

    def record(self, campaign_id: str, failed: Sequence[bool]) -> float | None:
        """Add finished sends (True = failed); return the failure rate when this call
        is the one that crosses the threshold, else None."""
        if not failed:
            return None
        key = _outcomes_key(campaign_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.lpush(key, *["1" if f else "0" for f in failed])
        pipe.ltrim(key, 0, self.window - 1)
        pipe.lrange(key, 0, -1)
        pipe.expire(key, 7 * 24 * 3600)
        recent = pipe.execute()[2]
        if len(recent) < self.window:
            return None
        rate = sum(v in (b"1", "1") for v in recent) / len(recent)
        if rate <= self.threshold:
            return None
        if not self.client.set(_flag_key(campaign_id), "1", nx=True, ex=7 * 24 * 3600):
            return None
        return rate

    def reason(self, rate: float) -> str:
        return (
            f"failure rate {rate:.0%} over the last {self.window} sends "
            f"exceeded {self.threshold:.0%}"
        )

    def reset(self, campaign_id: str) -> None:
        """On resume: start a fresh window, and allow a new auto-pause."""
        self.client.delete(_outcomes_key(campaign_id), _flag_key(campaign_id))
