"""Pause, resume and cancel pressed while a campaign is sending, through the gateway,
with every service as a real process.

The campaign (20,000 recipients) is held to the per-campaign send rate (1,000 messages
a second), so it sends for 20 s: the controls are pressed mid-send. What left is read
from the vendor itself (its count of accepted messages), what the campaign says from
its live figures.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
import redis

from libs.common.testing.pytest_plugin import wait_until
from services.delivery.settings import DEV_WEBHOOK_SECRET as SECRET
from services.delivery.signing import expected_signature
from tests.e2e.test_campaign_flow import (
    all_communications,
    eligible,
    ingest,
    launch,
    make_customers,
    wait_completed,
    wait_for_customers,
)
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e

AUDIENCE = 20_000
BATCH = 500  # DELIVERY_VENDOR_BATCH_SIZE: what one send worker may have in a vendor call
WINDOW_S = 1.0  # the bound the issue sets on a pause taking effect
EVERYONE = {
    "operator": "AND",
    "conditions": [{"field": "email", "operator": "contains", "value": "@example.com"}],
}
_ids = itertools.count()


@pytest.fixture(scope="module")
def stack(redis_url: str, mongo_uri: str, tmp_path_factory) -> Iterator[RunningStack]:
    # a Redis database of its own: 1 is the other e2e modules', 2 the browser tests'
    stack_redis = redis_url.rsplit("/", 1)[0] + "/11"
    redis.Redis.from_url(stack_redis).flushdb()
    logdir: Path = tmp_path_factory.mktemp("controls-stack-logs")
    env = {
        "DELIVERY_CAMPAIGN_RATE_LIMIT_PER_S": "1000",
        "DELIVERY_VENDOR_BATCH_SIZE": str(BATCH),
        "DELIVERY_SEND_CONCURRENCY": "1",
        "VENDOR_LATENCY_MS": "300",
    }
    with running_stack(
        redis_url=stack_redis,
        mongo_uri=mongo_uri,
        db_prefix=f"ctl{next(_ids)}_",
        logdir=logdir,
        extra_env=env,
    ) as running:
        client = running.client()
        ingest(client, make_customers(AUDIENCE))
        wait_for_customers(client, AUDIENCE)
        yield running


def accepted(stack: RunningStack) -> int:
    """Messages the vendor has taken so far (all campaigns of this stack)."""
    return int(httpx.get(f"{stack.layout.url('vendor_sim')}/vendor/stats").json()["accepted"])


def figures(client: httpx.Client, campaign_id: str) -> dict:
    return client.get(f"/api/campaigns/{campaign_id}/realtime").json()


def wait_sending(client: httpx.Client, campaign_id: str, at_least: int) -> None:
    wait_until(lambda: figures(client, campaign_id)["sent"] >= at_least, timeout=180, interval=0.2)


def test_pause_mid_send_stops_sending_and_resume_sends_the_rest_once(stack: RunningStack):
    client = stack.client()
    campaign = launch(client, "Pause me", EVERYONE)
    wait_sending(client, campaign["id"], 4000)
    answer = client.post(f"/api/campaigns/{campaign['id']}/pause")
    at_answer = accepted(stack)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "paused"
    assert at_answer < AUDIENCE - 2 * BATCH, "the campaign was still sending when paused"

    time.sleep(WINDOW_S)
    after_window = accepted(stack)
    # at most the batch the send worker had inside a vendor call left after the answer
    assert after_window - at_answer <= BATCH
    sent_then = figures(client, campaign["id"])["sent"]
    time.sleep(5)
    assert accepted(stack) == after_window, "a message left after the pause window"
    still = figures(client, campaign["id"])
    assert still["status"] == "paused"
    assert still["sent"] <= after_window < AUDIENCE
    # the live figures catch up with what left, then stay still
    time.sleep(1)
    assert figures(client, campaign["id"])["sent"] == still["sent"] >= sent_then

    resumed = client.post(f"/api/campaigns/{campaign['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    done = wait_completed(client, campaign["id"], timeout=300)
    assert done["audienceSize"] == AUDIENCE
    assert done["sent"] == AUDIENCE
    assert done["delivered"] + done["failed"] == AUDIENCE
    rows = all_communications(client, campaign["id"])
    assert len(rows) == AUDIENCE
    assert len({row["customerId"] for row in rows}) == AUDIENCE, "nobody messaged twice"
    stats = httpx.get(f"{stack.layout.url('vendor_sim')}/vendor/stats").json()
    assert stats["accepted"] == AUDIENCE and stats["duplicateClientRefs"] == 0


def test_cancel_mid_send_stops_sending_and_the_counts_add_up_to_the_audience(
    stack: RunningStack,
):
    client = stack.client()
    before = accepted(stack)
    audience = eligible(client, EVERYONE, AUDIENCE)  # the pause test's vendor failures
    campaign = launch(client, "Cancel me", EVERYONE)
    wait_sending(client, campaign["id"], 3000)
    answer = client.post(f"/api/campaigns/{campaign['id']}/cancel")
    at_answer = accepted(stack) - before
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    time.sleep(WINDOW_S)
    sent = accepted(stack) - before
    assert sent - at_answer <= BATCH
    assert sent < audience

    def settled() -> dict | None:
        body = figures(client, campaign["id"])
        return body if body["sent"] + body["cancelled"] == audience else None

    final = wait_until(settled, timeout=180, interval=0.5)
    assert final["status"] == "cancelled"
    assert final["audienceSize"] == audience
    assert final["sent"] == sent, "every message that left is counted, and only those"
    assert final["cancelled"] == audience - sent
    assert accepted(stack) - before == sent


def post_receipts(
    stack: RunningStack, receipts: list[dict], *, at: int | None = None, secret: str = SECRET
) -> httpx.Response:
    body = orjson.dumps({"receipts": receipts})
    stamp = int(time.time()) if at is None else at
    headers = {
        "content-type": "application/json",
        "X-Vendor-Timestamp": str(stamp),
        "X-Vendor-Signature": expected_signature(secret, body, stamp),
    }
    return httpx.post(f"{stack.url}/api/deliveries/receipts", content=body, headers=headers)


def receipt(client_ref: str, vendor_id: str, status: str = "FAILED") -> dict:
    return {
        "clientRef": client_ref,
        "vendorMessageId": vendor_id,
        "status": status,
        "timestamp": "2026-01-02T03:04:05Z",
        "reason": "forged",
    }


def test_forged_stale_replayed_and_unsent_receipts_change_no_figures(stack: RunningStack):
    client = stack.client()

    def only(number: int) -> dict:
        email = f"c{number}@example"
        return {
            "operator": "AND",
            "conditions": [{"field": "email", "operator": "contains", "value": email}],
        }

    def reachable(rules: dict) -> bool:
        return client.post("/api/customers/preview", json={"rules": rules}).json()["count"] == 1

    # one customer the earlier campaigns' vendor refusals did not suppress (#22)
    one = next(r for r in (only(n) for n in range(3, 100)) if reachable(r))
    sent = launch(client, "Audience of one", one)
    done = wait_completed(client, sent["id"], timeout=120)
    assert done["audienceSize"] == 1
    [row] = all_communications(client, sent["id"])
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    scheduled = client.post(
        "/api/campaigns",
        json={"name": "Later", "segmentRules": one, "message": "Hi", "scheduledAt": later},
    ).json()
    before = {cid: figures(client, cid) for cid in (sent["id"], scheduled["id"])}

    real = receipt(row["id"], row["vendorMessageId"])
    assert post_receipts(stack, [real], secret="not-the-secret").status_code == 401
    assert post_receipts(stack, [real], at=int(time.time()) - 400).status_code == 401
    answer = post_receipts(
        stack,
        [
            # never sent: the audience of one is c000003 or later (c000004 when the
            # earlier campaigns' STOP receipts suppressed c000003)
            receipt(f"{sent['id']}:c000002", "vm_forged"),
            receipt(f"{scheduled['id']}:{row['customerId']}", row["vendorMessageId"]),
            receipt(row["id"], "vm_someone_else"),  # another message's vendor id
            *[receipt(f"{sent['id']}:x{i}", f"vm_{i}") for i in range(210)],
        ],
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == 0
    reasons = [r["reason"] for r in answer.json()["refused"]]
    assert len(reasons) == 213
    assert reasons.count("vendor_id_mismatch") == 1

    # the real message's own receipt is accepted once; a replay of the same post is not
    stamp = int(time.time())
    assert post_receipts(stack, [real], at=stamp).json()["accepted"] == 1
    assert post_receipts(stack, [real], at=stamp).status_code == 409
    time.sleep(3)  # what was accepted has gone through the streams
    for cid, figures_before in before.items():
        now = figures(client, cid)
        for key in ("status", "sent", "delivered", "failed", "pending"):
            assert now[key] == figures_before[key], (cid, key, figures_before, now)
