"""The gateway's consent routes: the public unsubscribe pages and a person's export.

- ``GET|POST /u/{token}``: public (the person reading an email is not signed in),
  rate limited per client address (``GATEWAY_RATE_LIMIT_UNSUBSCRIBE_PER_MIN``), passed
  to the ingest service's ``/public/u/{token}``, which owns consent. A mail client's
  one-click POST carries no Origin and no cookie: nothing here trusts either.
- ``GET /api/customers/{id}/export`` (admin): everything held about the person in one
  JSON document, put together here from what each owner answers (ingest: customer,
  orders, suppressions; delivery: messages). Composing answers is routing work; no
  service reads another's data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from libs.common.errors import NotFound, Unauthorized, UpstreamError
from libs.common.web import INTERNAL_TOKEN_HEADER
from services.gateway.access import ADMIN
from services.gateway.audit import actor_of
from services.gateway.proxy import Proxy, upstream_headers

MAX_TOKEN = 1000


def consent_router(proxy: Proxy) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    settings = proxy.settings

    async def unsubscribe(request: Request, token: str) -> Response:
        who = request.client.host if request.client else "unknown"
        await proxy.limiter.hit(
            "unsubscribe", f"ip:{who}", settings.rate_limit_unsubscribe_per_min, 60
        )
        url = f"{settings.upstreams['ingest']}/public/u/{token[:MAX_TOKEN]}"
        headers = {INTERNAL_TOKEN_HEADER: settings.internal_token}
        if "content-type" in request.headers:
            headers["content-type"] = request.headers["content-type"]
        body = await request.body() if request.method == "POST" else None
        try:
            answer = await proxy.client.request(
                request.method, url, headers=headers, content=body, timeout=proxy.timeout
            )
        except httpx.HTTPError as exc:
            raise UpstreamError("the ingest service is unavailable", status=502) from exc
        return Response(
            answer.content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type", "text/html; charset=utf-8"),
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    router.add_api_route("/u/{token}", unsubscribe, methods=["GET", "POST"])

    async def export(request: Request, customer_id: str) -> Response:
        identity = await proxy.auth.identify(request)
        if identity is None:
            raise Unauthorized("sign in or send an API key")
        proxy.auth.authorize(request, identity, ADMIN)
        headers = [
            (name, value)
            for name, value in upstream_headers(request, identity, settings.internal_token)
            if name.lower() not in (b"content-length", b"content-type", b"transfer-encoding")
        ]
        ingest = await _get(
            proxy,
            f"{settings.upstreams['ingest']}/api/customers/{customer_id}/export-record",
            headers,
        )
        delivery = await _get(
            proxy,
            f"{settings.upstreams['delivery']}/api/deliveries/customers/{customer_id}",
            headers,
        )
        document = {
            "exportedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            **ingest,
            "messages": delivery.get("items", []),
        }
        await proxy.audit.record(
            request,
            action="customer.exported",
            actor=actor_of(identity),
            status=200,
            target=customer_id,
        )
        return Response(
            orjson.dumps(document),
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="customer-{customer_id[:60]}.json"'
            },
        )

    router.add_api_route("/api/customers/{customer_id}/export", export, methods=["GET"])
    return router


async def _get(proxy: Proxy, url: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    try:
        answer = await proxy.client.get(url, headers=headers, timeout=proxy.timeout)
    except httpx.HTTPError as exc:
        raise UpstreamError("a service holding the customer's data is unavailable") from exc
    if answer.status_code == 404:
        raise NotFound("no such customer")
    if answer.status_code != 200:
        raise UpstreamError(f"export failed upstream (HTTP {answer.status_code})")
    data: dict[str, Any] = answer.json()
    return data
