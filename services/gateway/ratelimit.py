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

    @staticmethod
    def _key(who: str) -> str:
        return f"sse:open:{who}"

    async def acquire(self, who: str) -> str:
        """A slot id; RateLimited (429) when ``who`` already holds ``cap`` streams."""
        slot = secrets.token_hex(8)
        if self.cap <= 0:
            return slot
        now = time.time()
        key = self._key(who)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {slot: now + self.hold_s})
        pipe.zcard(key)
        pipe.expire(key, math.ceil(self.hold_s))
        _, _, count, _ = await pipe.execute()
        if int(count) > self.cap:
            await self.redis.zrem(key, slot)
            raise RateLimited(
                f"too many open event streams: at most {self.cap} per person",
                {"retryAfter": 5, "limit": self.cap},
            )
        return slot

    async def release(self, who: str, slot: str) -> None:
        await self.redis.zrem(self._key(who), slot)
