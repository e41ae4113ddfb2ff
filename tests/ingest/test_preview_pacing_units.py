"""Pure logic of the preview's pacing counts: who delivery would defer for quiet hours
or skip as capped at a send time (services.ingest.audience.pacing), and delivery's
announcements of it (services.delivery.pacing_news)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from libs.common.clock import epoch_ms
from libs.common.sendwindow import FrequencyCap, QuietHours
from services.delivery.pacing import DeliveryPolicy
from services.delivery.pacing_news import caps_reached, policy_changed
from services.ingest.audience.columns import Columns
from services.ingest.audience.pacing import PacingCounts, column_counts, quiet_rows
from services.ingest.pacing_store import PacingPolicy

pytestmark = pytest.mark.unit
# 20:00 UTC: 05:00 next day in Tokyo, 15:00 in New York
AT = datetime(2025, 1, 1, 20, 0, tzinfo=UTC)
NIGHT = QuietHours.parse("00:00", "06:00")


def people() -> Columns:
    columns = Columns()
    columns.upsert(
        [
            {"_id": "tokyo", "timezone": "Asia/Tokyo", "contactable": True},
            {"_id": "tokyo2", "timezone": "Asia/Tokyo", "contactable": True},
            {"_id": "ny", "timezone": "America/New_York", "contactable": True},
            {"_id": "none", "contactable": True},
            {"_id": "mars", "timezone": "Mars/Base", "contactable": True},
        ]
    )
    return columns


def rows_of(columns: Columns, mask: np.ndarray) -> set[str]:
    return {columns.ids[int(r)] for r in np.flatnonzero(mask)}


def test_quiet_hours_are_read_on_each_customers_clock_else_the_workspaces() -> None:
    columns = people()
    assert rows_of(columns, quiet_rows(columns, NIGHT, "UTC", AT)) == {"tokyo", "tokyo2"}
    # no zone, or an unknown one: the workspace's clock, here Tokyo's too
    assert rows_of(columns, quiet_rows(columns, NIGHT, "Asia/Tokyo", AT)) == {
        "tokyo",
        "tokyo2",
        "none",
        "mars",
    }
    # an hour later Tokyo reads 06:00: the window has ended (it is [start, end))
    assert not quiet_rows(columns, NIGHT, "UTC", AT + timedelta(hours=1)).any()


def test_counts_defer_first_then_cap_only_the_others_of_the_audience() -> None:
    columns = people()
    until = epoch_ms(AT + timedelta(days=1))
    columns.apply_caps("email", [("tokyo", until), ("ny", until), ("none", epoch_ms(AT) - 1)])
    columns.apply_caps("sms", [("mars", until)])
    policy = PacingPolicy(NIGHT, FrequencyCap(1, 1), "UTC")
    everyone = np.ones(columns.n, dtype=bool)
    # tokyo: quiet (deferred, not also capped); ny: capped; none: its cap ended
    assert column_counts(columns, everyone, policy, "email", AT) == PacingCounts(2, 1)
    assert column_counts(columns, everyone, policy, "sms", AT) == PacingCounts(2, 1)
    # only members count
    only_ny = np.array([columns.ids[r] == "ny" for r in range(columns.n)])
    assert column_counts(columns, only_ny, policy, "email", AT) == PacingCounts(0, 1)
    # a later send time: Tokyo is awake, the caps have freed
    later = AT + timedelta(days=2, hours=2)
    assert column_counts(columns, everyone, policy, "email", later) == PacingCounts(0, 0)


def test_no_policy_or_no_rule_counts_nothing_for_it() -> None:
    columns = people()
    columns.apply_caps("email", [("ny", epoch_ms(AT) + 1000)])
    everyone = np.ones(columns.n, dtype=bool)
    assert column_counts(columns, everyone, None, "email", AT) == PacingCounts(0, 0)
    no_cap = PacingPolicy(NIGHT, None, "UTC")
    assert column_counts(columns, everyone, no_cap, "email", AT) == PacingCounts(2, 0)
    no_quiet = PacingPolicy(None, FrequencyCap(1, 1), "UTC")
    assert column_counts(columns, everyone, no_quiet, "email", AT) == PacingCounts(0, 1)


def test_a_later_cap_wins_and_unknown_customers_are_skipped() -> None:
    columns = people()
    row = columns.ids.find("ny")
    assert row is not None
    assert columns.apply_caps("email", [("ny", 2000), ("ghost", 5000)]) == 1
    columns.apply_caps("email", [("ny", 1000)])  # a late, older announcement
    assert columns.capped["email"].data[row] == 2000
    assert columns.apply_caps("push", [("ny", 9000)]) == 0  # no such channel
    columns.upsert([{"_id": f"new{i}"} for i in range(2000)])  # the columns grow
    assert columns.capped["email"].data[row] == 2000
    assert columns.capped["email"].data[columns.n - 1] == 0


def test_delivery_announces_one_event_per_channel_and_the_resolved_policy() -> None:
    events = caps_reached({"sms": [("a", 1000)], "email": [("b", 2000), ("c", 3000)], "x": []})
    assert [(e.channel, [c.customer_id for c in e.customers]) for e in events] == [
        ("email", ["b", "c"]),
        ("sms", ["a"]),
    ]
    assert epoch_ms(events[0].customers[1].until) == 3000
    policy = DeliveryPolicy.model_validate(
        {
            "quietHours": {"start": "21:00", "end": "08:00"},
            "frequencyCap": {"messages": 2, "perDays": 7},
        }
    )
    announced = policy_changed(policy, "Europe/Paris", AT)
    assert announced.timezone == "Europe/Paris"  # the workspace zone, resolved
    assert announced.quiet_hours is not None and announced.quiet_hours.start == "21:00"
    assert announced.frequency_cap is not None and announced.frequency_cap.per_days == 7
    kept = PacingPolicy.from_doc(announced.model_dump(mode="json"))
    assert kept == PacingPolicy(
        QuietHours.parse("21:00", "08:00"), FrequencyCap(2, 7), "Europe/Paris"
    )
    assert PacingPolicy.from_doc({"timezone": "UTC"}) == PacingPolicy(None, None, "UTC")
