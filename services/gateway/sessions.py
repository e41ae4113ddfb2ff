"""Server-side sessions in Redis; the cookie carries only a signed, random session id.

Deleting ``session:<id>`` (logout) or letting its TTL run out (expiry) ends the session
for good, whatever the browser still holds.
"""

from __future__ import annotations

import secrets
import time

import redis.asyncio as aioredis
from itsdangerous import BadSignature, URLSafeTimedSerializer

from services.gateway.models import SessionRecord


class SessionStore:
    def __init__(self, redis: aioredis.Redis, secret: str, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self.signer = URLSafeTimedSerializer(secret, salt="mcrm-session")

    @staticmethod
    def _key(session_id: str) -> str:
        return f"session:{session_id}"

    async def create(self, record: SessionRecord) -> str:
        """Store the record and return the signed cookie value."""
        session_id = secrets.token_urlsafe(32)
        await self.redis.set(self._key(session_id), record.model_dump_json(), ex=self.ttl_s)
        return self.signer.dumps(session_id)

    def session_id(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            value = self.signer.loads(cookie, max_age=self.ttl_s)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    async def load(self, cookie: str | None) -> SessionRecord | None:
        session_id = self.session_id(cookie)
        if session_id is None:
            return None
        raw = await self.redis.get(self._key(session_id))
        if raw is None:
            return None
        return SessionRecord.model_validate_json(raw)

    async def destroy(self, cookie: str | None) -> None:
        session_id = self.session_id(cookie)
        if session_id is not None:
            await self.redis.delete(self._key(session_id))


def new_record(user_id: str, email: str, name: str, picture: str | None) -> SessionRecord:
    return SessionRecord(
        user_id=user_id, email=email, name=name, picture=picture, created_at=time.time()
    )
