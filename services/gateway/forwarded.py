"""The client's address and scheme, trusting X-Forwarded-* only from known proxies.

uvicorn runs the gateway with ``--no-proxy-headers``: trusting the headers from anyone
let a client choose its own address, and so its own sign-in rate-limit bucket. With
``trusted_proxy_hops`` = N, the proxies in front append N addresses to X-Forwarded-For;
the Nth from the right is the client, whatever a client put to the left of it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


def client_from(forwarded_for: str, hops: int) -> str | None:
    """The address the outermost trusted proxy saw, or None when the header is short
    (then the request did not come through all the proxies)."""
    addresses = [a.strip() for a in forwarded_for.split(",") if a.strip()]
    if hops <= 0 or len(addresses) < hops:
        return None
    return addresses[-hops]


class ForwardedMiddleware:
    def __init__(self, app: ASGIApp, hops: int) -> None:
        self.app = app
        self.hops = hops

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hops > 0 and scope["type"] == "http":
            headers = dict(scope.get("headers", []))
            client = client_from(headers.get(b"x-forwarded-for", b"").decode("latin-1"), self.hops)
            if client is not None:
                port = scope["client"][1] if scope.get("client") else 0
                scope = {**scope, "client": (client, port)}
            proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[-1]
            if proto.strip() in ("http", "https"):
                scope = {**scope, "scheme": proto.strip()}
        await self.app(scope, receive, send)
