"""Delivery tells the audience preview about its pacing on stream ``pacing``: the
policy when it is saved, and per admitted chunk who is now at their frequency cap and
until when (real Redis, the real DB and a vendor simulator process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.common.clock import epoch_ms
from libs.common.events import CapsReached, DeliveryPolicyChanged, decode
from libs.common.streams import PACING
from services.delivery.app import create_app
from services.delivery.pacing import DeliveryPolicy
from services.delivery.settings import DeliverySettings
from tests.delivery.conftest import (
    WEBHOOK_SECRET,
    chunk,
    publish,
    read_stream,
    recipients,
    rows,
    send_and_record,
)

pytestmark = pytest.mark.integration


def caps(deps: Any) -> list[CapsReached]:
    return [e for e in read_stream(deps, PACING) if isinstance(e, CapsReached)]


def test_a_chunk_that_brings_customers_to_their_cap_announces_them_once(
    deps: Any, vendor: Any
) -> None:
    assert deps.pacing is not None
    cap = {"frequencyCap": {"messages": 2, "perDays": 7}}
    deps.pacing.policies.save(DeliveryPolicy.model_validate(cap))
    first_sent = datetime.now(UTC)
    publish(deps, [chunk("one", recipients(3), channel="email")])
    send_and_record(deps)
    assert caps(deps) == []  # one message of two: nobody at the cap yet
    publish(deps, [chunk("two", recipients(2), channel="email")])  # cu0, cu1 reach 2
    send_and_record(deps)
    [reached] = caps(deps)
    assert reached.channel == "email"
    assert [c.customer_id for c in reached.customers] == ["cu0", "cu1"]
    for person in reached.customers:  # when the first message leaves the 7-day window
        freed = person.until - timedelta(days=7)
        assert first_sent - timedelta(seconds=1) <= freed <= datetime.now(UTC)
    # capped: announced again (same moment), one event for the chunk, not per message
    publish(deps, [chunk("three", recipients(3), channel="email")])
    send_and_record(deps)
    assert {r["status"] for r in rows(deps, "three").values()} == {"sent", "capped"}
    last = caps(deps)[-1]
    assert len(caps(deps)) == 2
    assert [c.customer_id for c in last.customers] == ["cu0", "cu1", "cu2"]
    by_id = {c.customer_id: epoch_ms(c.until) for c in last.customers}
    assert by_id["cu0"] == epoch_ms(reached.customers[0].until)
    # another channel has a cap of its own
    publish(deps, [chunk("four", recipients(1), channel="sms")])
    send_and_record(deps)
    assert len(caps(deps)) == 2


def test_saving_the_policy_announces_it_with_the_workspace_zone(clean_env: Any) -> None:
    settings = DeliverySettings(
        VENDOR_WEBHOOK_SECRET=WEBHOOK_SECRET, workspace_timezone="Asia/Tokyo"
    )
    body = {
        "quietHours": {"start": "21:00", "end": "08:00"},
        "frequencyCap": {"messages": 1, "perDays": 2},
    }
    with TestClient(create_app(settings)) as client:
        headers = {"X-Internal-Token": clean_env.internal_token}
        assert client.put("/api/settings/delivery", json=body, headers=headers).status_code == 200
        assert client.put("/api/settings/delivery", json={}, headers=headers).status_code == 200
    events = [decode(i.decode(), f) for i, f in clean_env.redis.xrange(PACING)]
    assert all(isinstance(e, DeliveryPolicyChanged) for e in events)
    first, cleared = events
    assert isinstance(first, DeliveryPolicyChanged) and isinstance(cleared, DeliveryPolicyChanged)
    assert first.timezone == "Asia/Tokyo"
    assert first.quiet_hours is not None and first.quiet_hours.end == "08:00"
    assert first.frequency_cap is not None and first.frequency_cap.messages == 1
    assert cleared.quiet_hours is None and cleared.frequency_cap is None
    assert cleared.changed_at >= first.changed_at


def test_an_api_process_announces_the_saved_policy_as_of_when_it_was_saved(
    clean_env: Any,
) -> None:
    settings = DeliverySettings(VENDOR_WEBHOOK_SECRET=WEBHOOK_SECRET, workspace_timezone="UTC")
    with TestClient(create_app(settings)):
        pass
    assert clean_env.redis.xlen(PACING) == 0  # nothing saved, nothing to announce
    # saved before policies were announced: no time of saving kept
    clean_env.db("delivery")["delivery_settings"].insert_one(
        {"_id": "delivery", "quietHours": {"start": "22:00", "end": "07:00"}}
    )
    with TestClient(create_app(settings)):
        pass
    [old] = [decode(i.decode(), f) for i, f in clean_env.redis.xrange(PACING)]
    assert isinstance(old, DeliveryPolicyChanged)
    assert old.quiet_hours is not None and old.quiet_hours.start == "22:00"
    assert epoch_ms(old.changed_at) == 0  # older than any policy ingest already keeps

    body = {"frequencyCap": {"messages": 3, "perDays": 7}}
    with TestClient(create_app(settings)) as client:
        headers = {"X-Internal-Token": clean_env.internal_token}
        assert client.put("/api/settings/delivery", json=body, headers=headers).status_code == 200
    with TestClient(create_app(settings)):
        pass
    events = [decode(i.decode(), f) for i, f in clean_env.redis.xrange(PACING)]
    put, restarted = events[-2:]
    assert isinstance(put, DeliveryPolicyChanged) and isinstance(restarted, DeliveryPolicyChanged)
    assert restarted.model_dump() == put.model_dump()  # the same policy, the same moment
    assert restarted.frequency_cap is not None and restarted.frequency_cap.per_days == 7
