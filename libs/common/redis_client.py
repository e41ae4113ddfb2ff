"""Redis client factories. The socket timeout must exceed the XREADGROUP BLOCK time."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

_RETRYABLE = (redis.ConnectionError, redis.TimeoutError)


def make_redis(url: str, *, block_ms: int = 2000) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=block_ms / 1000 + 5,
        socket_connect_timeout=3,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=2, base=0.05), 3),
        retry_on_error=list(_RETRYABLE),
    )


def make_async_redis(url: str) -> aioredis.Redis:
    # The asyncio client needs the asyncio Retry: given the sync one, a connection
    # dropped by a Redis restart surfaces as an error instead of a reconnect.
    return aioredis.Redis.from_url(
        url,
        socket_timeout=10,
        socket_connect_timeout=3,
        health_check_interval=30,
        retry=AsyncRetry(ExponentialBackoff(cap=2, base=0.05), 3),
        retry_on_error=list(_RETRYABLE),
    )
