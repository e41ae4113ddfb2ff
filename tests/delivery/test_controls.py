"""Group ``delivery`` on campaign_events: pause holds, resume sends, cancel cancels."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.common.events import (
    AudienceResolved,
    CampaignCancelled,
    CampaignCompleted,
    CampaignPaused,
    CampaignResumed,
    MessagesCancelled,
    MessagesSent,
)
from libs.common.streams.names import RECEIPT
from services.delivery.controls import sweep_held
from services.delivery.dispatch import set_state
from tests.delivery.conftest import (
    chunk,
    publish,
    read_stream,
    recipients,
    rows,
    run,
    send_and_record,
    vendor_stats,
)

pytestmark = pytest.mark.integration


def statuses(deps, campaign_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows(deps, campaign_id).values():
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def test_pause_holds_and_resume_sends_the_held_messages(deps, vendor) -> None:
    publish(deps, [CampaignPaused(campaign_id="p1")])
    run(deps, "control")
    publish(deps, [chunk("p1", recipients(150))])
    send_and_record(deps)
    assert statuses(deps, "p1") == {"held": 150}
    assert vendor_stats(vendor)["accepted"] == 0
    held = rows(deps, "p1")["p1:cu3"]
    assert held["body"] == "Hi Person3, you spent 103" and held["to"] == "p3@example.com"

    publish(deps, [CampaignResumed(campaign_id="p1")])
    run(deps, "control")
    assert statuses(deps, "p1") == {"sent": 150}
    assert vendor_stats(vendor)["accepted"] == 150
    sent = [e for e in read_stream(deps, RECEIPT) if isinstance(e, MessagesSent)]
    assert sum(len(e.messages) for e in sent) == 150

    publish(deps, [chunk("p1", recipients(10, start=500), number=1)])
    send_and_record(deps)
    assert statuses(deps, "p1") == {"sent": 160}


def test_cancel_cancels_held_messages_and_every_later_chunk(deps, vendor) -> None:
    publish(deps, [CampaignPaused(campaign_id="x1")])
    run(deps, "control")
    publish(deps, [chunk("x1", recipients(20))])
    send_and_record(deps)
    publish(deps, [CampaignCancelled(campaign_id="x1"), CampaignResumed(campaign_id="x1")])
    run(deps, "control")
    publish(deps, [chunk("x1", recipients(5, start=100), number=1)])
    send_and_record(deps)

    assert statuses(deps, "x1") == {"cancelled": 25}
    assert vendor_stats(vendor)["accepted"] == 0
    cancelled = [e for e in read_stream(deps, RECEIPT) if isinstance(e, MessagesCancelled)]
    assert sorted(c for e in cancelled for c in e.customer_ids) == sorted(
        [f"cu{i}" for i in range(20)] + [f"cu{i}" for i in range(100, 105)]
    )


def test_sweep_sends_rows_held_after_the_resume_was_handled(deps, vendor) -> None:
    publish(deps, [CampaignPaused(campaign_id="s1")])
    run(deps, "control")
    publish(deps, [chunk("s1", recipients(7))])
    send_and_record(deps)
    set_state(deps, "s1", "active", "resumed", rows(deps, "s1")["s1:cu0"]["created_at"])
    sweep_held(deps)
    assert statuses(deps, "s1") == {"sent": 7}


def test_other_campaign_events_are_acknowledged_without_effect(deps) -> None:
    publish(deps, [AudienceResolved(campaign_id="o1", total=5, resolved_at=datetime.now(UTC))])
    assert run(deps, "control") == 1
    assert int(deps.redis.xlen("campaign_events.dlq") or 0) == 0
    assert deps.store.get_controls(["o1"]) == {}


def test_the_sweeper_finds_every_campaign_with_held_rows_and_no_other(deps) -> None:
    now = datetime.now(UTC)
    rows_of = [("h1", "held"), ("h1", "held"), ("d1", "sent"), ("h2", "held"), ("h3", "held")]
    rows_of += [("h2", "delivered"), ("c1", "cancelled")]
    deps.store.insert_new(
        [
            {"_id": f"{cid}:{i}", "campaign_id": cid, "customer_id": str(i), "status": status}
            | {"created_at": now, "updated_at": now}
            for i, (cid, status) in enumerate(rows_of)
        ]
    )
    assert deps.store.campaigns_with_held() == ["h1", "h2", "h3"]


def pause_or_cancel_during_first_vendor_call(deps, event) -> None:
    """The person's control arrives while the chunk's first vendor batch is out."""
    real_send = deps.vendor.send
    calls = 0

    def send(key, messages, *, probe=False):
        nonlocal calls
        calls += 1
        if calls == 1:
            publish(deps, [event])
            run(deps, "control")
        return real_send(key, messages, probe=probe)

    deps.vendor.send = send


def test_a_pause_mid_chunk_holds_the_batches_not_yet_handed_to_the_vendor(deps, vendor) -> None:
    deps.settings.vendor_batch_size = 10
    pause_or_cancel_during_first_vendor_call(deps, CampaignPaused(campaign_id="m1"))
    publish(deps, [chunk("m1", recipients(50))])
    send_and_record(deps)
    assert statuses(deps, "m1") == {"sent": 10, "held": 40}
    assert vendor_stats(vendor)["accepted"] == 10
    assert deps.live.in_flight("m1") == 0

    publish(deps, [CampaignResumed(campaign_id="m1")])
    run(deps, "control")
    assert statuses(deps, "m1") == {"sent": 50}
    stats = vendor_stats(vendor)
    assert stats["accepted"] == 50 and stats["duplicateClientRefs"] == 0


def test_a_cancel_mid_chunk_cancels_the_batches_not_yet_handed_to_the_vendor(deps, vendor) -> None:
    deps.settings.vendor_batch_size = 10
    pause_or_cancel_during_first_vendor_call(deps, CampaignCancelled(campaign_id="m2"))
    publish(deps, [chunk("m2", recipients(50)), chunk("m2", recipients(5, 100), number=1)])
    send_and_record(deps)
    assert statuses(deps, "m2") == {"sent": 10, "cancelled": 45}
    assert vendor_stats(vendor)["accepted"] == 10
    cancelled = [e for e in read_stream(deps, RECEIPT) if isinstance(e, MessagesCancelled)]
    assert len({c for e in cancelled for c in e.customer_ids}) == 45


def test_a_pause_stops_held_rows_going_out_after_a_resume(deps, vendor) -> None:
    deps.settings.vendor_batch_size = 10
    publish(deps, [CampaignPaused(campaign_id="m3")])
    run(deps, "control")
    publish(deps, [chunk("m3", recipients(40))])
    send_and_record(deps)
    assert statuses(deps, "m3") == {"held": 40}
    pause_or_cancel_during_first_vendor_call(deps, CampaignPaused(campaign_id="m3"))
    publish(deps, [CampaignResumed(campaign_id="m3")])
    run(deps, "control")
    assert statuses(deps, "m3") == {"sent": 10, "held": 30}
    assert vendor_stats(vendor)["accepted"] == 10


def test_a_completed_campaigns_sent_ledger_expires_within_the_hour(deps, vendor) -> None:
    publish(deps, [chunk("l1", recipients(3))])
    send_and_record(deps)
    key = "delivery:sent:l1"
    assert deps.redis.hlen(key) == 3 and deps.redis.ttl(key) > 24 * 3600
    publish(
        deps,
        [
            CampaignCompleted(
                campaign_id="l1",
                audience_size=3,
                sent=3,
                delivered=3,
                failed=0,
                completed_at=datetime.now(UTC),
            )
        ],
    )
    run(deps, "control")
    assert 0 < deps.redis.ttl(key) <= 3600
