"""Fixed-window rate limits in Redis, shared by every gateway process.

One INCR and one EXPIRE per request in a single round trip; the key names the window,
so a window ends by itself. A fixed window may let up to twice the limit through across
a window boundary; that is fine for shielding sign-in and the ingestion path.
"""

from __future__ import annotations

import math
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
