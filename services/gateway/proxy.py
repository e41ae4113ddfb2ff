"""The reverse proxy: /api/* to the service that owns the path, streaming both ways.

The request body is passed on as bytes (small, known length) or as a stream, never
parsed; the response is streamed back chunk by chunk, so server-sent events arrive as
they are sent. Upstream failures map to 502 (unreachable) and 504 (too slow).

Server-sent event streams go through their own connection pool, at most
``stream_max_per_person`` open per person (429 beyond), and end after
``stream_max_lifetime_s`` (the browser's EventSource reconnects by itself): however many
streams are open, ordinary requests always find a connection.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import httpx
from prometheus_client import Counter, Histogram
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from libs.common.errors import AppError, NotFound, Unauthorized, UpstreamError
from libs.common.logging import current_trace_id, get_logger
from services.gateway.access import Identity, is_ingestion, required_access
from services.gateway.audit import AuditLog, action_for, actor_of
from services.gateway.authn import Authenticator
from services.gateway.ratelimit import RateLimiter, StreamSlots
from services.gateway.settings import GatewaySettings

log = get_logger(__name__)

UPSTREAM_REQUESTS = Counter(
    "crm_gateway_upstream_requests_total",
    "Requests the gateway forwarded, by service and answer (status or failure)",
    ["service", "outcome"],
)
UPSTREAM_SECONDS = Histogram(
    "crm_gateway_upstream_seconds",
    "Time until the upstream's response headers arrived",
    ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# Order matters: the first match wins.
ROUTES: tuple[tuple[str, str], ...] = (
    (r"/api/campaigns/[^/]+/communications", "delivery"),
    (r"/api/customers/[^/]+/journeys", "campaign"),
    (r"/api/settings/delivery", "delivery"),
    (r"/api/customers", "ingest"),
    (r"/api/orders", "ingest"),
    (r"/api/imports", "ingest"),
    (r"/api/suppressions", "ingest"),
    (r"/api/unsubscriptions", "ingest"),
    (r"/api/campaigns", "campaign"),
    (r"/api/segments", "campaign"),
    (r"/api/journeys", "campaign"),
    (r"/api/deliveries", "delivery"),
    (r"/api/ai", "ai"),
)
_COMPILED = tuple((re.compile(f"^{pattern}(?:/|$)"), service) for pattern, service in ROUTES)

BUFFER_LIMIT = 1024 * 1024  # bodies up to this size with a known length are sent in one go
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Never taken from the client: the gateway alone vouches for these.
_STRIPPED_REQUEST = HOP_BY_HOP | {
    "host",
    "cookie",
    "authorization",
    "x-internal-token",
    "x-auth-scopes",
    "x-trace-id",
    "x-forwarded-for",
}
_STRIPPED_RESPONSE = HOP_BY_HOP | {"date", "server", "x-trace-id"}


def upstream_for(path: str) -> str | None:
    """The service owning an /api path, or None."""
    for pattern, service in _COMPILED:
        if pattern.match(path):
            return service
    return None


def upstream_headers(
    request: Request, identity: Identity | None, internal_token: str
) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = [
        (name, value)
        for name, value in request.scope["headers"]
        if name.decode("latin-1") not in _STRIPPED_REQUEST and not name.startswith(b"x-user-")
    ]
    headers.append((b"x-internal-token", internal_token.encode()))
    headers.append((b"x-trace-id", (current_trace_id() or "").encode()))
    if request.client:
        headers.append((b"x-forwarded-for", request.client.host.encode()))
    headers.append((b"x-forwarded-proto", request.url.scheme.encode()))
    if identity is not None:
        headers.append((b"x-user-id", identity.user_id.encode()))
        headers.append((b"x-user-email", identity.email.encode()))
        headers.append((b"x-auth-scopes", ",".join(identity.scopes).encode()))
    return headers


def is_event_stream(request: Request) -> bool:
    path = request.url.path.rstrip("/")
    return path.endswith("/events") or "text/event-stream" in request.headers.get("accept", "")


class Proxy:
    def __init__(
        self,
        settings: GatewaySettings,
        client: httpx.AsyncClient,
        auth: Authenticator,
        limiter: RateLimiter,
        *,
        stream_client: httpx.AsyncClient,
        stream_slots: StreamSlots,
        audit: AuditLog,
    ) -> None:
        self.settings = settings
        self.client = client
        self.stream_client = stream_client
        self.stream_slots = stream_slots
        self.auth = auth
        self.limiter = limiter
        self.audit = audit
        self.upstreams = settings.upstreams
        timeout_s = settings.upstream_timeout_s
        connect_s = settings.upstream_connect_timeout_s
        self.timeout = httpx.Timeout(timeout_s, connect=connect_s)
        # Server-sent events stay open as long as the campaign runs: no read timeout.
        self.stream_timeout = httpx.Timeout(timeout_s, connect=connect_s, read=None)

    async def handle(self, request: Request) -> Response:
        method, path = request.method, request.url.path
        if any(segment in (".", "..") for segment in path.split("/")):
            # The upstream URL would resolve them and land on a route other than the
            # one whose access was checked.
            raise AppError("dot segments are not allowed in API paths", code="bad_path", status=400)
        need = required_access(method, path)
        identity: Identity | None = None
        if need.kind != "public":
            identity = await self.auth.identify(request)
            if identity is None:
                raise Unauthorized("sign in or send an API key")
        audited = action_for(method, path) if identity is not None else None
        try:
            if identity is not None:
                self.auth.authorize(request, identity, need)
            response = await self._route(request, identity)
        except AppError as exc:
            if audited:
                await self._audit(request, audited, identity, exc.status)
            raise
        if audited:
            await self._audit(request, audited, identity, response.status_code)
        return response

    async def _audit(
        self,
        request: Request,
        audited: tuple[str, str | None],
        identity: Identity | None,
        status: int,
    ) -> None:
        action, target = audited
        await self.audit.record(
            request, action=action, actor=actor_of(identity), status=status, target=target
        )

    async def _route(self, request: Request, identity: Identity | None) -> Response:
        method, path = request.method, request.url.path
        service = upstream_for(path)
        if service is None:
            raise NotFound(f"no API at {path}")
        if is_ingestion(method, path):
            who = identity.rate_key if identity else f"ip:{_client_ip(request)}"
            await self.limiter.hit("ingest", who, self.settings.rate_limit_ingest_per_s, 1)
        if method == "GET" and is_event_stream(request) and identity is not None:
            return await self.forward_stream(request, service, identity)
        return await self.forward(request, service, identity)

    async def forward_stream(self, request: Request, service: str, identity: Identity) -> Response:
        who = f"user:{identity.user_id}"  # all of a person's keys and tabs together
        slot = await self.stream_slots.acquire(who)
        try:
            response = await self.forward(request, service, identity, stream=True)
        except BaseException:
            await self.stream_slots.release(who, slot)
            raise
        assert response.background is not None
        close_upstream = response.background  # the task: its function with its arguments

        async def close() -> None:
            try:
                await close_upstream()
            finally:
                await self.stream_slots.release(who, slot)

        response.background = BackgroundTask(close)
        return response

    async def forward(
        self,
        request: Request,
        service: str,
        identity: Identity | None,
        *,
        stream: bool = False,
    ) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        url = self.upstreams[service] + raw_path.decode("latin-1")
        if request.url.query:
            url += "?" + request.url.query
        client = self.stream_client if stream else self.client
        upstream_request = client.build_request(
            request.method,
            url,
            headers=upstream_headers(request, identity, self.settings.internal_token),
            content=await _body(request),
            timeout=self.stream_timeout if stream else self.timeout,
        )
        started = time.perf_counter()
        try:
            upstream = await client.send(upstream_request, stream=True)
        except AppError:
            raise
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise _unavailable(service, exc) from exc
            UPSTREAM_REQUESTS.labels(service, "timeout").inc()
            log.warning("proxy.upstream_timeout", service=service, path=request.url.path)
            raise UpstreamError(
                f"the {service} service did not answer within "
                f"{self.settings.upstream_timeout_s:g}s",
                {"service": service},
                code="upstream_timeout",
                status=504,
            ) from exc
        except httpx.HTTPError as exc:
            raise _unavailable(service, exc) from exc
        UPSTREAM_SECONDS.labels(service).observe(time.perf_counter() - started)
        UPSTREAM_REQUESTS.labels(service, str(upstream.status_code)).inc()
        lifetime = self.settings.stream_max_lifetime_s if stream else None
        response = StreamingResponse(
            _relay(upstream, service, lifetime),
            status_code=upstream.status_code,
            background=BackgroundTask(upstream.aclose),
        )
        response.raw_headers = [
            (name, value)
            for name, value in upstream.headers.raw
            if name.lower().decode("latin-1") not in _STRIPPED_RESPONSE
        ]
        return response


async def _relay(
    upstream: httpx.Response, service: str, lifetime_s: float | None = None
) -> AsyncIterator[bytes]:
    chunks = upstream.aiter_raw()
    deadline = None if lifetime_s is None else time.monotonic() + lifetime_s
    try:
        while True:
            if deadline is None:
                chunk = await anext(chunks, None)
            else:
                remaining = deadline - time.monotonic()
                chunk = await _next_within(chunks, remaining) if remaining > 0 else None
            if chunk is None:
                return
            yield chunk
    except httpx.HTTPError as exc:
        # Headers are gone already; all we can do is end the response and say why.
        log.warning("proxy.stream_broken", service=service, error=str(exc))


async def _next_within(chunks: AsyncIterator[bytes], seconds: float) -> bytes | None:
    """The next chunk, or None at the end of the stream or of its lifetime (the client
    reconnects and gets a fresh stream)."""
    try:
        return await asyncio.wait_for(anext(chunks, None), seconds)
    except TimeoutError:
        return None


async def _body(request: Request) -> bytes | AsyncIterator[bytes] | None:
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
        if not has_body:
            return None
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) <= BUFFER_LIMIT:
        return await request.body()
    return request.stream()


def _unavailable(service: str, exc: Exception) -> UpstreamError:
    log.warning("proxy.upstream_unavailable", service=service, error=repr(exc))
    UPSTREAM_REQUESTS.labels(service, "unavailable").inc()
    return UpstreamError(
        f"the {service} service is unavailable",
        {"service": service, "reason": type(exc).__name__},
        code="upstream_unavailable",
        status=502,
    )


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
