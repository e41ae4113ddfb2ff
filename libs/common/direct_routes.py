"""High-rate routes served without the framework's per-request layers.

Between the server and an endpoint FastAPI runs about a dozen ASGI layers, route
matching and dependency solving: ~300 us of CPU per request on this project's 2-core
machine, more than the endpoint's own work for a single-record POST. A route whose
endpoint takes only the ``Request`` (it reads its headers and body itself) can skip
them: the service app (``libs.common.web.ServiceApp``) matches it first and calls the
endpoint in the same request context (trace id, metrics) as every other route.

What a client sees is unchanged: the internal-token check, the error bodies (the app's
own exception handlers answer), the trace header and the metrics are the same, and the
APIRoute stays registered, documenting the route in the OpenAPI schema with the very
endpoint function that serves it.
"""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from libs.common.errors import Forbidden

Endpoint = Callable[[Request], Awaitable[Response]]
ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def _takes_request_only(endpoint: Callable[..., Any]) -> bool:
    parameters = list(inspect.signature(endpoint).parameters.values())
    return len(parameters) == 1 and parameters[0].annotation in (Request, "Request")


class DirectRoutes:
    """The (method, path) pairs served directly, resolved from the app's own routes."""

    def __init__(
        self,
        app: FastAPI,
        routers: Iterable[APIRouter],
        routes: Iterable[tuple[str, str]],
        internal_token: str | None,
    ) -> None:
        self.internal_token = internal_token.encode() if internal_token else None
        self.exception_handlers: dict[Any, Any] = app.exception_handlers
        self.routes: dict[tuple[str, str], APIRoute] = {}
        registered = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
        for method, path in routes:
            found = [r for r in registered if r.path == path and method in (r.methods or ())]
            if not found:
                raise ValueError(f"no route {method} {path} to serve directly")
            if not _takes_request_only(found[0].endpoint):
                raise ValueError(f"{method} {path}: a direct endpoint takes the Request only")
            self.routes[(method, path)] = found[0]

    def match(self, scope: Scope) -> APIRoute | None:
        return self.routes.get((scope["method"], scope["path"])) if self.routes else None

    async def serve(self, route: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = route  # the metrics label it by its template, as FastAPI would
        request = Request(scope, receive)
        try:
            self._check_token(scope)
            response: Response = await route.endpoint(request)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)

    def _check_token(self, scope: Scope) -> None:
        if self.internal_token is None:
            return
        for name, value in scope["headers"]:
            if name == b"x-internal-token":
                if secrets.compare_digest(value, self.internal_token):
                    return
                break
        raise Forbidden("requests must come through the gateway")

    def _handler_for(self, exc: Exception) -> ExceptionHandler | None:
        """The app's handler for this exception, looked up as Starlette does (by MRO)."""
        for cls in type(exc).__mro__:
            if cls in self.exception_handlers:
                handler: ExceptionHandler = self.exception_handlers[cls]
                return handler
        return None
