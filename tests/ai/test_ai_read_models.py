"""The AI read models from real stream entries (consumer.run(burst=True)), and the
features that read them: summary, timing, lookalike, auto-tagging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.common import events as ev
from libs.common.events.base import decode
from libs.common.streams import names
from libs.common.streams.producer import StreamProducer
from libs.common.worker import make_consumer
from services.ai import store as store_module
from services.ai.settings import AiSettings
from services.ai.store import AiStore, revive
from services.ai.worker import campaign_event_handlers, ingest_handlers, receipt_handlers

pytestmark = pytest.mark.integration

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
WIN_BACK_RULES = {
    "operator": "AND",
    "conditions": [
        {"field": "lastVisit", "operator": "inactive_days", "value": 120},
        {"field": "totalSpends", "operator": ">", "value": 10000},
    ],
}


def run_all(clean_env: Any, store: AiStore) -> None:
    settings = AiSettings()
    producer = StreamProducer(clean_env.redis)
    tables = {
        names.INGEST: ingest_handlers(store),
        names.RECEIPT: receipt_handlers(store),
        names.CAMPAIGN_EVENTS: campaign_event_handlers(store, producer),
    }
    for stream, table in tables.items():
        make_consumer(clean_env.redis, settings, stream, "ai", table).run(burst=True)


def customers(n: int) -> list[ev.CustomerRecord]:
    return [
        ev.CustomerRecord(
            id=f"c{i}",
            name=f"Customer {i}",
            total_spends=1000 * i,
            visits=i,
            last_visit=T0 - timedelta(days=20 * i),
            city="Mumbai" if i % 2 else "Pune",
            timezone="Asia/Kolkata" if i % 3 else None,
            tags=["vip"] if i % 5 == 0 else [],
        )
        for i in range(n)
    ]


def orders() -> list[ev.OrderRecord]:
    return [
        ev.OrderRecord(id="o1", customer_id="c1", amount=500, date=T0 - timedelta(days=3)),
        ev.OrderRecord(id="o2", customer_id="c1", amount=250, date=T0 - timedelta(days=1)),
        ev.OrderRecord(id="o3", customer_id="c2", amount=100, date=T0),
        ev.OrderRecord(id="o4", customer_id="ghost", amount=70, date=T0),
    ]


COLLECTIONS = ("customer_log", "orders", "order_totals", "message_log", "campaigns", "segments")


def state(store: AiStore) -> dict[str, list[dict[str, Any]]]:
    return {
        name: sorted(map(revive, store.db[name].find({})), key=lambda d: str(d["_id"]))
        for name in COLLECTIONS
    }


def redeliver_all(clean_env: Any, store: AiStore) -> None:
    """Apply every entry of the AI's streams again, with its own entry id (what a
    consumer crash between the writes and the acknowledgement leads to)."""
    tables = {
        names.INGEST: ingest_handlers(store),
        names.RECEIPT: receipt_handlers(store),
    }
    for stream, table in tables.items():
        for entry_id, fields in clean_env.redis.xrange(stream):
            event = decode(entry_id.decode(), fields)
            table[type(event)]([event])


def test_customer_features_count_orders_once_even_when_entries_repeat(
    clean_env: Any, ai_store: AiStore
) -> None:
    producer = StreamProducer(clean_env.redis)
    batch = [ev.CustomersUpserted(customers=customers(4)), ev.OrdersRecorded(orders=orders())]
    producer.publish(batch)
    run_all(clean_env, ai_store)
    first = state(ai_store)
    features = {doc["_id"]: doc for doc in ai_store.customers()}
    c1 = features["c1"]
    assert c1["order_count"] == 2
    assert c1["total_spends"] == 1000 + 750
    assert c1["last_order_at"] == T0 - timedelta(days=1)
    assert c1["city"] == "Mumbai" and c1["timezone"] == "Asia/Kolkata"
    c3 = features["c3"]
    assert "timezone" not in c3 and "tags" not in c3  # never stored as null or []
    assert features["ghost"]["order_count"] == 1

    redeliver_all(clean_env, ai_store)
    assert state(ai_store) == first

    producer.publish(batch)  # the same records again, in new entries (a replay)
    run_all(clean_env, ai_store)
    assert {doc["_id"]: doc for doc in ai_store.customers()} == features


def test_redelivered_message_entries_change_nothing(clean_env: Any, ai_store: AiStore) -> None:
    StreamProducer(clean_env.redis).publish(campaign_entries("camp-r", delivered=3, failed=1))
    run_all(clean_env, ai_store)
    first = state(ai_store)
    rows = sorted(ai_store.campaign_messages("camp-r"), key=lambda r: r["_id"])
    assert [r["status"] for r in rows] == ["DELIVERED"] * 3 + ["FAILED"]
    redeliver_all(clean_env, ai_store)
    assert state(ai_store) == first


def campaign_entries(campaign_id: str, delivered: int, failed: int) -> list[ev.Event]:
    created = ev.CampaignCreated(
        campaign_id=campaign_id,
        name=f"Win back {campaign_id}",
        rules=WIN_BACK_RULES,
        message="We miss you {firstName}! 20% off this week.",
        created_at=T0,
    )
    ids = [f"c{i}" for i in range(delivered + failed)]
    sent = ev.MessagesSent(
        messages=[
            ev.SentMessage(
                message_id=ev.message_id(campaign_id, cid),
                campaign_id=campaign_id,
                customer_id=cid,
                vendor_message_id=f"v-{campaign_id}-{cid}",
                at=T0 + timedelta(minutes=1),
            )
            for cid in ids
        ]
    )
    receipts = ev.ReceiptsReceived(
        receipts=[
            ev.Receipt(
                message_id=ev.message_id(campaign_id, cid),
                campaign_id=campaign_id,
                customer_id=cid,
                vendor_message_id=f"v-{campaign_id}-{cid}",
                status="DELIVERED" if n < delivered else "FAILED",
                reason=None if n < delivered else "invalid number",
                at=T0 + timedelta(minutes=2, seconds=n),
            )
            for n, cid in enumerate(ids)
        ]
    )
    completed = ev.CampaignCompleted(
        campaign_id=campaign_id,
        audience_size=len(ids),
        sent=len(ids),
        delivered=delivered,
        failed=failed,
        started_at=T0 + timedelta(minutes=1),
        completed_at=T0 + timedelta(minutes=5),
    )
    resolved = ev.AudienceResolved(campaign_id=campaign_id, total=len(ids), resolved_at=T0)
    return [created, resolved, sent, receipts, completed]


def test_summary_from_stream_entries_compares_with_the_account(
    clean_env: Any, ai_store: AiStore, make_ai_client: Callable[..., TestClient]
) -> None:
    producer = StreamProducer(clean_env.redis)
    producer.publish(campaign_entries("camp-a", delivered=10, failed=0))
    producer.publish(campaign_entries("camp-b", delivered=6, failed=4))
    run_all(clean_env, ai_store)
    client = make_ai_client()

    body = client.post("/api/ai/campaign-performance-summary", json={"campaignId": "camp-b"})
    assert body.status_code == 200, body.text
    result = body.json()
    assert result["source"] == "fallback"
    metrics = result["metrics"]
    assert metrics["delivered"] == 6 and metrics["failed"] == 4
    assert metrics["deliveryRate"] == 0.6
    assert metrics["accountAverageRate"] == 1.0
    assert metrics["failuresByReason"] == {"invalid number": 4}
    assert metrics["timeToCompleteSeconds"] == 240
    assert metrics["audienceSize"] == 10
    assert "below the account average" in result["summary"]
    assert "invalid number" in result["summary"]

    missing = client.post("/api/ai/campaign-performance-summary", json={"campaignId": "nope"})
    assert missing.status_code == 404


def test_created_campaigns_are_tagged_on_campaign_events(clean_env: Any, ai_store: AiStore) -> None:
    StreamProducer(clean_env.redis).publish(campaign_entries("camp-t", 1, 0)[:1])
    run_all(clean_env, ai_store)
    tagged = [
        decode(entry_id.decode(), fields)
        for entry_id, fields in clean_env.redis.xrange(names.CAMPAIGN_EVENTS)
        if fields[b"type"] == ev.CampaignTagged.TYPE.encode()
    ]
    assert len(tagged) == 1
    assert tagged[0].campaign_id == "camp-t"
    assert {"win-back", "reactivation", "high-value", "promotion"} <= set(tagged[0].tags)
    assert ai_store.campaign("camp-t")["tags"] == tagged[0].tags  # own echo applied


def test_timing_uses_receipts_and_orders_and_labels_the_default(
    clean_env: Any, ai_store: AiStore, make_ai_client: Callable[..., TestClient]
) -> None:
    producer = StreamProducer(clean_env.redis)
    producer.publish([ev.CustomersUpserted(customers=customers(12))])
    producer.publish(campaign_entries("camp-a", delivered=12, failed=0))
    run_all(clean_env, ai_store)

    default = make_ai_client().post("/api/ai/optimal-timing", json={}).json()
    assert default["isDefault"] is True and default["evidence"]["deliveryReceipts"] == 12

    client = make_ai_client(AI_TIMING_MIN_EVENTS=5)
    result = client.post("/api/ai/optimal-timing", json={}).json()
    assert result["isDefault"] is False
    assert result["evidence"] == {"deliveryReceipts": 12, "orders": 0, "total": 12}
    assert sum(r["evidence"] for r in result["recommendations"]) <= 12

    pune = {"conditions": [{"field": "city", "operator": "=", "value": "Pune"}]}
    only_pune = client.post("/api/ai/optimal-timing", json={"audienceRules": pune}).json()
    assert only_pune["evidence"]["deliveryReceipts"] == 6

    bad = client.post("/api/ai/optimal-timing", json={"audienceRules": {"operator": "NOR"}})
    assert bad.status_code == 422


def test_lookalike_from_a_saved_segment(
    clean_env: Any, ai_store: AiStore, make_ai_client: Callable[..., TestClient]
) -> None:
    segment_rules = {"conditions": [{"field": "totalSpends", "operator": ">=", "value": 25000}]}
    producer = StreamProducer(clean_env.redis)
    producer.publish(
        [
            ev.CustomersUpserted(customers=customers(40)),
            ev.SegmentSaved(segment_id="seg-1", name="Big", rules=segment_rules),
            ev.SegmentSaved(segment_id="seg-2", name="Gone", rules=segment_rules),
            ev.SegmentDeleted(segment_id="seg-2"),
        ]
    )
    run_all(clean_env, ai_store)
    client = make_ai_client()

    response = client.post("/api/ai/lookalike-audience", json={"baseSegmentId": "seg-1", "size": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customerIds"] == ["c24", "c23", "c22", "c21", "c20"]  # nearest by spend
    assert body["excludesBase"] is True and body["size"] >= 5
    assert len(body["sample"]) == 5 and body["sample"][0]["id"] == "c24"

    assert (
        client.post("/api/ai/lookalike-audience", json={"baseSegmentId": "seg-2"}).status_code
        == 404
    )
    both = {"baseSegmentId": "seg-1", "rules": segment_rules}
    assert client.post("/api/ai/lookalike-audience", json=both).status_code == 422


def test_worker_process_builds_the_read_models(
    clean_env: Any, ai_store: AiStore, spawn: Callable[..., Any]
) -> None:
    StreamProducer(clean_env.redis).publish([ev.CustomersUpserted(customers=customers(3))])
    worker = spawn("ai-worker", env=clean_env.env(), module="services.ai.worker", args=["--burst"])
    assert worker.proc.wait(timeout=60) == 0, worker.logs()
    assert len(ai_store.customers()) == 3


def test_a_later_customer_record_keeps_order_aggregates_and_its_own_new_spend(
    clean_env: Any, ai_store: AiStore
) -> None:
    producer = StreamProducer(clean_env.redis)
    producer.publish([ev.OrdersRecorded(orders=orders())])  # orders before their customers
    run_all(clean_env, ai_store)
    producer.publish([ev.CustomersUpserted(customers=customers(3))])
    run_all(clean_env, ai_store)
    updated = customers(3)[1].model_copy(update={"total_spends": 5000.0, "city": "Delhi"})
    producer.publish([ev.CustomersUpserted(customers=[updated])])
    run_all(clean_env, ai_store)
    c1 = {doc["_id"]: doc for doc in ai_store.customers()}["c1"]
    assert (c1["order_count"], c1["total_spends"], c1["city"]) == (2, 5000 + 750, "Delhi")
    assert c1["last_order_at"] == T0 - timedelta(days=1)


def test_customer_records_fold_to_stream_order_whatever_order_they_were_written_in(
    ai_store: AiStore,
) -> None:
    old, new = customers(2), [c.model_copy(update={"city": "Delhi"}) for c in customers(2)]
    # the newer entry was written first (another worker, or the older one redelivered)
    ai_store.append_customers([("1700000000000-10", new)])
    ai_store.append_customers([("1700000000000-9", old)])
    assert {c["_id"]: c["city"] for c in ai_store.customers()} == {"c0": "Delhi", "c1": "Delhi"}


def test_a_trickle_of_single_record_entries_is_one_log_insert(ai_store: AiStore) -> None:
    base = customers(3)
    entries = [
        (f"1700000000000-{n}", [base[n % 3].model_copy(update={"total_spends": float(n)})])
        for n in range(30)
    ]
    ai_store.append_customers(entries)
    assert ai_store.db.customer_log.count_documents({}) == 1
    expected = {"c0": 27.0, "c1": 28.0, "c2": 29.0}
    assert {c["_id"]: c["total_spends"] for c in ai_store.customers()} == expected
    ai_store.append_customers(entries)  # redelivered as read before: nothing added
    assert ai_store.db.customer_log.count_documents({}) == 1
    ai_store.append_customers(entries[20:25])  # redelivered in another grouping
    assert {c["_id"]: c["total_spends"] for c in ai_store.customers()} == expected


def test_a_mostly_superseded_customer_log_is_compacted_on_read(
    ai_store: AiStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "COMPACT_MIN_RECORDS", 10)
    monkeypatch.setattr(store_module, "SNAPSHOT_SIZE", 4)
    base = customers(6)
    for round_ in range(3):  # the same six customers three times, last spend wins
        batch = [c.model_copy(update={"total_spends": 100.0 * round_}) for c in base]
        ai_store.append_customers([(f"1700000000000-{round_}", batch)])
    before = ai_store.customers()  # folds 18 records of 6 customers: compacts
    assert {c["total_spends"] for c in before} == {200.0}
    assert ai_store.db.customer_log.count_documents({}) == 2  # 6 records, 4 per snapshot
    # an older entry redelivered after the compaction stays beaten by the snapshot
    ai_store.append_customers([("1700000000000-1", base)])
    assert ai_store.customers() == before
    ai_store.append_customers([("1700000000000-7", base[:1])])  # a newer one wins
    assert {c["_id"]: c["total_spends"] for c in ai_store.customers()}["c0"] == 0.0


def test_a_receipt_before_its_sent_entry_keeps_the_final_status(ai_store: AiStore) -> None:
    _, _, sent, receipts, _ = campaign_entries("k1", delivered=2, failed=1)
    ai_store.append_receipts([("1700000000000-2", receipts.receipts)])  # type: ignore[attr-defined]
    ai_store.append_sent([("1700000000000-1", sent.messages)])  # type: ignore[attr-defined]
    ai_store.append_sent([("1700000000000-1", sent.messages)])  # and a redelivery of it
    rows = ai_store.campaign_messages("k1")
    assert sorted(r["status"] for r in rows) == ["DELIVERED", "DELIVERED", "FAILED"]
    assert all(r["sent_at"] == T0 + timedelta(minutes=1) and r["final_at"] for r in rows)
    assert ai_store.db.message_log.count_documents({}) == 2


def test_the_first_final_wins_and_a_cancellation_never_overrides_a_send(
    ai_store: AiStore,
) -> None:
    _, _, sent, receipts, _ = campaign_entries("k2", delivered=2, failed=0)
    first, second = receipts.receipts  # type: ignore[attr-defined]
    failed_later = first.model_copy(update={"status": "FAILED", "reason": "bounced"})
    # delivery and campaign keep the first final status of a message; so does the ai
    ai_store.append_receipts([("1700000000000-5", [failed_later])])
    ai_store.append_receipts([("1700000000000-3", [first, second])])  # older, written later
    ai_store.append_sent([("1700000000000-1", sent.messages[:1])])  # type: ignore[attr-defined]
    ai_store.append_cancelled([("1700000000000-6", "k2", ["c0", "c9"], T0)])
    rows = {r["_id"]: r for r in ai_store.campaign_messages("k2")}
    assert rows[first.message_id]["status"] == "DELIVERED"
    assert "reason" not in rows[first.message_id]
    assert rows[second.message_id]["status"] == "DELIVERED"
    assert "sent_at" not in rows[second.message_id]
    assert rows["k2:c9"]["status"] == "CANCELLED"
    counts = ai_store.status_counts()
    assert counts["DELIVERED"]["k2"] == 2 and counts["CANCELLED"]["k2"] == 1
    assert "k2" not in counts.get("FAILED", {})
