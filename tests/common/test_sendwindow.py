"""Quiet hours, local times of day and frequency caps, across zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from libs.common.sendwindow import FrequencyCap, QuietHours, next_local_time, zone

pytestmark = pytest.mark.unit

KOLKATA = zone("Asia/Kolkata")
NEW_YORK = zone("America/New_York")
NIGHT = QuietHours.parse("21:00", "08:00")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_unknown_zone_falls_back_to_the_workspace_zone() -> None:
    assert zone("Mars/Olympus", "Asia/Kolkata") is KOLKATA
    assert zone(None, "Nowhere") is UTC


def test_a_message_due_at_night_is_deferred_to_the_morning_in_its_zone() -> None:
    due = utc(2026, 12, 3, 17, 0)  # 22:30 in Kolkata
    assert NIGHT.contains(due, KOLKATA)
    assert NIGHT.release(due, KOLKATA) == utc(2026, 12, 4, 2, 30)  # 08:00 IST


def test_the_same_moment_is_daytime_elsewhere_and_leaves_at_once() -> None:
    due = utc(2026, 12, 3, 17, 0)  # 12:00 in New York
    assert not NIGHT.contains(due, NEW_YORK)
    assert NIGHT.release(due, NEW_YORK) == due


def test_after_midnight_inside_the_window_releases_the_same_morning() -> None:
    due = utc(2026, 12, 3, 20, 0)  # 01:30 IST on the 4th
    assert NIGHT.release(due, KOLKATA) == utc(2026, 12, 4, 2, 30)


def test_a_daytime_window_does_not_wrap() -> None:
    lunch = QuietHours.parse("12:00", "13:00")
    assert lunch.contains(utc(2026, 12, 3, 12, 30), UTC)
    assert not lunch.contains(utc(2026, 12, 3, 13, 0), UTC)
    assert lunch.release(utc(2026, 12, 3, 12, 30), UTC) == utc(2026, 12, 3, 13, 0)


def test_empty_quiet_hours_are_refused() -> None:
    with pytest.raises(ValueError):
        QuietHours.parse("08:00", "08:00")


def test_next_local_time_today_or_tomorrow() -> None:
    at = time(20, 0)
    assert next_local_time(utc(2026, 12, 3, 10, 0), at, KOLKATA) == utc(2026, 12, 3, 14, 30)
    assert next_local_time(utc(2026, 12, 3, 15, 0), at, KOLKATA) == utc(2026, 12, 4, 14, 30)
    exact = utc(2026, 12, 3, 14, 30)
    assert next_local_time(exact, at, KOLKATA) == exact


def test_a_wall_time_skipped_by_daylight_saving_moves_on_by_the_gap() -> None:
    # 2026-03-08: New York clocks jump from 02:00 to 03:00.
    moment = next_local_time(utc(2026, 3, 8, 5, 0), time(2, 30), NEW_YORK)
    assert moment == utc(2026, 3, 8, 7, 30)  # 03:30 EDT
    assert moment.astimezone(NEW_YORK).hour == 3


def test_a_wall_time_repeated_by_daylight_saving_means_the_first() -> None:
    # 2026-11-01: New York clocks fall back from 02:00 to 01:00.
    moment = next_local_time(utc(2026, 11, 1, 4, 0), time(1, 30), NEW_YORK)
    assert moment == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, not 01:30 EST


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        NIGHT.contains(datetime(2026, 12, 3, 12, 0), KOLKATA)


def test_a_frequency_cap_counts_a_rolling_window() -> None:
    cap = FrequencyCap(messages=2, per_days=7)
    now = utc(2026, 12, 10, 12, 0)
    assert cap.allows([], now)
    assert cap.allows([now - timedelta(days=1)], now)
    assert not cap.allows([now - timedelta(days=1), now - timedelta(days=6)], now)
    assert cap.allows([now - timedelta(days=1), now - timedelta(days=7)], now)


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        FrequencyCap(messages=0, per_days=7)
