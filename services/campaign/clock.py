"""The service's clock, at the millisecond precision the database keeps (so a value
read back equals the value written)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_ms(value: datetime) -> int:
    """Campaign times are stored as epoch milliseconds: the embedded database turns a
    datetime written by an update operator into a string, an integer survives anywhere."""
    return int(value.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def maybe_from_ms(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)
