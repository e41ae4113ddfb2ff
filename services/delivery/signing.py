"""Verifying the vendor's webhook signature: HMAC-SHA256 over the raw body,
``X-Vendor-Signature: sha256=<hex>``, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Vendor-Signature"


def expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(header.strip(), expected_signature(secret, body))
