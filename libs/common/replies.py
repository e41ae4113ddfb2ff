"""Redis replies as text: the client returns bytes unless built with decode_responses."""

from __future__ import annotations

from typing import Any


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def text_or_none(value: bytes | str | None) -> str | None:
    return None if value is None else text(value)
