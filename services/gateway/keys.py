"""API keys: made random, shown once, kept only as a hash. Pure functions."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "mcrm_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    # The key has 256 random bits, so a plain digest is safe against guessing and lets
    # the gateway find the key by an indexed lookup on every request.
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """Enough of the key to recognise it in a list, far too little to use it."""
    return key[: len(KEY_PREFIX) + 6]


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and 20 < len(value) < 200
