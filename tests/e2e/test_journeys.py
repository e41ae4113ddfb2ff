"""Journeys end to end through the gateway: the whole stack as processes, on a Redis
with AOF that a test restarts, and the shared database.

- a first-order journey (wait 5 s, then a branch): a customer who orders again inside
  the wait converts and gets nothing; one who does not gets the message once;
- kill -9 of the journey worker and a Redis restart while customers wait: each gets
  exactly one message after the wait;
- quiet hours defer a message in the recipient's zone; the frequency cap spans a
  campaign and a journey.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from libs.common.testing.pytest_plugin import wait_until
from tests.e2e.test_campaign_flow import all_communications, wait_completed
from tests.support.restartable import RestartableServer, redis_with_aof
from tests.support.stack import RunningStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

WAITING = int(os.environ.get("CRM_JOURNEY_E2E_WAITING", "10000"))
PHONE = "+15550001111"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[RestartableServer]:
    server = redis_with_aof(tmp_path_factory.mktemp("journey-redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def jstack(redis_server, mongo_uri, tmp_path_factory) -> Iterator[RunningStack]:
    with running_stack(
        redis_url=f"redis://127.0.0.1:{redis_server.port}/0",
        mongo_uri=mongo_uri,
        db_prefix=f"ej{os.getpid()}_",
        logdir=tmp_path_factory.mktemp("journey-logs"),
        extra_env={"CAMPAIGN_JOURNEY_LEASE_S": "3", "VENDOR_SUCCESS_RATE": "1"},
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def client(jstack) -> Iterator[httpx.Client]:
    signed_in = jstack.client()
    yield signed_in
    signed_in.close()


def customers(prefix: str, count: int, **extra: object) -> list[dict]:
    return [
        {
            "id": f"{prefix}{i}",
            "name": f"Ann {prefix}{i}",
            "phone": PHONE,
            "email": f"{prefix}{i}@example.com",
            "totalSpends": 0,
            "visits": 0,
            **extra,
        }
        for i in range(count)
    ]


def post_all(client: httpx.Client, kind: str, records: list[dict]) -> None:
    for start in range(0, len(records), 2000):
        part = records[start : start + 2000]
        response = client.post(f"/api/{kind}/batch", json={kind: part})
        assert response.status_code == 202, response.text


def orders(prefix: str, ids: list[str]) -> list[dict]:
    return [{"id": f"{prefix}{cid}", "customerId": cid, "amount": 100} for cid in ids]


def journey(client: httpx.Client, spec: dict) -> str:
    created = client.post("/api/journeys", json=spec)
    assert created.status_code == 201, created.text
    jid = created.json()["id"]
    activated = client.post(f"/api/journeys/{jid}/activate")
    assert activated.json()["status"] == "active", activated.text
    time.sleep(1.2)  # the journey worker reads the active journeys at most every second
    return str(jid)


def stats(client: httpx.Client, jid: str) -> dict:
    response = client.get(f"/api/journeys/{jid}/stats")
    assert response.status_code == 200, response.text
    return dict(response.json())


def message_rows(client: httpx.Client, jid: str, step: str) -> list[dict]:
    return all_communications(client, f"{jid}.{step}.1")


def vendor_stats(stack: RunningStack) -> dict:
    return dict(httpx.get(f"{stack.layout.url('vendor_sim')}/vendor/stats").json())


def vendor_accepted(stack: RunningStack) -> int:
    return int(vendor_stats(stack)["accepted"])


def first_order_spec(name: str, wait_s: int) -> dict:
    return {
        "name": name,
        "trigger": {"type": "order_placed", "firstOrder": True},
        "steps": [
            {"id": "wait", "type": "wait", "seconds": wait_s},
            {
                "id": "again",
                "type": "branch",
                "orderedSinceEntry": True,
                "then": [{"id": "done", "type": "exit"}],
                "else": [
                    {
                        "id": "code",
                        "type": "send",
                        "channel": "sms",
                        "message": "10% off, {firstName}",
                    }
                ],
            },
        ],
        "goal": {"event": "order_placed"},
        "reentry": "never",
    }


def test_first_order_journey_converts_the_reorderer_and_messages_the_other_once(client):
    jid = journey(client, first_order_spec("First order", 5))
    post_all(client, "customers", customers("fo", 2))
    post_all(client, "orders", orders("o1-", ["fo0", "fo1"]))
    wait_until(lambda: stats(client, jid)["entered"] == 2, timeout=30, interval=0.3)
    post_all(client, "orders", orders("o2-", ["fo1"]))  # inside the wait
    wait_until(lambda: stats(client, jid)["converted"] == 1, timeout=30, interval=0.3)
    wait_until(lambda: stats(client, jid)["completed"] == 1, timeout=40, interval=0.5)
    wait_until(lambda: len(message_rows(client, jid, "code")) == 1, timeout=30, interval=0.5)
    [row] = message_rows(client, jid, "code")
    assert row["customerId"] == "fo0"
    final = stats(client, jid)
    assert final["converted"] == 1 and final["completed"] == 1 and final["active"] == 0
    assert {s["id"]: s["sent"] for s in final["steps"]}["code"] == 1
    timeline = client.get("/api/customers/fo1/journeys").json()["items"]
    assert timeline[0]["status"] == "converted"
    viewer = client.get(f"/api/journeys/{jid}")
    assert viewer.status_code == 200 and viewer.json()["steps"][1]["else"][0]["id"] == "code"
    # archived: the next tests' first orders do not enter it
    assert client.post(f"/api/journeys/{jid}/archive").json()["status"] == "archived"


def test_killed_worker_and_redis_restart_while_waiting_message_everyone_once(
    client, jstack, redis_server
):
    started = time.monotonic()
    wait_s = 15 + WAITING // 500  # every customer enters and waits before the first kill
    accepted_before = vendor_accepted(jstack)
    jid = journey(client, first_order_spec("Crash while waiting", wait_s))
    people = customers("kw", WAITING)
    post_all(client, "customers", people)
    post_all(client, "orders", orders("ko-", [p["id"] for p in people]))
    wait_until(
        lambda: stats(client, jid)["active"] == WAITING, timeout=60 + WAITING / 200, interval=0.5
    )
    jstack.kill("journey-worker")  # kill -9 while every customer waits
    assert stats(client, jid)["steps"][-1]["sent"] == 0, "the wait ended before the kill"
    redis_server.stop()
    redis_server.start()
    jstack.start("journey-worker")
    # once sends begin, kill it again mid-pass: its leased customers are taken over
    wait_until(lambda: stats(client, jid)["steps"][-1]["sent"] > 0, timeout=60, interval=0.2)
    jstack.kill("journey-worker")
    jstack.start("journey-worker")
    finish_s = 90 + WAITING / 100
    wait_until(lambda: stats(client, jid)["completed"] == WAITING, timeout=finish_s, interval=1)
    wait_until(
        lambda: len(message_rows(client, jid, "code")) == WAITING, timeout=finish_s, interval=1
    )
    rows = message_rows(client, jid, "code")
    assert len({r["customerId"] for r in rows}) == WAITING
    vendor = vendor_stats(jstack)
    assert vendor["duplicateClientRefs"] == 0, vendor
    assert vendor["accepted"] == accepted_before + WAITING, vendor
    client.post(f"/api/journeys/{jid}/archive")
    sys.stdout.write(
        f"\n[journeys] {WAITING} waiting, kill -9 x2 + redis restart: "
        f"{time.monotonic() - started:.1f}s\n"
    )


def quiet_now(zone_name: str) -> dict:
    local = datetime.now(UTC).astimezone(ZoneInfo(zone_name))
    return {
        "start": (local - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local + timedelta(hours=2)).strftime("%H:%M"),
    }


def test_quiet_hours_defer_and_the_cap_spans_a_campaign_and_a_journey(client):
    jid = journey(
        client,
        {
            "name": "Welcome",
            "trigger": {"type": "customer_created"},
            "steps": [{"id": "hi", "type": "send", "channel": "sms", "message": "Welcome {name}"}],
        },
    )
    quiet = quiet_now("Asia/Tokyo")
    put = client.put("/api/settings/delivery", json={"quietHours": quiet})
    assert put.status_code == 200, put.text
    assert client.get("/api/settings/delivery").json()["quietHours"] == quiet
    time.sleep(2.5)  # delivery reads the policy at most every 2 s
    post_all(client, "customers", [*customers("qa", 1), *customers("qt", 1, timezone="Asia/Tokyo")])
    wait_until(lambda: len(message_rows(client, jid, "hi")) == 1, timeout=30, interval=0.5)
    time.sleep(2)
    assert [r["customerId"] for r in message_rows(client, jid, "hi")] == ["qa0"]  # Tokyo waits

    bad = client.put("/api/settings/delivery", json={"frequencyCap": {"messages": 0, "perDays": 1}})
    assert bad.status_code == 422
    cap = {"frequencyCap": {"messages": 1, "perDays": 1}}
    assert client.put("/api/settings/delivery", json=cap).status_code == 200
    time.sleep(2.5)
    rules = {
        "operator": "AND",
        "conditions": [{"field": "name", "operator": "contains", "value": "Ann cap"}],
    }
    post_all(client, "customers", customers("cap", 1))
    wait_until(lambda: len(message_rows(client, jid, "hi")) == 2, timeout=30, interval=0.5)
    response = client.post(
        "/api/campaigns",
        json={"name": "Capped", "segmentRules": rules, "message": "Sale!", "channel": "sms"},
    )
    assert response.status_code == 201, response.text
    campaign = response.json()
    wait_completed(client, campaign["id"], timeout=60)
    [row] = all_communications(client, campaign["id"])
    assert row["status"] == "capped"  # the journey's welcome used the day's one message
    client.put("/api/settings/delivery", json={})
