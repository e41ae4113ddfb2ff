"""The audit log: who did what, to what, when, and how it ended.

The gateway writes one entry for every state-changing request it answers for a known
caller, so no other service takes part: the action comes from the route table below,
the target id from the path, the outcome from the status the caller got. Entries are
only ever inserted; no route updates or deletes them.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import HTTPConnection

from libs.common.erasure import anonymous_id
from libs.common.logging import current_trace_id, get_logger
from services.gateway.access import SAFE_METHODS, Identity
from services.gateway.store import GatewayStore

log = get_logger(__name__)

_ID = r"([^/]+)"
# Actions about one person: their audit entries name the person by an anonymous id.
PERSONAL_ACTIONS = frozenset({"customer.erased", "customer.exported"})
# (method, path pattern, action); the first group, if any, is the target id. First match
# wins. /api/suppressions and /api/customers/{id}/erase are mapped before they exist, so
# they are audited the day their service lands.
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("POST", rf"/api/customers/{_ID}/erase", "customer.erased"),
    ("POST", r"/api/customers/import", "import.started"),
    ("POST", r"/api/campaigns", "campaign.created"),
    ("POST", rf"/api/campaigns/{_ID}/launch", "campaign.launched"),
    ("POST", rf"/api/campaigns/{_ID}/pause", "campaign.paused"),
    ("POST", rf"/api/campaigns/{_ID}/resume", "campaign.resumed"),
    ("POST", rf"/api/campaigns/{_ID}/cancel", "campaign.cancelled"),
    ("POST", r"/api/segments", "segment.created"),
    ("PUT", rf"/api/segments/{_ID}", "segment.updated"),
    ("PATCH", rf"/api/segments/{_ID}", "segment.updated"),
    ("DELETE", rf"/api/segments/{_ID}", "segment.deleted"),
    ("POST", r"/api/suppressions(?:/batch)?", "suppression.added"),
    ("DELETE", rf"/api/suppressions/{_ID}", "suppression.removed"),
    ("POST", r"/api/keys", "key.created"),
    ("DELETE", rf"/api/keys/{_ID}", "key.revoked"),
    ("PATCH", rf"/api/users/{_ID}", "user.role_changed"),
    ("POST", r"/api/users/grants", "user.role_granted"),
    ("POST", rf"/api/admin/streams/{_ID}/dlq/replay", "dlq.replayed"),
)
_COMPILED = tuple((m, re.compile(f"^{p}/?$"), a) for m, p, a in ACTIONS)
# Writes that change nothing a person should answer for: an audience preview, AI
# suggestions, and the vendor's receipts (signed by the vendor, thousands a second).
# Record ingestion is data traffic from API keys (up to thousands of requests a
# second): one audit insert per request would double the gateway's database writes
# on the hot path. Imports, which a person starts, are audited.
NOT_AUDITED = (
    re.compile(r"^/api/customers/preview/?$"),
    re.compile(r"^/api/customers(?:/batch)?/?$"),
    re.compile(r"^/api/orders(?:/batch)?/?$"),
    re.compile(r"^/api/ai/"),
    re.compile(r"^/api/deliveries/receipts/?$"),
)


def action_for(method: str, path: str) -> tuple[str, str | None] | None:
    """(action, target id) of a request, or None when it changes nothing."""
    method = method.upper()
    if method in SAFE_METHODS or any(p.match(path) for p in NOT_AUDITED):
        return None
    for wanted, pattern, action in _COMPILED:
        if wanted == method and (match := pattern.match(path)):
            return action, (match.group(1) if match.groups() else None)
    return f"request.{method.lower()}", None  # an unmapped write is still recorded


def outcome_of(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "refused"
    if status < 500:
        return "rejected"
    return "failed"


def actor_of(identity: Identity | None, email: str | None = None) -> dict[str, Any]:
    if identity is None:
        return {"userId": None, "email": email, "role": None, "via": "anonymous"}
    actor: dict[str, Any] = {
        "userId": identity.user_id,
        "email": identity.email,
        "role": identity.role,
        "via": identity.via,
    }
    if identity.key_id:
        actor["keyId"] = identity.key_id
    return actor


class AuditLog:
    def __init__(self, store: GatewayStore) -> None:
        self.store = store

    async def record(
        self,
        conn: HTTPConnection,
        *,
        action: str,
        actor: dict[str, Any],
        status: int,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        now = time.time()
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(now, UTC),
            "atMs": int(now * 1000),
            "action": action,
            "actor": actor,
            "method": conn.scope.get("method", "GET"),
            "path": conn.url.path,
            "target": target,
            "status": status,
            "outcome": outcome_of(status),
            "ip": conn.client.host if conn.client else None,
            "traceId": current_trace_id(),
        }
        if details:
            entry["details"] = details
        if action in PERSONAL_ACTIONS and target:
            # the record of an erasure must not keep the person it erased
            entry["target"] = anonymous_id(target)
            entry["path"] = entry["path"].replace(target, entry["target"])
        try:
            await asyncio.to_thread(self.store.append_audit, entry)
        except Exception as exc:  # the action happened: say loudly that its record did not
            log.error("audit.write_failed", action=action, target=target, error=str(exc))
