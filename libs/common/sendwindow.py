"""When a message may leave: quiet hours, a local time of day, a frequency cap. Pure.

Times are aware datetimes; a customer's clock is their IANA ``timezone`` (the workspace
zone when they have none or an unknown one). Local times are resolved with zoneinfo,
so daylight-saving changes are honoured (PEP 495): a local time skipped on a spring-
forward day moves on by the length of the gap (02:30 becomes 03:30), and one that
occurs twice on a fall-back day means its first occurrence.

- Quiet hours ``[start, end)`` in local time; a window whose end is not after its
  start runs over midnight (22:00-08:00). A message due inside the window is deferred
  to its end, never dropped.
- ``next_local_time``: the first instant at or after ``after`` whose local clock reads
  the given time of day ("wait until 09:00", "send at 20:00 in each customer's zone").
- A frequency cap allows ``messages`` per customer and channel in any rolling window
  of ``per_days`` days; a message over the cap is skipped with the status ``capped``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=1024)
def zone(name: str | None, fallback: str = "UTC") -> tzinfo:
    """The customer's zone, or the workspace's when theirs is missing or unknown."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return UTC


def _check_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("times must carry a time zone")


def local_instant(day: datetime, at: time, tz: tzinfo) -> datetime:
    """The instant when the clock in ``tz`` reads ``at`` on ``day``'s local date."""
    naive = datetime.combine(day.astimezone(tz).date(), at)
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def next_local_time(after: datetime, at: time, tz: tzinfo) -> datetime:
    """The first instant at or after ``after`` whose local time of day is ``at``."""
    _check_aware(after)
    for days in range(3):
        day = after.astimezone(tz) + timedelta(days=days)
        moment = local_instant(day, at, tz)
        if moment >= after:
            return moment
    raise AssertionError("a local time of day recurs within three days")


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours must not start and end at the same time")

    def contains(self, moment: datetime, tz: tzinfo) -> bool:
        _check_aware(moment)
        clock = moment.astimezone(tz).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def release(self, due: datetime, tz: tzinfo) -> datetime:
        """``due`` itself outside quiet hours, else the end of the window it falls in."""
        if not self.contains(due, tz):
            return due
        return next_local_time(due, self.end, tz)

    @classmethod
    def parse(cls, start: str, end: str) -> QuietHours:
        """From ``HH:MM`` strings, as settings and requests carry them."""
        return cls(time.fromisoformat(start), time.fromisoformat(end))


@dataclass(frozen=True)
class FrequencyCap:
    messages: int
    per_days: int

    def __post_init__(self) -> None:
        if self.messages < 1 or self.per_days < 1:
            raise ValueError("a frequency cap needs at least 1 message per at least 1 day")

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.per_days)

    def allows(self, sent_at: Iterable[datetime], moment: datetime) -> bool:
        """Whether one more message at ``moment`` stays within the cap."""
        _check_aware(moment)
        since = moment - self.window
        recent = sum(1 for sent in sent_at if since < sent <= moment)
        return recent < self.messages
