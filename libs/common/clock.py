"""The one clock, and dates as epoch milliseconds the way BSON stores them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def now_utc() -> datetime:
    return datetime.now(UTC)


def epoch_ms(value: datetime) -> int:
    """Epoch milliseconds, floored exactly as BSON stores a datetime (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MS


def from_ms(value: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds."""
    return _EPOCH + value * _MS


def maybe_from_ms(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)
