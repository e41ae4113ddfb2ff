"""``Idempotency-Key``: the first answer to a keyed request is kept in Redis (24 h by
default) and given again to a retry, which queues nothing. A retry that arrives while
the first request is still running gets 409 and should retry later."""

from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from libs.common.errors import Conflict, ValidationFailed

_PENDING = b"pending"
MAX_KEY_LENGTH = 200


class IdempotencyStore:
    def __init__(self, client: aioredis.Redis, ttl_s: int) -> None:
        self.client = client
        self.ttl_s = ttl_s

    @staticmethod
    def redis_key(route: str, key: str) -> str:
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
        return f"ingest:idem:{route}:{key}"

    async def claim(self, route: str, key: str) -> tuple[int, Any] | None:
        """None when this request is the first with the key; else the stored answer."""
        rkey = self.redis_key(route, key)
        if await self.client.set(rkey, _PENDING, nx=True, ex=self.ttl_s):
            return None
        stored = await self.client.get(rkey)
        if stored is None:  # expired in between: this request is now the first
            return await self.claim(route, key)
        if stored == _PENDING:
            raise Conflict("a request with this Idempotency-Key is still being processed")
        answer = orjson.loads(stored)
        return int(answer["status"]), answer["body"]

    async def save(self, route: str, key: str, status: int, body: Any) -> None:
        payload = orjson.dumps({"status": status, "body": body})
        await self.client.set(self.redis_key(route, key), payload, ex=self.ttl_s)

    async def release(self, route: str, key: str) -> None:
        await self.client.delete(self.redis_key(route, key))
