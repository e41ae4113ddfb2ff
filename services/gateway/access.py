"""Who may do what: roles, the access a request needs, and the Origin check. Pure functions.

Every person holds one role; an API key holds scopes, and acts with the scopes it holds
*and* its owner's role still grants (demoting a person narrows their keys at once).

| role     | scopes                    | beyond scopes                                   |
|----------|---------------------------|-------------------------------------------------|
| admin    | ingest, read, campaigns   | users and roles, anyone's keys, DLQ replay,     |
|          |                           | erasure and suppressions, the audit log         |
| marketer | ingest, read, campaigns   | own API keys                                    |
| viewer   | read                      | own (read-only) API keys                        |

A request under /api needs one of:
- public: nobody needs to sign in (the vendor's receipt webhook, signed by the vendor);
- session: a signed-in person of any role (their own API keys);
- admin: a signed-in admin (never an API key);
- scopes: a person whose role grants them, or an API key holding all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Scope = Literal["ingest", "read", "campaigns"]
Role = Literal["admin", "marketer", "viewer"]
ALL_SCOPES: tuple[Scope, ...] = ("ingest", "read", "campaigns")
ROLES: tuple[Role, ...] = ("admin", "marketer", "viewer")
DEFAULT_ROLE: Role = "viewer"
ROLE_SCOPES: dict[str, tuple[Scope, ...]] = {
    "admin": ALL_SCOPES,
    "marketer": ALL_SCOPES,
    "viewer": ("read",),
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
INGEST_PREFIXES = ("/api/customers", "/api/orders", "/api/imports")
CAMPAIGN_PREFIXES = (
    "/api/campaigns",
    "/api/segments",
    "/api/ai",
    "/api/journeys",
    "/api/settings/delivery",
)
# Writes that only read data (an audience preview) need only the read scope.
READ_ONLY_POSTS = ("/api/customers/preview",)
# AI answers that list customers: the campaigns scope alone must not read customer data.
CUSTOMER_DATA_POSTS = ("/api/ai/lookalike-audience",)
PUBLIC_ROUTES = (("POST", "/api/deliveries/receipts"),)
# Admin only, whatever the method (the suppression list, the audit log, users).
ADMIN_PREFIXES = ("/api/users", "/api/audit", "/api/suppressions")
ADMIN_WRITE_PATTERNS = (
    ("/api/admin/streams/", "/dlq/replay"),
    ("/api/customers/", "/erase"),
)
# Admin only, reads included: a person's whole record (GDPR export).
ADMIN_READ_PATTERNS = (("/api/customers/", "/export"), ("/api/customers/", "/export-record"))


@dataclass(frozen=True)
class Need:
    kind: Literal["public", "session", "admin", "scopes"]
    scopes: tuple[Scope, ...] = ()

    def describe(self) -> str:
        return "+".join(self.scopes) if self.kind == "scopes" else self.kind


PUBLIC = Need("public")
SESSION = Need("session")
ADMIN = Need("admin")


def scopes_need(*scopes: Scope) -> Need:
    return Need("scopes", scopes)


def role_of(value: object) -> Role:
    """A stored role, or the default for a user stored before roles existed."""
    for role in ROLES:
        if value == role:
            return role
    return DEFAULT_ROLE


@dataclass(frozen=True)
class Identity:
    user_id: str
    email: str
    role: Role = DEFAULT_ROLE
    key_scopes: tuple[str, ...] | None = None  # None: a session, which acts with its role
    via: Literal["session", "key"] = "session"
    key_id: str | None = None
    name: str | None = None

    @property
    def scopes(self) -> tuple[str, ...]:
        granted = ROLE_SCOPES[self.role]
        if self.key_scopes is None:
            return granted
        return tuple(s for s in self.key_scopes if s in granted)

    @property
    def is_admin(self) -> bool:
        return self.via == "session" and self.role == "admin"

    @property
    def rate_key(self) -> str:
        return f"key:{self.key_id}" if self.key_id else f"user:{self.user_id}"


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def required_access(method: str, path: str) -> Need:
    """The access a request under /api needs."""
    method = method.upper()
    path = path.rstrip("/") or "/"
    if (method, path) in PUBLIC_ROUTES:
        return PUBLIC
    if _under(path, ("/api/keys",)):
        return SESSION
    if _under(path, ADMIN_PREFIXES):
        return ADMIN
    if method not in SAFE_METHODS and any(
        path.startswith(head) and path.endswith(tail) for head, tail in ADMIN_WRITE_PATTERNS
    ):
        return ADMIN
    if any(path.startswith(head) and path.endswith(tail) for head, tail in ADMIN_READ_PATTERNS):
        return ADMIN
    if method in SAFE_METHODS or path in READ_ONLY_POSTS:
        return scopes_need("read")
    if path in CUSTOMER_DATA_POSTS:
        return scopes_need("campaigns", "read")
    if _under(path, INGEST_PREFIXES):
        return scopes_need("ingest")
    if _under(path, CAMPAIGN_PREFIXES):
        return scopes_need("campaigns")
    return ADMIN  # an unmapped write: only an admin, until someone maps it


def is_ingestion(method: str, path: str) -> bool:
    """The hot path the ingest rate limit protects."""
    return method.upper() == "POST" and _under(path.rstrip("/"), INGEST_PREFIXES)


def allows(identity: Identity, need: Need) -> bool:
    if need.kind == "public":
        return True
    if need.kind == "session":
        return identity.via == "session"
    if need.kind == "admin":
        return identity.is_admin
    granted = identity.scopes
    return all(scope in granted for scope in need.scopes)


def scopes_allowed_for(role: Role) -> tuple[Scope, ...]:
    """The scopes a person of this role may put on an API key."""
    return ROLE_SCOPES[role]


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
