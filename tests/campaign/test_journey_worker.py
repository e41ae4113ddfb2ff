"""Journeys in the campaign service: API, triggers from the ingest stream, durable
timers with leases, goals, and sends on the ``send`` stream (real Redis and database)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from libs.common.events import (
    CustomerRecord,
    CustomersUpserted,
    FailedMessage,
    MessagesFailed,
    OrderRecord,
    OrdersRecorded,
    SendRequested,
)
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.testing.pytest_plugin import CleanEnv
from services.campaign.clock import to_ms
from services.campaign.journeys.timers import StateWriter, TimerPass, run_due
from services.campaign.journeys.worker import JourneyWorker, build_journey_worker
from services.campaign.settings import CampaignSettings
from tests.campaign.campaign_helpers import entries_of

FIRST_ORDER: dict[str, Any] = {
    "name": "First order follow-up",
    "trigger": {"type": "order_placed", "firstOrder": True},
    "steps": [
        {"id": "w", "type": "wait", "seconds": 5},
        {
            "id": "b",
            "type": "branch",
            "orderedSinceEntry": True,
            "then": [{"id": "x", "type": "exit"}],
            "else": [
                {"id": "s", "type": "send", "channel": "sms", "message": "Hi {firstName}, 10% off"}
            ],
        },
    ],
    "goal": {"event": "order_placed"},
    "reentry": "never",
}


@pytest.fixture
def journey_worker(settings: CampaignSettings, clean_env: CleanEnv) -> Iterator[JourneyWorker]:
    client = make_redis(settings.redis_url, block_ms=200)
    mongo = make_client(settings.mongodb_uri)
    yield build_journey_worker(settings, client, mongo)
    mongo.close()
    client.close()


def customer(cid: str, **extra: Any) -> CustomerRecord:
    return CustomerRecord(id=cid, name=f"Ann {cid}", phone="+911234567890", **extra)


def order(oid: str, cid: str, amount: float = 100) -> OrderRecord:
    return OrderRecord(id=oid, customer_id=cid, amount=amount, date=datetime.now(UTC))


def sends(clean_env: CleanEnv) -> list[tuple[str, str]]:
    return [
        (e.campaign_id, r.customer_id)
        for e in entries_of(clean_env.redis, "send", SendRequested.TYPE)
        for r in e.recipients  # type: ignore[attr-defined]
    ]


def drain(worker: JourneyWorker) -> None:
    for consumer in worker.consumers:
        consumer.run(burst=True)


def first_orders_waiting(
    api: TestClient, worker: JourneyWorker, publish: Any, prefix: str, n: int
) -> str:
    """An active first-order journey with ``n`` customers in its 5-second wait."""
    jid: str = api.post("/api/journeys", json=FIRST_ORDER).json()["id"]
    api.post(f"/api/journeys/{jid}/activate")
    publish(CustomersUpserted(customers=[customer(f"{prefix}{i}") for i in range(n)]))
    publish(OrdersRecorded(orders=[order(f"{prefix}o{i}", f"{prefix}{i}") for i in range(n)]))
    drain(worker)
    return jid


def test_bad_journey_is_refused_with_reasons(api: TestClient) -> None:
    response = api.post(
        "/api/journeys", json={"name": "x", "trigger": {"type": "nope"}, "steps": []}
    )
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["details"], body
    wait_without_time = {**FIRST_ORDER, "steps": [{"id": "w", "type": "wait"}]}
    response = api.post("/api/journeys", json=wait_without_time)
    assert response.status_code == 422
    assert "seconds or until" in response.text


def test_first_order_journey_converts_or_sends_once(
    api: TestClient, journey_worker: JourneyWorker, publish: Any, clean_env: CleanEnv
) -> None:
    created = api.post("/api/journeys", json=FIRST_ORDER)
    assert created.status_code == 201, created.text
    jid = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert api.post(f"/api/journeys/{jid}/activate").json()["status"] == "active"
    assert api.post(f"/api/journeys/{jid}/archive").status_code == 200
    assert api.post(f"/api/journeys/{jid}/activate").status_code == 409
    jid = api.post("/api/journeys", json=FIRST_ORDER).json()["id"]
    api.post(f"/api/journeys/{jid}/activate")

    publish(CustomersUpserted(customers=[customer("c1"), customer("c2")]))
    publish(OrdersRecorded(orders=[order("o1", "c1"), order("o2", "c2")]))
    drain(journey_worker)
    publish(OrdersRecorded(orders=[order("o1", "c1"), order("o3", "c2")]))  # o1 again
    drain(journey_worker)
    stats = api.get(f"/api/journeys/{jid}/stats").json()
    assert stats["entered"] == 2
    assert stats["converted"] == 1  # c2 ordered again inside the wait
    assert stats["active"] == 1

    assert run_due(journey_worker.timers) == 0  # not due yet
    later = datetime.now(UTC) + timedelta(seconds=6)
    assert run_due(journey_worker.timers, later) == 1
    assert run_due(journey_worker.timers, later) == 0
    assert sends(clean_env) == [(f"{jid}.s.1", "c1")]
    stats = api.get(f"/api/journeys/{jid}/stats").json()
    assert stats["completed"] == 1
    assert {s["id"]: s["sent"] for s in stats["steps"]}["s"] == 1
    timeline = api.get("/api/customers/c1/journeys").json()["items"]
    assert timeline[0]["status"] == "completed"
    assert [h["event"] for h in timeline[0]["history"]][0] == "entered"
    assert api.get("/api/customers/c2/journeys").json()["items"][0]["status"] == "converted"


def test_a_killed_workers_timer_pass_is_taken_over_and_sends_once(
    api: TestClient, journey_worker: JourneyWorker, publish: Any, clean_env: CleanEnv
) -> None:
    jid = first_orders_waiting(api, journey_worker, publish, "k", 30)
    now = datetime.now(UTC) + timedelta(seconds=6)
    store = journey_worker.store
    # another worker holds the pass, read the due states and died before writing
    dead = TimerPass(clean_env.redis, expiry_ms=400)
    assert dead.hold()
    read = store.due_states(to_ms(now), 500)
    assert len(read) == 30
    assert run_due(journey_worker.timers, now) == 0  # its pass has not expired yet
    time.sleep(0.5)
    assert run_due(journey_worker.timers, now) == 30
    assert not dead.hold()  # taken over: renewed by this worker's passes
    # the dead worker's late write changes nothing: the states moved since it read them
    store.write_states(
        [{**d, "status": "waiting", "due_ms": 0, "updated_ms": to_ms(now)} for d in read],
        {d["_id"]: d["updated_ms"] for d in read},
    )
    assert store.count_states({"journey_id": jid, "status": "completed"}) == 30
    assert run_due(journey_worker.timers, now + timedelta(seconds=60)) == 0
    got = sends(clean_env)
    assert len(got) == len(set(got)) == 30


def test_a_second_pass_over_states_already_moved_writes_nothing(
    api: TestClient, journey_worker: JourneyWorker, publish: Any, clean_env: CleanEnv
) -> None:
    """Redis lost the pass key and two workers ran a pass together: the same message
    ids go out twice (delivery sends each id once) and one write of each state wins."""
    jid = first_orders_waiting(api, journey_worker, publish, "t", 10)
    now = datetime.now(UTC) + timedelta(seconds=6)
    store = journey_worker.store
    read = store.due_states(to_ms(now), 500)
    assert run_due(journey_worker.timers, now) == 10
    late = [{**d, "status": "exited", "due_ms": 0, "updated_ms": to_ms(now) + 1} for d in read]
    store.write_states(late, {d["_id"]: d["updated_ms"] for d in read})
    assert store.count_states({"journey_id": jid, "status": "completed"}) == 10
    assert store.count_states({"journey_id": jid, "status": "exited"}) == 0


def test_segment_entered_from_changes_and_reentry_never(
    api: TestClient, journey_worker: JourneyWorker, publish: Any, clean_env: CleanEnv
) -> None:
    spec = {
        "name": "Big spenders",
        "trigger": {
            "type": "segment_entered",
            "rules": {
                "operator": "AND",
                "conditions": [{"field": "totalSpends", "operator": ">", "value": 500}],
            },
        },
        "steps": [{"id": "hello", "type": "send", "message": "Welcome to gold, {name}"}],
    }
    jid = api.post("/api/journeys", json=spec).json()["id"]
    api.post(f"/api/journeys/{jid}/activate")
    publish(
        CustomersUpserted(
            customers=[customer("s1", total_spends=100), customer("s2", total_spends=900)]
        )
    )
    drain(journey_worker)
    publish(OrdersRecorded(orders=[order("so1", "s1", 450)]))  # 550 now: enters
    drain(journey_worker)
    publish(OrdersRecorded(orders=[order("so2", "s1", 10)]))  # still matching: no new entry
    publish(CustomersUpserted(customers=[customer("s2", total_spends=900)]))  # unchanged
    drain(journey_worker)
    assert sorted(sends(clean_env)) == [(f"{jid}.hello.1", "s1"), (f"{jid}.hello.1", "s2")]


def test_date_attribute_plans_an_entry_the_timer_starts(
    api: TestClient, journey_worker: JourneyWorker, publish: Any, clean_env: CleanEnv
) -> None:
    spec = {
        "name": "Come back",
        "trigger": {
            "type": "date_attribute",
            "field": "lastVisit",
            "offsetDays": 30,
            "at": "09:00",
        },
        "steps": [{"id": "miss", "type": "send", "message": "We miss you"}],
    }
    jid = api.post("/api/journeys", json=spec).json()["id"]
    api.post(f"/api/journeys/{jid}/activate")
    visit = datetime.now(UTC) - timedelta(days=10)
    publish(
        CustomersUpserted(customers=[customer("d1", last_visit=visit, timezone="Asia/Kolkata")])
    )
    drain(journey_worker)
    [planned] = api.get("/api/customers/d1/journeys").json()["items"]
    assert planned["status"] == "scheduled"
    due = datetime.fromisoformat(planned["dueAt"])
    assert due.astimezone(ZoneInfo("Asia/Kolkata")).hour == 9
    assert timedelta(days=19) < due - datetime.now(UTC) < timedelta(days=21)
    assert run_due(journey_worker.timers, due - timedelta(minutes=1)) == 0
    assert run_due(journey_worker.timers, due) == 1
    assert sends(clean_env) == [(f"{jid}.miss.1", "d1")]
    assert api.get(f"/api/journeys/{jid}/stats").json()["completed"] == 1


def test_failed_journey_messages_are_counted_per_step(
    api: TestClient, journey_worker: JourneyWorker, publish: Any
) -> None:
    spec = {
        "name": "Welcome",
        "trigger": {"type": "customer_created"},
        "steps": [{"id": "hi", "type": "send", "message": "Welcome"}],
    }
    jid = api.post("/api/journeys", json=spec).json()["id"]
    api.post(f"/api/journeys/{jid}/activate")
    publish(CustomersUpserted(customers=[customer("f1"), customer("f2")]))
    drain(journey_worker)
    failed = FailedMessage(
        message_id=f"{jid}.hi.1:f1",
        campaign_id=f"{jid}.hi.1",
        customer_id="f1",
        reason="capped",
        at=datetime.now(UTC),
    )
    publish(MessagesFailed(messages=[failed]))
    publish(MessagesFailed(messages=[failed]))  # delivered twice: counted once
    drain(journey_worker)
    [step] = api.get(f"/api/journeys/{jid}/stats").json()["steps"]
    assert step == {"id": "hi", "entered": 2, "waiting": 0, "sent": 2, "failed": 1}


def test_a_paused_journey_holds_its_waiting_customers_until_activated(
    api: TestClient, journey_worker: JourneyWorker, publish: Any, clean_env: CleanEnv
) -> None:
    jid = api.post("/api/journeys", json=FIRST_ORDER).json()["id"]
    api.post(f"/api/journeys/{jid}/activate")
    publish(CustomersUpserted(customers=[customer("p1")]))
    publish(OrdersRecorded(orders=[order("po1", "p1")]))
    drain(journey_worker)
    api.post(f"/api/journeys/{jid}/pause")
    journey_worker.timers.catalog.ttl_s = 0  # see the pause at once
    due = datetime.now(UTC) + timedelta(seconds=6)
    assert run_due(journey_worker.timers, due) == 1
    assert sends(clean_env) == []
    assert api.get(f"/api/journeys/{jid}/stats").json()["active"] == 1
    assert run_due(journey_worker.timers, due) == 0  # looked at again later, not at once
    api.post(f"/api/journeys/{jid}/activate")
    assert run_due(journey_worker.timers, due + timedelta(seconds=11)) == 1
    assert sends(clean_env) == [(f"{jid}.s.1", "p1")]


def test_a_pass_leaves_out_the_states_whose_write_is_under_way(
    api: TestClient, journey_worker: JourneyWorker, publish: Any, clean_env: CleanEnv
) -> None:
    """The timer thread writes a pass's states while the next pass runs: that pass must
    not run them again (their write is held here until the next pass has published)."""
    jid = first_orders_waiting(api, journey_worker, publish, "p", 30)
    now = datetime.now(UTC) + timedelta(seconds=6)
    store = journey_worker.store
    deps = replace(journey_worker.timers, batch=10)
    gate = threading.Event()
    write_states = store.write_states

    def held_write(docs: Any, expected: Any) -> None:
        gate.wait(30)
        write_states(docs, expected)

    store.write_states = held_write  # type: ignore[method-assign]
    writer = StateWriter(store)
    try:
        assert run_due(deps, now, writer) == 10  # its write waits at the gate
        second = threading.Thread(target=run_due, args=(deps, now, writer))
        second.start()  # reads, publishes, then waits for the first write
        deadline = time.monotonic() + 20
        while len(sends(clean_env)) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        got = sends(clean_env)
        assert len(got) == len(set(got)) == 20
        assert store.count_states({"journey_id": jid, "status": "waiting"}) == 30
        gate.set()
        second.join(timeout=30)
        assert run_due(deps, now, writer) == 10
        writer.wait()
        assert run_due(deps, now, writer) == 0
    finally:
        gate.set()
        writer.close()
    assert store.count_states({"journey_id": jid, "status": "completed"}) == 30
    got = sends(clean_env)
    assert len(got) == len(set(got)) == 30
