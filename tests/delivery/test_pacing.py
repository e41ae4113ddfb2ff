"""Quiet hours and the frequency cap, enforced by the send worker for every message
(real Redis, the real DB and a vendor simulator process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.common.events import Experiment, LocalSend, MessagesDeferred, Recipient, VariantSpec
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


def test_a_local_send_time_defers_each_recipient_to_their_own_clock(deps: Any, vendor: Any) -> None:
    """A local send time ("at HH:MM in each customer's zone"): a recipient whose clock
    reaches it later waits in delivery (with the campaign's variants), one whose moment
    came since the launch goes now; released, it is sent once, with its own variant."""
    assert deps.pacing is not None
    now = datetime.now(UTC)
    at = (now + timedelta(hours=2)).strftime("%H:%M")  # in UTC: about two hours away
    # launched 4 h ago: Kolkata (UTC+5:30) read `at` 3.5 h ago, UTC reads it in 2 h
    after = now - timedelta(hours=4)
    utc_person = Recipient(customer_id="utc2", name="Ann", phone="+15550000001")
    kolkata_person = Recipient(
        customer_id="kol", name="Raj", phone="+15550000002", timezone="Asia/Kolkata"
    )
    setup = Experiment(
        variants=[
            VariantSpec(id="A", message="A {firstName}", share_bp=5000),
            VariantSpec(id="B", message="B {firstName}", share_bp=5000),
        ],
        holdout_bp=0,
    )
    event = chunk(
        "loc",
        [utc_person, kolkata_person],
        local_send=LocalSend(at=at, after=after),
        experiment=setup,
        message="A {firstName}",
    )
    publish(deps, [event])
    send_and_record(deps)
    assert set(rows(deps, "loc")) == {"loc:kol"}  # its moment came since the launch
    [waiting] = list(deps.pacing.policies.db["deferred_messages"].find())
    assert waiting["_id"] == "loc:utc2" and waiting["experiment"]["variants"][1]["id"] == "B"
    release = datetime.fromtimestamp(waiting["release_ms"] / 1000, UTC)
    assert timedelta(hours=1) < release - now <= timedelta(hours=2)
    [announced] = [e for e in read_stream(deps, "receipt") if isinstance(e, MessagesDeferred)]
    assert announced.customer_ids == ["utc2"]
    deps.pacing.policies.db["deferred_messages"].update_one({}, {"$set": {"release_ms": 0}})
    assert release_due(deps) == 1
    [released] = [e for e in read_stream(deps, "send") if e.campaign_id == "loc"][1:]
    assert released.experiment == setup and released.local_send is None
    send_and_record(deps)
    sent = rows(deps, "loc")
    assert sent["loc:utc2"]["status"] == "sent"
    assert setup.assign("loc", "utc2").group == "B"
    assert sent["loc:utc2"]["body"] == "B Ann"  # its variant, not the control's message
    assert vendor_stats(vendor)["accepted"] == 2
