"""The campaign worker: counters exact under redelivery, completion, scheduling."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from campaign_helpers import drain, entries_of, rules_over
from fastapi.testclient import TestClient

from libs.common.events import (
    AudienceResolved,
    CampaignAutoPaused,
    CampaignTagged,
    Event,
    FailedMessage,
    MessagesCancelled,
    MessagesDeferred,
    MessagesFailed,
    MessagesSent,
    Receipt,
    ReceiptsReceived,
    SentMessage,
    message_id,
)
from libs.common.streams import StreamProducer
from libs.common.testing.pytest_plugin import CleanEnv
from services.campaign.clock import to_ms
from services.campaign.settings import CampaignSettings
from services.campaign.worker import Worker, build_worker

pytestmark = pytest.mark.integration

Publish = Callable[..., list[str]]
NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """Entries are stamped with the time the test runs, not the time the module was
    imported: the live estimate only looks at the last minute of receipts."""
    global NOW
    NOW = datetime.now(UTC)


def launch(api: TestClient, **overrides: Any) -> str:
    body = {"name": "c", "segmentRules": rules_over(100), "message": "Hi {name}", **overrides}
    response = api.post("/api/campaigns", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def resolved(cid: str, total: int) -> AudienceResolved:
    return AudienceResolved(campaign_id=cid, total=total, resolved_at=NOW)


def sent(cid: str, *customers: str) -> MessagesSent:
    return MessagesSent(
        messages=[
            SentMessage(
                message_id=message_id(cid, c),
                campaign_id=cid,
                customer_id=c,
                vendor_message_id=f"v-{c}",
                at=NOW,
            )
            for c in customers
        ]
    )


def receipts(cid: str, *outcomes: tuple[str, str]) -> ReceiptsReceived:
    return ReceiptsReceived(
        receipts=[
            Receipt(
                message_id=message_id(cid, c),
                campaign_id=cid,
                customer_id=c,
                vendor_message_id=f"v-{c}",
                status=status,
                at=NOW,  # type: ignore[arg-type]
                reason="handset unreachable" if status == "FAILED" else None,
            )
            for c, status in outcomes
        ]
    )


def rejected(cid: str, *customers: str) -> MessagesFailed:
    return MessagesFailed(
        messages=[
            FailedMessage(
                message_id=message_id(cid, c),
                campaign_id=cid,
                customer_id=c,
                reason="invalid number",
                at=NOW,
            )
            for c in customers
        ]
    )


def campaign(api: TestClient, cid: str) -> dict[str, Any]:
    return dict(api.get(f"/api/campaigns/{cid}").json())


def completions(clean_env: CleanEnv, cid: str) -> list[Event]:
    events = entries_of(clean_env.redis, "campaign_events", "campaign.completed.v1")
    return [e for e in events if e.campaign_id == cid]  # type: ignore[attr-defined]


def redeliver_all(worker: Worker, clean_env: CleanEnv) -> None:
    """Hand every entry of ``receipt`` to the handlers again, as a redelivery would."""
    entries = [(i.decode(), f) for i, f in clean_env.redis.xrange("receipt")]  # type: ignore[union-attr]
    worker.consumers[0].handle(entries, deliveries=None)


def test_audience_resolved_marks_running_with_size_and_start(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    cid = launch(api)
    publish(resolved(cid, 3), resolved(cid, 99))  # a second resolution changes nothing
    drain(worker)
    doc = campaign(api, cid)
    assert doc["status"] == "running"
    assert doc["audienceSize"] == 3
    assert doc["pending"] == 3
    assert doc["startedAt"]


def test_same_receipt_entry_handled_twice_counts_once(
    api: TestClient, worker: Worker, publish: Publish, clean_env: CleanEnv
) -> None:
    cid = launch(api)
    publish(resolved(cid, 4), sent(cid, "a", "b", "c", "d"))
    publish(receipts(cid, ("a", "DELIVERED"), ("b", "FAILED")))
    drain(worker)
    redeliver_all(worker, clean_env)
    redeliver_all(worker, clean_env)
    doc = campaign(api, cid)
    assert (doc["sent"], doc["delivered"], doc["failed"], doc["pending"]) == (4, 1, 1, 2)
    assert doc["status"] == "running"


def test_same_receipt_in_two_entries_counts_once(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    cid = launch(api)
    publish(resolved(cid, 2), sent(cid, "a", "b"))
    publish(receipts(cid, ("a", "DELIVERED")), receipts(cid, ("a", "DELIVERED")))
    publish(receipts(cid, ("a", "FAILED")))  # a contradicting late receipt: first final wins
    drain(worker)
    doc = campaign(api, cid)
    assert (doc["sent"], doc["delivered"], doc["failed"], doc["pending"]) == (2, 1, 0, 1)


def test_receipt_before_its_sent_entry_keeps_the_final_state(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    cid = launch(api)
    publish(resolved(cid, 3))
    publish(receipts(cid, ("a", "DELIVERED"), ("b", "FAILED")))
    drain(worker)
    assert campaign(api, cid)["sent"] == 2  # a receipt proves the vendor had it
    publish(sent(cid, "a", "b", "c"))
    drain(worker)
    doc = campaign(api, cid)
    assert (doc["sent"], doc["delivered"], doc["failed"], doc["pending"]) == (3, 1, 1, 1)


def test_refused_and_cancelled_messages_are_final_but_never_sent(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    cid = launch(api)
    publish(resolved(cid, 5), sent(cid, "a"), rejected(cid, "b", "c"))
    publish(MessagesCancelled(campaign_id=cid, customer_ids=["d", "e"], at=NOW))
    publish(MessagesCancelled(campaign_id=cid, customer_ids=["d"], at=NOW))
    drain(worker)
    doc = campaign(api, cid)
    assert (doc["sent"], doc["failed"], doc["cancelled"], doc["pending"]) == (1, 2, 2, 1)


def test_completion_is_announced_once_and_freezes_counters(
    api: TestClient, worker: Worker, publish: Publish, clean_env: CleanEnv
) -> None:
    cid = launch(api)
    publish(resolved(cid, 3), sent(cid, "a", "b", "c"))
    publish(receipts(cid, ("a", "DELIVERED"), ("b", "DELIVERED")))
    drain(worker)
    assert campaign(api, cid)["status"] == "running"
    publish(receipts(cid, ("c", "FAILED")))
    drain(worker)
    doc = campaign(api, cid)
    assert doc["status"] == "completed"
    assert doc["completedAt"]
    assert (doc["delivered"], doc["failed"], doc["pending"]) == (2, 1, 0)
    redeliver_all(worker, clean_env)
    worker.progress.tick()
    worker.progress.recompute(cid)
    (event,) = completions(clean_env, cid)
    assert (event.audience_size, event.sent, event.delivered, event.failed) == (3, 3, 2, 1)  # type: ignore[attr-defined]
    assert api.post(f"/api/campaigns/{cid}/pause").status_code == 409


def test_empty_audience_completes_at_once(
    api: TestClient, worker: Worker, publish: Publish, clean_env: CleanEnv
) -> None:
    cid = launch(api)
    publish(resolved(cid, 0))
    drain(worker)
    assert campaign(api, cid)["status"] == "completed"
    assert len(completions(clean_env, cid)) == 1


def test_completion_timeout_marks_the_rest_unknown(
    api: TestClient,
    worker: Worker,
    publish: Publish,
    clean_env: CleanEnv,
    settings: CampaignSettings,
) -> None:
    cid = launch(api)
    publish(resolved(cid, 4), sent(cid, "a", "b", "c"))
    publish(receipts(cid, ("a", "DELIVERED")))
    drain(worker)
    worker.progress.tick()
    assert campaign(api, cid)["status"] == "running"
    later = NOW + timedelta(seconds=settings.completion_timeout_s + 1)
    worker.progress.clock = lambda: later
    worker.progress.tick()
    doc = campaign(api, cid)
    assert doc["status"] == "completed"
    # b and c were sent without receipt; d was never even sent.
    assert (doc["sent"], doc["delivered"], doc["unknown"], doc["pending"]) == (3, 1, 3, 0)
    publish(receipts(cid, ("b", "DELIVERED")))  # too late: the figures stay as announced
    drain(worker)
    assert campaign(api, cid)["delivered"] == 1
    (event,) = completions(clean_env, cid)
    assert event.unknown == 3  # type: ignore[attr-defined]


def test_messages_deferred_by_delivery_hold_the_completion_clock_and_the_stall_watch(
    api: TestClient,
    worker: Worker,
    publish: Publish,
    clean_env: CleanEnv,
    settings: CampaignSettings,
) -> None:
    """Quiet hours or a local send time keep messages in delivery for hours: the
    campaign neither times out nor replays before they are due."""
    cid = launch(api)
    until = NOW + timedelta(hours=3)
    publish(resolved(cid, 3), sent(cid, "a"), receipts(cid, ("a", "DELIVERED")))
    publish(MessagesDeferred(campaign_id=cid, customer_ids=["b", "c"], until=until))
    publish(MessagesDeferred(campaign_id=cid, customer_ids=["b"], until=NOW))  # earlier: kept
    drain(worker)
    timeout = timedelta(seconds=settings.completion_timeout_s + 1)
    worker.progress.clock = lambda: NOW + timeout
    worker.progress.tick()
    assert campaign(api, cid)["status"] == "running"
    assert worker.store.campaigns.find_one({"_id": cid})["deferred_until_ms"] == to_ms(until)  # type: ignore[index]
    worker.progress.clock = lambda: until + timeout
    worker.progress.tick()
    assert campaign(api, cid)["status"] == "completed"


def test_scheduled_campaign_launches_once_across_two_replicas(
    api: TestClient, settings: CampaignSettings, clean_env: CleanEnv
) -> None:
    later = NOW + timedelta(hours=1)
    ids = {launch(api, scheduledAt=later.isoformat()) for _ in range(5)}
    replicas = [build_worker(settings, clean_env.redis, clean_env.mongo) for _ in range(2)]
    replicas[0].progress.tick()
    assert entries_of(clean_env.redis, "segment", "campaign.launched.v1") == []
    for replica in replicas:
        replica.progress.clock = lambda: later + timedelta(seconds=1)
    threads = [threading.Thread(target=r.progress.tick) for r in replicas for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    launched = entries_of(clean_env.redis, "segment", "campaign.launched.v1")
    assert sorted(e.campaign_id for e in launched) == sorted(ids)  # type: ignore[attr-defined]
    assert {campaign(api, cid)["status"] for cid in ids} == {"launching"}


def test_launch_lost_in_a_crash_is_published_again(
    api: TestClient, worker: Worker, clean_env: CleanEnv, settings: CampaignSettings
) -> None:
    cid = launch(api)
    worker.store.campaigns.update_one({"_id": cid}, {"$unset": {"launch_published": ""}})
    worker.progress.tick()
    assert len(entries_of(clean_env.redis, "segment", "campaign.launched.v1")) == 1
    later = datetime.now(UTC) + timedelta(seconds=settings.launch_retry_after_s + 1)
    worker.progress.clock = lambda: later
    worker.progress.tick()
    worker.progress.tick()
    assert len(entries_of(clean_env.redis, "segment", "campaign.launched.v1")) == 2


def test_counters_are_repaired_after_a_crash_between_writes(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    cid = launch(api)
    publish(resolved(cid, 2))
    drain(worker)
    # The message states were written, then the worker died before recomputing.
    from services.campaign.tally import MessageState

    worker.tally.apply(
        [MessageState(message_id(cid, c), cid, c, "delivered", NOW) for c in ("a", "b")]
    )
    assert campaign(api, cid)["delivered"] == 0
    settings = worker.progress.settings
    fresh = build_worker(settings, worker.consumers[0].client, worker.store.db.client)
    fresh.progress.tick()
    doc = campaign(api, cid)
    assert (doc["delivered"], doc["status"]) == (2, "completed")


def test_auto_pause_shows_its_reason_and_ai_tags_merge(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    cid = launch(api, tags=["promo"])
    publish(resolved(cid, 10))
    publish(
        CampaignAutoPaused(
            campaign_id=cid, reason="failure rate 60% over last 50", failure_rate=0.6
        )
    )
    publish(CampaignTagged(campaign_id=cid, tags=["Win-back", "promo"]))
    drain(worker)
    doc = campaign(api, cid)
    assert doc["status"] == "paused"
    assert doc["statusReason"] == "failure rate 60% over last 50"
    assert doc["tags"] == ["promo", "win-back"]
    resumed = api.post(f"/api/campaigns/{cid}/resume").json()
    assert resumed["status"] == "running"
    assert "statusReason" not in resumed


def test_audience_resolved_while_paused_keeps_it_paused(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    cid = launch(api)
    api.post(f"/api/campaigns/{cid}/pause")
    publish(resolved(cid, 2))
    drain(worker)
    doc = campaign(api, cid)
    assert (doc["status"], doc["audienceSize"]) == ("paused", 2)
    assert api.post(f"/api/campaigns/{cid}/resume").json()["status"] == "running"


def test_realtime_reports_reasons_timeline_and_estimate(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    cid = launch(api)
    publish(resolved(cid, 10), sent(cid, *"abcdef"))
    publish(receipts(cid, ("a", "DELIVERED"), ("b", "DELIVERED"), ("c", "FAILED")))
    publish(rejected(cid, "g"))
    drain(worker)
    live = api.get(f"/api/campaigns/{cid}/realtime").json()
    assert live["status"] == "running"
    assert (live["audienceSize"], live["sent"], live["delivered"], live["failed"]) == (10, 6, 2, 2)
    assert live["pending"] == 6
    assert live["failureReasons"] == {"handset unreachable": 1, "invalid number": 1}
    assert sum(s["delivered"] for s in live["timeline"]) == 2
    assert sum(s["failed"] for s in live["timeline"]) == 2
    assert live["estimatedCompletion"] is not None
    assert live["deliveryRate"] == round(100 * 2 / 6, 1)


def test_overview_sums_campaigns(api: TestClient, worker: Worker, publish: Publish) -> None:
    cid = launch(api)
    launch(api)
    publish(resolved(cid, 2), sent(cid, "a", "b"), receipts(cid, ("a", "DELIVERED")))
    drain(worker)
    overview = api.get("/api/campaigns/stats/overview").json()
    assert (overview["campaigns"], overview["sent"], overview["delivered"]) == (2, 2, 1)
    assert overview["daily"][-1]["sent"] == 2


def test_campaign_stored_while_redis_is_down_is_announced_later(
    api: TestClient, worker: Worker, clean_env: CleanEnv, settings: CampaignSettings
) -> None:
    service = api.app.state.service  # type: ignore[attr-defined]
    healthy = service.producer
    service.producer = StreamProducer(redis.Redis.from_url("redis://127.0.0.1:1/0"))
    try:
        cid = launch(api)
    finally:
        service.producer = healthy
    assert campaign(api, cid)["status"] == "launching"
    assert entries_of(clean_env.redis, "segment", "campaign.launched.v1") == []
    later = datetime.now(UTC) + timedelta(seconds=settings.launch_retry_after_s + 1)
    worker.progress.clock = lambda: later
    worker.progress.tick()
    worker.progress.tick()
    launched = entries_of(clean_env.redis, "segment", "campaign.launched.v1")
    created = entries_of(clean_env.redis, "campaign_events", "campaign.created.v1")
    assert [e.campaign_id for e in launched] == [cid]  # type: ignore[attr-defined]
    assert [e.campaign_id for e in created] == [cid]  # type: ignore[attr-defined]


def _throttled_campaign_of_three(
    api: TestClient, clean_env: CleanEnv, publish: Publish, settings: CampaignSettings
) -> tuple[Any, str]:
    """A worker that recomputes at most once a minute, and a campaign sent to a, b, c."""
    slow = settings.model_copy(update={"recompute_interval_s": 60, "refresh_interval_s": 60})
    worker = build_worker(slow, clean_env.redis, clean_env.mongo)
    cid = launch(api)
    publish(resolved(cid, 3), sent(cid, "a", "b", "c"))
    drain(worker)
    return worker, cid


def test_throttled_recompute_is_caught_up_by_the_scheduler(
    api: TestClient, clean_env: CleanEnv, publish: Publish, settings: CampaignSettings
) -> None:
    worker, cid = _throttled_campaign_of_three(api, clean_env, publish, settings)
    publish(receipts(cid, ("a", "DELIVERED"), ("b", "DELIVERED")))
    drain(worker)
    assert campaign(api, cid)["delivered"] == 0  # throttled: at most one per interval
    worker.progress.tick()
    doc = campaign(api, cid)
    assert (doc["delivered"], doc["status"]) == (2, "running")


def test_the_receipt_that_finishes_a_campaign_completes_it_despite_the_throttle(
    api: TestClient, clean_env: CleanEnv, publish: Publish, settings: CampaignSettings
) -> None:
    worker, cid = _throttled_campaign_of_three(api, clean_env, publish, settings)
    publish(receipts(cid, ("a", "DELIVERED")))
    drain(worker)
    assert campaign(api, cid)["delivered"] == 0  # throttled
    publish(receipts(cid, ("b", "DELIVERED"), ("c", "FAILED")))
    drain(worker)
    doc = campaign(api, cid)
    assert (doc["delivered"], doc["failed"], doc["status"]) == (2, 1, "completed")


def test_receipt_entry_redelivered_after_a_crash_before_its_ack_counts_once(
    api: TestClient, clean_env: CleanEnv, publish: Publish, settings: CampaignSettings
) -> None:
    eager = settings.model_copy(update={"stream_visibility_timeout_ms": 1})
    worker = build_worker(eager, clean_env.redis, clean_env.mongo)
    receipt_consumer = worker.consumers[0]
    real = receipt_consumer.handlers[ReceiptsReceived]
    calls: list[int] = []

    def write_then_crash(events: list[Any]) -> None:
        real(events)  # the durable write happened...
        calls.append(len(events))
        if len(calls) == 1:
            raise ConnectionError("worker died before XACK")  # ...the ack did not

    receipt_consumer.handlers[ReceiptsReceived] = write_then_crash
    cid = launch(api)
    publish(resolved(cid, 3), sent(cid, "a", "b", "c"))
    publish(receipts(cid, ("a", "DELIVERED"), ("b", "FAILED")))
    drain(worker)
    assert len(calls) == 2  # delivered, failed, claimed and delivered again
    assert clean_env.redis.xpending("receipt", "campaign")["pending"] == 0
    doc = campaign(api, cid)
    assert (doc["sent"], doc["delivered"], doc["failed"], doc["pending"]) == (3, 1, 1, 1)


def test_figures_of_a_completed_campaign_never_land_on_another_campaign(
    clean_env: CleanEnv,
) -> None:
    """nx-27017 once ignored the _id of a filter with a top-level $or beside it."""
    from datetime import UTC, datetime

    from services.campaign.stats import Figures
    from services.campaign.store import CampaignStore

    store = CampaignStore(clean_env.mongo, clean_env.db_prefix + "campaign")
    store.insert_campaign({"_id": "done", "status": "completed", "counted_ms": 5, "counts": {}})
    store.insert_campaign({"_id": "later", "status": "scheduled", "counts": {"sent": 0}})
    figures = Figures()
    figures.counts["sent"] = 9
    assert store.save_figures("done", figures, datetime.now(UTC)) is None
    assert store.get_campaign("later")["counts"] == {"sent": 0}
    assert "counted_ms" not in store.get_campaign("later")
