"""Quiet hours and the frequency cap, enforced by the send worker for every message
(real Redis, the real DB and a vendor simulator process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.common.events import MessagesDeferred, Recipient
from services.delivery.pacing import DeliveryPolicy, QuietHoursIn, release_due
from tests.delivery.conftest import (
    chunk,
    publish,
    read_stream,
    recipients,
    rows,
    send_and_record,
    vendor_stats,
)

pytestmark = pytest.mark.integration


def quiet_now_in(zone_name: str) -> QuietHoursIn:
    """Quiet hours that hold right now in ``zone_name``, ending in about a minute...
    an hour; the start is an hour ago."""
    from zoneinfo import ZoneInfo

    local = datetime.now(UTC).astimezone(ZoneInfo(zone_name))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=2)).strftime("%H:%M")
    return QuietHoursIn(start=start, end=end)


def test_quiet_hours_defer_to_the_end_in_the_recipients_zone(deps: Any, vendor: Any) -> None:
    assert deps.pacing is not None
    deps.pacing.policies.save(DeliveryPolicy(quiet_hours=quiet_now_in("Asia/Tokyo")))
    tokyo = Recipient(customer_id="tokyo", name="Ken", phone="+15550000002", timezone="Asia/Tokyo")
    people = [*recipients(2), tokyo]  # the others are in UTC, outside Tokyo's quiet hours
    publish(deps, [chunk("q1", people)])
    send_and_record(deps)
    assert set(rows(deps, "q1")) == {"q1:cu0", "q1:cu1"}  # deferred: no row, not dropped
    [deferred] = list(deps.pacing.policies.db["deferred_messages"].find())
    assert deferred["_id"] == "q1:tokyo"
    release = datetime.fromtimestamp(deferred["release_ms"] / 1000, UTC)
    assert timedelta(hours=1) < release - datetime.now(UTC) <= timedelta(hours=2)
    # announced, so the campaign waits for it instead of timing it out
    [announced] = [e for e in read_stream(deps, "receipt") if isinstance(e, MessagesDeferred)]
    assert (announced.campaign_id, announced.customer_ids) == ("q1", ["tokyo"])
    assert int(announced.until.timestamp() * 1000) == deferred["release_ms"]
    assert release_due(deps) == 0  # not before the end
    deps.pacing.policies.db["deferred_messages"].update_one({}, {"$set": {"release_ms": 0}})
    deps.pacing.policies.save(DeliveryPolicy())  # the window is over
    assert release_due(deps) == 1
    send_and_record(deps)
    assert rows(deps, "q1")["q1:tokyo"]["status"] == "sent"
    assert vendor_stats(vendor)["accepted"] == 3


def test_frequency_cap_spans_campaigns_and_journeys_per_channel(deps: Any, vendor: Any) -> None:
    assert deps.pacing is not None
    deps.pacing.policies.save(
        DeliveryPolicy.model_validate({"frequencyCap": {"messages": 1, "perDays": 7}})
    )
    people = recipients(2)
    publish(deps, [chunk("camp", people, channel="sms")])
    publish(deps, [chunk("jrn_x.s.1", people, channel="sms")])
    publish(deps, [chunk("camp2", people, channel="email")])  # another channel: its own cap
    publish(deps, [chunk("camp", people, channel="sms")])  # the same messages again
    send_and_record(deps)
    assert {r["status"] for r in rows(deps, "camp").values()} == {"sent"}
    capped = rows(deps, "jrn_x.s.1")
    assert {r["status"] for r in capped.values()} == {"capped"}
    assert {r["status"] for r in rows(deps, "camp2").values()} == {"sent"}
    assert vendor_stats(vendor)["accepted"] == 4
