"""Fixed-window rate limits in Redis, shared by every gateway process.

One INCR and one EXPIRE per request in a single round trip; the key names the window,
so a window ends by itself. A fixed window may let up to twice the limit through across
a window boundary; that is fine for shielding sign-in and the ingestion path.
"""

from __future__ import annotations

import math
import secrets
import time

import redis.asyncio as aioredis

from libs.common.errors import RateLimited


class RateLimiter:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def hit(self, bucket: str, who: str, limit: int, window_s: int) -> None:
        """Count one request; raise RateLimited (429 + Retry-After) past the limit."""
        if limit <= 0:
            return
        now = time.time()
        window = int(now // window_s)
        key = f"ratelimit:{bucket}:{who}:{window}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window_s + 1, nx=True)
        count, _ = await pipe.execute()
        if int(count) > limit:
            retry_after = max(1, math.ceil((window + 1) * window_s - now))
            raise RateLimited(
                f"too many requests: at most {limit} per {window_s}s",
                {"retryAfter": retry_after, "limit": limit, "windowSeconds": window_s},
            )


# KEYS: the person's set. ARGV: slot, now, hold seconds, cap.
# 1 when the slot is held (already, or taken now), 0 when the person is at the cap: a
# refused slot is never added, and a call retried after a lost answer is answered alike.
ACQUIRE_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])))
return 1
"""


class StreamSlots:
    """How many event streams each person holds open, across every gateway process.

    One sorted set per person: a member per open stream, scored by the time it must be
    gone by (its lifetime plus a grace). A process that dies without releasing its
    slots therefore frees them by itself once that time has passed.
    """

    def __init__(self, redis: aioredis.Redis, cap: int, lifetime_s: float) -> None:
        self.redis = redis
        self.cap = cap
        self.hold_s = lifetime_s + 60
        self._acquire = redis.register_script(ACQUIRE_SLOT)

    @staticmethod
    def _key(who: str) -> str:
        return f"sse:open:{who}"

    async def acquire(self, who: str) -> str:
        """A slot id; RateLimited (429) when ``who`` already holds ``cap`` streams."""
        slot = secrets.token_hex(8)
        if self.cap <= 0:
            return slot
        held = await self._acquire(
            keys=[self._key(who)], args=[slot, time.time(), self.hold_s, self.cap]
        )
        if not int(held):
            raise RateLimited(
                f"too many open event streams: at most {self.cap} per person",
                {"retryAfter": 5, "limit": self.cap},
            )
        return slot

    async def release(self, who: str, slot: str) -> None:
        await self.redis.zrem(self._key(who), slot)
