"""Verifying the vendor's webhook signature: HMAC-SHA256 over ``"<timestamp>." + body``,
``X-Vendor-Timestamp: <unix seconds>``, ``X-Vendor-Signature: sha256=<hex>``, compared
in constant time. A timestamp more than ``max_age_s`` away from now is refused (old
callbacks, and replays of them once their nonce has expired)."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Vendor-Signature"
TIMESTAMP_HEADER = "X-Vendor-Timestamp"


def expected_signature(secret: str, body: bytes, timestamp: int | str) -> str:
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None, timestamp: str | None) -> bool:
    if not header or not timestamp:
        return False
    return hmac.compare_digest(header.strip(), expected_signature(secret, body, timestamp.strip()))


def timestamp_fresh(timestamp: str | None, now: float, max_age_s: float) -> bool:
    try:
        sent = int((timestamp or "").strip())
    except ValueError:
        return False
    return abs(now - sent) <= max_age_s
