"""Who may do what: the scope a request needs, and the Origin check. Pure functions.

A request is answered for one of three kinds of caller:
- public: nobody needs to sign in (the vendor's receipt webhook, signed by the vendor);
- session: only a signed-in person (managing API keys, replaying dead letters);
- a scope: a signed-in person (who holds every scope) or an API key holding that scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Scope = Literal["ingest", "read", "campaigns"]
ALL_SCOPES: tuple[Scope, ...] = ("ingest", "read", "campaigns")
Access = Literal["public", "session", "ingest", "read", "campaigns"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
INGEST_PREFIXES = ("/api/customers", "/api/orders", "/api/imports")
CAMPAIGN_PREFIXES = ("/api/campaigns", "/api/segments", "/api/ai")
# Writes that only read data (an audience preview) need only the read scope.
READ_ONLY_POSTS = ("/api/customers/preview",)
PUBLIC_ROUTES = (("POST", "/api/deliveries/receipts"),)


@dataclass(frozen=True)
class Identity:
    user_id: str
    email: str
    scopes: tuple[str, ...] = ALL_SCOPES
    via: Literal["session", "key"] = "session"
    key_id: str | None = None
    name: str | None = None

    @property
    def rate_key(self) -> str:
        return f"key:{self.key_id}" if self.key_id else f"user:{self.user_id}"


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def required_access(method: str, path: str) -> Access:
    """The access a request under /api needs."""
    method = method.upper()
    path = path.rstrip("/") or "/"
    if (method, path) in PUBLIC_ROUTES:
        return "public"
    if _under(path, ("/api/keys",)):
        return "session"
    if method in SAFE_METHODS:
        return "read"
    if path in READ_ONLY_POSTS:
        return "read"
    if _under(path, INGEST_PREFIXES):
        return "ingest"
    if _under(path, CAMPAIGN_PREFIXES):
        return "campaigns"
    return "session"


def is_ingestion(method: str, path: str) -> bool:
    """The hot path the ingest rate limit protects."""
    return method.upper() == "POST" and _under(path.rstrip("/"), INGEST_PREFIXES)


def allows(identity: Identity, access: Access) -> bool:
    if access == "public":
        return True
    if access == "session":
        return identity.via == "session"
    return access in identity.scopes


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_allowed(
    origin: str | None, referer: str | None, own_origins: set[str], allowed: set[str]
) -> bool:
    """A cookie-carrying state-changing request must come from a page we serve (or an
    allowlisted origin): the CSRF defence on top of SameSite=Lax."""
    candidate = origin if origin and origin != "null" else None
    if candidate is None and referer:
        candidate = origin_of(referer)
    if candidate is None:
        return False
    candidate = candidate.rstrip("/").lower()
    return candidate in own_origins or candidate in {o.lower() for o in allowed}


def email_allowed(email: str, domains: list[str], emails: list[str]) -> bool:
    email = email.lower()
    if emails and email in {e.lower() for e in emails}:
        return True
    if domains:
        domain = email.rpartition("@")[2]
        return domain in {d.lower().lstrip("@") for d in domains}
    return not emails
