"""Addresses as the suppression list compares them: normalised, and hashed.

An email is compared lower-cased and trimmed; a phone number by its digits (with a
leading ``+`` kept), so "+91 98765 43210" and "+919876543210" are one number. The hash
(SHA-256 of ``channel:address``) is what delivery's copy of the list holds and what an
erased person's suppression keeps: enough to recognise the address again, not to read it.
"""

from __future__ import annotations

import hashlib
import re

CHANNELS = ("email", "sms")
CONSENT_STATES = ("subscribed", "unsubscribed", "unknown")
_NOT_DIGIT = re.compile(r"[^0-9]")


def normalise(channel: str, address: str) -> str:
    address = address.strip()
    if channel == "email":
        return address.lower()
    digits = _NOT_DIGIT.sub("", address)
    return f"+{digits}" if address.startswith("+") else digits


def address_hash(channel: str, address: str) -> str:
    return hashlib.sha256(f"{channel}:{normalise(channel, address)}".encode()).hexdigest()


def unsubscribe_keys(spec: str) -> list[str]:
    """``UNSUBSCRIBE_KEYS``: comma-separated, oldest first; the last one signs."""
    return [k.strip() for k in spec.split(",") if k.strip()]
