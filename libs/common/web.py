"""FastAPI helpers every service uses: health, readiness, metrics, errors, request ids,
and the internal-token check that makes services trust only the gateway."""

from __future__ import annotations

import asyncio
import gc
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, nullcontext
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from pymongo import errors as pymongo_errors
from redis import exceptions as redis_exceptions
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common import metrics
from libs.common.direct_routes import DirectRoutes
from libs.common.errors import AppError, Forbidden
from libs.common.logging import bind_trace_id, get_logger, new_trace_id

log = get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]

TRACE_HEADER = "x-trace-id"
_TRACE_HEADER_BYTES = TRACE_HEADER.encode()
INTERNAL_TOKEN_HEADER = "x-internal-token"


async def in_request_context(
    service: str, scope: Scope, send: Send, respond: Callable[[Send], Awaitable[None]]
) -> None:
    """Answer one HTTP request by ``respond(send)`` with its trace id bound (from
    X-Trace-Id or new) and echoed, and its count and latency recorded."""
    trace_id = ""
    for name, value in scope["headers"]:
        if name == _TRACE_HEADER_BYTES or (name == b"x-request-id" and not trace_id):
            trace_id = value.decode("latin-1")[:64]
    trace_id = trace_id or new_trace_id()
    bind_trace_id(trace_id)
    started = time.perf_counter()
    status = 500

    async def send_with_trace(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            message["headers"] = [
                *message.get("headers", ()),
                (_TRACE_HEADER_BYTES, trace_id.encode()),
            ]
        await send(message)

    try:
        await respond(send_with_trace)
    finally:
        route = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        metrics.observe_request(
            service, scope.get("method", "GET"), path, status, time.perf_counter() - started
        )


class RequestContextMiddleware:
    """Every request of the framework's routes in its context (``in_request_context``).

    Pure ASGI so that streaming responses (server-sent events) are never buffered.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await in_request_context(
            self.service, scope, send, lambda traced: self.app(scope, receive, traced)
        )


class ServiceApp(FastAPI):
    """FastAPI whose direct routes (libs.common.direct_routes) are answered ahead of
    every framework layer (errors, middleware, routing), in the same request context."""

    service = ""
    direct: DirectRoutes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        direct = self.direct
        if direct is not None and scope["type"] == "http":
            route = direct.match(scope)
            if route is not None:
                scope["app"] = self  # request.app, as the framework would set it
                await in_request_context(
                    self.service,
                    scope,
                    send,
                    lambda traced: direct.serve(route, scope, receive, traced),
                )
                return
        await super().__call__(scope, receive, send)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        details.append({"field": ".".join(loc), "message": err.get("msg"), "type": err.get("type")})
    return details


# Connection-level failures of Redis and MongoDB: the request may succeed once they
# return, so they answer 503 with Retry-After rather than a bare 500.
_UNAVAILABLE: tuple[type[Exception], ...] = (
    redis_exceptions.ConnectionError,
    redis_exceptions.TimeoutError,
    pymongo_errors.AutoReconnect,
    pymongo_errors.ServerSelectionTimeoutError,
    pymongo_errors.NetworkTimeout,
)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        headers = None if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        return JSONResponse(exc.to_body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        body = {
            "error": {
                "code": "validation_failed",
                "message": "the request is not valid",
                "details": _validation_details(exc),
            }
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
            415: "unsupported_media_type",
        }
        body = {
            "error": {
                "code": codes.get(exc.status_code, f"http_{exc.status_code}"),
                "message": str(exc.detail),
                "details": None,
            }
        }
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def _dependency_down(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("http.dependency_unavailable", error=str(exc)[:200])
        body = {
            "error": {
                "code": "dependency_unavailable",
                "message": "a backing store is unavailable; retry shortly",
                "details": {"error": type(exc).__name__},
            }
        }
        return JSONResponse(body, status_code=503, headers={"Retry-After": "2"})

    for unavailable in _UNAVAILABLE:
        app.add_exception_handler(unavailable, _dependency_down)

    @app.exception_handler(RecursionError)
    async def _too_deep(_request: Request, _exc: RecursionError) -> JSONResponse:
        body = {
            "error": {
                "code": "too_deeply_nested",
                "message": "the request nests too deeply to be processed",
                "details": None,
            }
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("http.unhandled_error", error=str(exc))
        body = {"error": {"code": "internal", "message": "internal error", "details": None}}
        return JSONResponse(body, status_code=500)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The one error shape: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail


ERROR_STATUSES = {
    400: "Malformed request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request too large",
    422: "Invalid input, with the reasons",
    429: "Too many requests (Retry-After says when to retry)",
    502: "A service behind the gateway is unavailable",
    503: "A dependency is unavailable",
    504: "A service behind the gateway timed out",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in ERROR_STATUSES.items()
}


class HealthStatus(BaseModel):
    status: str
    checks: dict[str, bool] = {}


def health_router(checks: dict[str, ReadinessCheck], metrics: bool = True) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=HealthStatus)
    async def healthz() -> HealthStatus:
        return HealthStatus(status="ok")

    @router.get("/readyz", response_model=HealthStatus, responses={503: {"model": HealthStatus}})
    async def readyz() -> Response:
        results: dict[str, bool] = {}
        for name, check in checks.items():
            try:
                results[name] = await asyncio.wait_for(check(), timeout=2.5)
            except Exception:
                results[name] = False
        ok = all(results.values())
        body = HealthStatus(status="ready" if ok else "unavailable", checks=results)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    if metrics:

        @router.get("/metrics", include_in_schema=False)
        async def prometheus_metrics() -> Response:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def internal_token_dependency(expected: str) -> Callable[..., Awaitable[None]]:
    """Services accept requests only from the gateway, which adds this header.

    Async on purpose: a sync dependency costs every request a threadpool hand-off."""

    async def require_internal_token(
        x_internal_token: Annotated[str | None, Header()] = None,
    ) -> None:
        if not x_internal_token or not secrets.compare_digest(x_internal_token, expected):
            raise Forbidden("requests must come through the gateway")

    return require_internal_token


class Caller(BaseModel):
    """Who the gateway says is calling: a user (session) or an API key."""

    user_id: str | None = None
    email: str | None = None
    scopes: list[str] = []


async def get_caller(
    x_user_id: Annotated[str | None, Header()] = None,
    x_user_email: Annotated[str | None, Header()] = None,
    x_auth_scopes: Annotated[str | None, Header()] = None,
) -> Caller:
    scopes = [s for s in (x_auth_scopes or "").split(",") if s]
    return Caller(user_id=x_user_id, email=x_user_email, scopes=scopes)


CallerDep = Annotated[Caller, Depends(get_caller)]


def create_service_app(
    *,
    service: str,
    internal_token: str | None,
    routers: Sequence[APIRouter],
    readiness: dict[str, ReadinessCheck],
    lifespan: Any = None,
    title: str | None = None,
    direct_routes: Sequence[tuple[str, str]] = (),
    open_meta: bool = True,
) -> FastAPI:
    """The shape every service app shares. ``internal_token=None`` leaves routes open
    (the gateway itself and the vendor simulator, an outside party). ``direct_routes``:
    (method, path) of high-rate routes served without the framework's layers.
    ``open_meta=False``: no open /docs, /redoc, /openapi.json or /metrics (the gateway,
    facing the internet, serves guarded ones itself)."""
    app = ServiceApp(
        title=title or f"Mini CRM {service}",
        lifespan=_freezing_after_startup(lifespan),
        docs_url="/docs" if open_meta else None,
        redoc_url="/redoc" if open_meta else None,
        openapi_url="/openapi.json" if open_meta else None,
    )
    install_error_handlers(app)
    app.include_router(health_router(readiness, metrics=open_meta))
    deps = [Depends(internal_token_dependency(internal_token))] if internal_token else []
    for router in routers:
        app.include_router(router, dependencies=deps, responses=ERROR_RESPONSES)
    app.service = service
    if direct_routes:
        app.direct = DirectRoutes(app, routers, direct_routes, internal_token)
    app.add_middleware(RequestContextMiddleware, service=service)
    return app


def _freezing_after_startup(lifespan: Any) -> Any:
    """The app's lifespan, then ``gc.freeze()``: what start-up built (clients, routes,
    schemas) lives as long as the process, so the cyclic collector stops scanning it
    on every full collection, a pause requests would otherwise wait out."""

    @asynccontextmanager
    async def frozen(app: FastAPI) -> AsyncIterator[Any]:
        async with lifespan(app) if lifespan else nullcontext() as state:
            gc.collect()
            gc.freeze()
            yield state

    return frozen


def redis_check(client: Any) -> ReadinessCheck:
    async def check() -> bool:
        return bool(await client.ping())

    return check


def mongo_check(client: Any) -> ReadinessCheck:
    from libs.common.mongo import ping

    async def check() -> bool:
        return await asyncio.to_thread(ping, client)

    return check
