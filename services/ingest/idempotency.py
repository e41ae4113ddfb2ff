"""``Idempotency-Key``: the first answer to a keyed request is kept in Redis (24 h by
default) and given again to a retry, which queues nothing. A retry that arrives while
the first request is still running gets 409 and should retry later.

A key belongs to its caller (the user or API key the gateway names) and its route, and
is bound to a hash of the request body: another caller's request with the same key is
a different request, and the same caller's same key with another body is refused (409
``idempotency_key_reused``) rather than answered with the first body's result.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import redis.asyncio as aioredis

from libs.common.errors import Conflict, ValidationFailed

_PENDING = b"pending:"
MAX_KEY_LENGTH = 200


def body_digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _reused(key: str) -> Conflict:
    return Conflict(
        "this Idempotency-Key was used with another request body",
        {"idempotencyKey": key},
        code="idempotency_key_reused",
    )


class IdempotencyStore:
    def __init__(self, client: aioredis.Redis, ttl_s: int) -> None:
        self.client = client
        self.ttl_s = ttl_s

    @staticmethod
    def redis_key(caller: str, route: str, key: str) -> str:
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
        return f"ingest:idem:{caller}:{route}:{key}"

    async def claim(self, caller: str, route: str, key: str, digest: str) -> tuple[int, Any] | None:
        """None when this request is the first with the key; else the stored answer."""
        rkey = self.redis_key(caller, route, key)
        if await self.client.set(rkey, _PENDING + digest.encode(), nx=True, ex=self.ttl_s):
            return None
        stored = await self.client.get(rkey)
        if isinstance(stored, str):  # a client built with decode_responses
            stored = stored.encode()
        if stored is None:  # expired in between: this request is now the first
            return await self.claim(caller, route, key, digest)
        if stored.startswith(_PENDING):
            if stored[len(_PENDING) :].decode() != digest:
                raise _reused(key)
            raise Conflict("a request with this Idempotency-Key is still being processed")
        answer = orjson.loads(stored)
        if answer.get("digest") != digest:
            raise _reused(key)
        return int(answer["status"]), answer["body"]

    async def save(
        self, caller: str, route: str, key: str, digest: str, status: int, body: Any
    ) -> None:
        payload = orjson.dumps({"status": status, "body": body, "digest": digest})
        await self.client.set(self.redis_key(caller, route, key), payload, ex=self.ttl_s)

    async def release(self, caller: str, route: str, key: str) -> None:
        await self.client.delete(self.redis_key(caller, route, key))
