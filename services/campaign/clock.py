"""The service's clock, at the millisecond precision the database keeps (so a value
read back equals the value written). Campaign times are stored as epoch milliseconds
(libs.common.clock): the embedded database turns a datetime written by an update
operator into a string, an integer survives anywhere."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.common.clock import epoch_ms as to_ms
from libs.common.clock import from_ms, maybe_from_ms

__all__ = ["from_ms", "maybe_from_ms", "to_ms", "utc_now"]


def utc_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
