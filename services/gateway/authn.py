"""Turning a request into an Identity: the session cookie or an API key.

API keys are looked up by hash and cached in-process for ``api_key_cache_s`` seconds,
because ingestion sends many requests per second with the same key; a revoked key
therefore stops working within that many seconds on other gateway processes (at once
on the process that revoked it). ``lastUsedAt`` is written at most once a minute per key.
A person's role is read from the users collection and cached the same way, so a role
change reaches every process within ``api_key_cache_s`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import HTTPConnection

from libs.common.errors import Forbidden, Unauthorized
from libs.common.logging import get_logger
from services.gateway.access import (
    SAFE_METHODS,
    Identity,
    Need,
    Role,
    allows,
    origin_allowed,
    origin_of,
    role_of,
)
from services.gateway.keys import hash_key, looks_like_key
from services.gateway.sessions import SessionStore
from services.gateway.settings import GatewaySettings
from services.gateway.store import GatewayStore

log = get_logger(__name__)
TOUCH_INTERVAL_S = 60.0


class Authenticator:
    def __init__(
        self, settings: GatewaySettings, sessions: SessionStore, store: GatewayStore
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.store = store
        self._key_cache: dict[str, tuple[float, Identity | None]] = {}
        self._role_cache: dict[str, tuple[float, Role]] = {}
        self._touched: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        public = origin_of(settings.public_url) if settings.public_url else None
        self._public_origin = public
        self._allowed_origins = set(settings.cors_origin_list)

    def own_origins(self, conn: HTTPConnection) -> set[str]:
        # With a public URL set, Host is whatever the client sent: never trust it.
        if self._public_origin:
            return {self._public_origin}
        return {f"{conn.url.scheme}://{conn.url.netloc}".lower()}

    async def identify(self, conn: HTTPConnection) -> Identity | None:
        authorization = conn.headers.get("authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("use 'Authorization: Bearer <api key>'")
            identity = await self._identify_key(token.strip())
            if identity is None:
                raise Unauthorized("the API key is not valid or was revoked")
            return identity
        record = await self.sessions.load(conn.cookies.get(self.settings.session_cookie))
        if record is None:
            return None
        return Identity(
            user_id=record.user_id,
            email=record.email,
            name=record.name,
            role=await self.role(record.user_id),
            via="session",
        )

    async def require(self, conn: HTTPConnection, need: Need) -> Identity | None:
        """The caller, if allowed; Unauthorized (401) or Forbidden (403) otherwise."""
        if need.kind == "public":
            return None
        identity = await self.identify(conn)
        if identity is None:
            raise Unauthorized("sign in or send an API key")
        self.authorize(conn, identity, need)
        return identity

    def authorize(self, conn: HTTPConnection, identity: Identity, need: Need) -> None:
        if not allows(identity, need):
            details = {"need": need.describe(), "role": identity.role}
            if need.kind == "session":
                raise Forbidden("this needs a signed-in user, not an API key", details)
            if need.kind == "admin":
                raise Forbidden("this needs a signed-in admin", details, code="admin_only")
            if identity.via == "key":
                scope = need.describe()
                raise Forbidden(f"the API key lacks the '{scope}' scope", {"scope": scope})
            raise Forbidden(
                f"the role '{identity.role}' may not do this", details, code="role_refused"
            )
        if identity.via == "session":
            self.check_origin(conn)

    async def role(self, user_id: str) -> Role:
        now = time.monotonic()
        cached = self._role_cache.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        doc = await asyncio.to_thread(self.store.get_user, user_id)
        role = role_of(doc.get("role") if doc else None)
        if len(self._role_cache) > 10_000:
            self._role_cache.clear()
        self._role_cache[user_id] = (now + self.settings.api_key_cache_s, role)
        return role

    def forget_user(self, user_id: str) -> None:
        """A role changed: this process sees it at once, and so do the person's keys."""
        self._role_cache.pop(user_id, None)
        for key_hash, (_, identity) in list(self._key_cache.items()):
            if identity is not None and identity.user_id == user_id:
                del self._key_cache[key_hash]

    def check_origin(self, conn: HTTPConnection) -> None:
        method = conn.scope.get("method", "GET")
        if method in SAFE_METHODS:
            return
        if not origin_allowed(
            conn.headers.get("origin"),
            conn.headers.get("referer"),
            self.own_origins(conn),
            self._allowed_origins,
        ):
            raise Forbidden(
                "cross-origin request refused: the Origin is not this site",
                {"origin": conn.headers.get("origin") or conn.headers.get("referer")},
                code="origin_refused",
            )

    async def _identify_key(self, key: str) -> Identity | None:
        if not looks_like_key(key):
            return None
        key_hash = hash_key(key)
        now = time.monotonic()
        cached = self._key_cache.get(key_hash)
        if cached is not None and cached[0] > now:
            identity = cached[1]
        else:
            doc = await asyncio.to_thread(self.store.find_active_key, key_hash)
            identity = _key_identity(doc, await self.role(str(doc["userId"]))) if doc else None
            if len(self._key_cache) > 10_000:
                self._key_cache.clear()
            self._key_cache[key_hash] = (now + self.settings.api_key_cache_s, identity)
        if identity is not None and identity.key_id:
            self._maybe_touch(identity.key_id, now)
        return identity

    def forget_key(self, key_id: str) -> None:
        """Drop a revoked key from this process's cache at once."""
        for key_hash, (_, identity) in list(self._key_cache.items()):
            if identity is not None and identity.key_id == key_id:
                del self._key_cache[key_hash]

    def _maybe_touch(self, key_id: str, now: float) -> None:
        if now - self._touched.get(key_id, -TOUCH_INTERVAL_S) < TOUCH_INTERVAL_S:
            return
        self._touched[key_id] = now
        task = asyncio.create_task(self._touch(key_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _touch(self, key_id: str) -> None:
        try:
            await asyncio.to_thread(self.store.touch_keys, [key_id], datetime.now(UTC))
        except Exception as exc:  # last-used time is advisory; never fail a request for it
            log.warning("api_key.touch_failed", key_id=key_id, error=str(exc))


def _key_identity(doc: dict[str, Any], owner_role: Role) -> Identity:
    return Identity(
        user_id=str(doc["userId"]),
        email=str(doc.get("email", "")),
        role=owner_role,
        key_scopes=tuple(doc.get("scopes", ())),
        via="key",
        key_id=str(doc["_id"]),
        name=str(doc.get("name", "")),
    )
