"""Send-rate limits in messages per second, shared by every replica through Redis.

A fixed one-second window per scope (global, and per campaign): a batch takes its
messages from the current window; whatever does not fit waits for the next one. A batch
larger than a limit is taken in pieces over several windows.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from services.delivery.metrics import RATE_LIMIT_WAIT_SECONDS


class RateLimiter:
    def __init__(
        self,
        client: redis.Redis,
        *,
        global_per_s: int,
        campaign_per_s: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.global_per_s = global_per_s
        self.campaign_per_s = campaign_per_s
        self.clock = clock
        self.sleep = sleep

    def acquire(self, campaign_id: str, count: int) -> None:
        """Block until ``count`` messages of this campaign may be sent."""
        limits = [lim for lim in (self.global_per_s, self.campaign_per_s) if lim > 0]
        if not limits:
            return
        piece_size = min(limits)
        remaining = count
        while remaining > 0:
            piece = min(piece_size, remaining)
            if self._take(campaign_id, piece):
                remaining -= piece
            else:
                now = self.clock()
                wait = int(now) + 1 - now + 0.001
                RATE_LIMIT_WAIT_SECONDS.inc(wait)
                self.sleep(wait)

    def _take(self, campaign_id: str, count: int) -> bool:
        window = int(self.clock())
        scopes = []
        if self.global_per_s > 0:
            scopes.append((f"delivery:rate:global:{window}", self.global_per_s))
        if self.campaign_per_s > 0:
            scopes.append((f"delivery:rate:campaign:{campaign_id}:{window}", self.campaign_per_s))
        # not a MULTI: the two keys lie in different slots on a Redis Cluster, and each
        # INCRBY answers its own key's count atomically; the undo below covers a refusal
        pipe = self.client.pipeline(transaction=False)
        for key, _limit in scopes:
            pipe.incrby(key, count)
            pipe.expire(key, 5)
        values = pipe.execute()[::2]
        if all(int(v) <= limit for v, (_k, limit) in zip(values, scopes, strict=True)):
            return True
        undo = self.client.pipeline(transaction=False)
        for key, _limit in scopes:
            undo.decrby(key, count)
        undo.execute()
        return False
