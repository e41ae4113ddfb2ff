"""Composition root of the gateway: builds clients, sign-in, the proxy and the UI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import redis.asyncio as aioredis
from fastapi import APIRouter, FastAPI
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware

from libs.common.logging import configure_logging, get_logger
from libs.common.mongo import make_client
from libs.common.redis_client import is_cluster_url, make_async_redis, make_redis
from libs.common.web import create_service_app, mongo_check, redis_check
from services.gateway.api import api_router, auth_router, meta_router
from services.gateway.audit import AuditLog
from services.gateway.authn import Authenticator
from services.gateway.consent import consent_router
from services.gateway.forwarded import ForwardedMiddleware
from services.gateway.frontend import frontend_router
from services.gateway.oidc import OidcClient
from services.gateway.proxy import Proxy
from services.gateway.ratelimit import RateLimiter, StreamSlots
from services.gateway.security import BodyLimitMiddleware, SecurityHeadersMiddleware
from services.gateway.sessions import SessionStore
from services.gateway.settings import GatewaySettings
from services.gateway.store import GatewayStore

log = get_logger(__name__)
PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    configure_logging("gateway", settings.log_level)
    redis = _waiting_redis(settings)
    sync_redis = make_redis(settings.redis_url)  # the stream admin helpers are sync
    mongo = make_client(settings.mongodb_uri)
    store = GatewayStore(mongo[settings.database_name("gateway")])
    sessions = SessionStore(redis, settings.session_secret, settings.session_ttl_s)
    auth = Authenticator(settings, sessions, store)
    limiter = RateLimiter(redis)
    http = httpx.AsyncClient(
        limits=httpx.Limits(
            max_connections=settings.upstream_max_connections,
            max_keepalive_connections=settings.upstream_max_connections,
        ),
        follow_redirects=False,
    )
    # Event streams get their own pool: however many are open, requests find a connection.
    stream_http = httpx.AsyncClient(
        limits=httpx.Limits(
            max_connections=settings.stream_max_connections, max_keepalive_connections=0
        ),
        follow_redirects=False,
    )
    audit = AuditLog(store)
    slots = StreamSlots(redis, settings.stream_max_per_person, settings.stream_max_lifetime_s)
    proxy = Proxy(
        settings,
        http,
        auth,
        limiter,
        stream_client=stream_http,
        stream_slots=slots,
        audit=audit,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = app.state
        state.settings, state.redis, state.sync_redis, state.mongo = (
            settings,
            redis,
            sync_redis,
            mongo,
        )
        state.store, state.sessions, state.auth, state.limiter = store, sessions, auth, limiter
        state.http, state.oidc, state.audit = http, OidcClient(settings), audit
        if settings.dev_login:
            log.warning(
                "auth.dev_login_enabled",
                message="DEVELOPMENT SIGN-IN IS ON: anyone can sign in as anyone. "
                "Never enable AUTH_DEV_LOGIN outside a local machine.",
            )
        try:
            await asyncio.to_thread(store.ensure_indexes)
        except Exception as exc:  # readiness reports the database; start anyway
            log.error("gateway.indexes_failed", error=str(exc))
        yield
        await stream_http.aclose()
        await http.aclose()
        await redis.aclose()
        sync_redis.close()
        mongo.close()

    proxy_router = APIRouter(include_in_schema=False)
    proxy_router.add_route(
        "/api/{path:path}", proxy.handle, methods=PROXY_METHODS, include_in_schema=False
    )
    app = create_service_app(
        service="gateway",
        internal_token=None,
        routers=[
            auth_router,
            consent_router(proxy),
            api_router,
            meta_router,
            proxy_router,
            frontend_router(settings.frontend_dir),
        ],
        readiness={"redis": redis_check(redis), "mongodb": mongo_check(mongo)},
        lifespan=lifespan,
        title="Mini CRM gateway",
        open_meta=False,  # meta_router serves guarded /docs, /openapi.json, /metrics
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        SessionMiddleware,  # only authlib's state/PKCE during the redirect; see oidc.py
        secret_key=settings.session_secret,
        session_cookie="mcrm_oauth",
        max_age=600,
        path="/auth",
        same_site="lax",
        https_only=bool(settings.cookie_secure),
    )
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_credentials=True,
            allow_methods=PROXY_METHODS,
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Trace-Id"],
            expose_headers=["X-Trace-Id", "Retry-After"],
        )
    app.add_middleware(SecurityHeadersMiddleware, hsts=bool(settings.cookie_secure))
    app.add_middleware(ForwardedMiddleware, hops=settings.trusted_proxy_hops)
    return app


def _waiting_redis(settings: GatewaySettings) -> aioredis.Redis:
    """Every request touches Redis (session, limits, stream slots). Under a burst, a
    request waits for one of ``redis_max_connections`` connections instead of failing
    with 503 as the default pool (100, then MaxConnectionsError) makes it. A Redis
    Cluster gets the factory's cluster client (its own pool per node)."""
    if is_cluster_url(settings.redis_url):
        return make_async_redis(settings.redis_url)
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.upstream_timeout_s,
        socket_timeout=10,
        socket_connect_timeout=3,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=2, base=0.05), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return aioredis.Redis(connection_pool=pool)
