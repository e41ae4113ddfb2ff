"""HMAC-SHA256 signature of a callback: ``X-Vendor-Timestamp: <unix seconds>`` and
``X-Vendor-Signature: sha256=<hex>`` over ``"<timestamp>." + body``. The timestamp is
signed so a receiver can refuse old and replayed callbacks; each attempt is signed
anew."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Vendor-Signature"
TIMESTAMP_HEADER = "X-Vendor-Timestamp"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
