"""Delivery and the vendor as real processes: send entries in, receipts back through
the signed webhook, every message final exactly once, also across a kill -9."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from libs.common.testing.pytest_plugin import wait_until
from tests.delivery.conftest import WEBHOOK_SECRET, chunk, publish, recipients, vendor_stats

pytestmark = pytest.mark.integration

CHUNK = 200


@pytest.fixture
def stack(clean_env: Any, vendor: Any, spawn: Any) -> dict[str, Any]:
    env = clean_env.env(
        VENDOR_WEBHOOK_SECRET=WEBHOOK_SECRET,
        DELIVERY_VENDOR_URL=vendor.url,
        DELIVERY_VENDOR_BATCH_SIZE="100",
        DELIVERY_AUTOPAUSE_WINDOW="100000",
    )
    api = spawn("delivery-api", env=env, app="services.delivery.app:create_app")
    env["DELIVERY_RECEIPT_CALLBACK_URL"] = f"{api.url}/api/deliveries/receipts"
    return {"env": env, "api": api, "vendor": vendor}


def start_worker(spawn: Any, env: dict[str, str]) -> Any:
    return spawn("delivery-worker", env=env, module="services.delivery.worker", args=["all"])


def final_counts(clean_env: Any, campaign_id: str) -> dict[str, int]:
    pipeline = [
        {"$match": {"campaign_id": campaign_id}},
        {"$group": {"_id": "$status", "n": {"$sum": 1}}},
    ]
    return {d["_id"]: d["n"] for d in clean_env.db("delivery").communications.aggregate(pipeline)}


def publish_campaign(deps: Any, campaign_id: str, total: int) -> None:
    chunks = [
        chunk(campaign_id, recipients(min(CHUNK, total - start), start), number=n)
        for n, start in enumerate(range(0, total, CHUNK))
    ]
    publish(deps, chunks)


def assert_exactly_once(
    clean_env: Any, stack: dict[str, Any], campaign_id: str, total: int
) -> None:
    counts = wait_until(
        lambda: (
            (c := final_counts(clean_env, campaign_id))
            and c.get("delivered", 0) + c.get("failed", 0) == total
            and c
        ),
        timeout=60,
        interval=0.5,
    )
    stats = vendor_stats(stack["vendor"])
    assert stats["accepted"] == total
    assert stats["duplicateClientRefs"] == 0
    assert sum(counts.values()) == total
    sigma = math.sqrt(total * 0.9 * 0.1)
    assert abs(counts["delivered"] - 0.9 * total) < 4.5 * sigma
    comms = clean_env.db("delivery").communications
    sample = comms.find_one({"_id": f"{campaign_id}:cu7"})
    assert sample["body"] == "Hi Person7, you spent 107"


def test_every_message_reaches_a_final_status_once(clean_env, deps, stack, spawn) -> None:
    start_worker(spawn, stack["env"])
    publish_campaign(deps, "e1", 1000)
    assert_exactly_once(clean_env, stack, "e1", 1000)


def test_kill_9_of_the_worker_mid_campaign_loses_and_duplicates_nothing(
    clean_env, deps, stack, spawn
) -> None:
    worker = start_worker(spawn, stack["env"])
    publish_campaign(deps, "e2", 3000)
    comms = clean_env.db("delivery").communications
    wait_until(
        lambda: comms.count_documents({"campaign_id": "e2"}) >= 500, timeout=30, interval=0.05
    )
    worker.kill()
    killed_at = comms.count_documents({"campaign_id": "e2"})
    assert killed_at < 3000, "the worker finished before it could be killed"
    time.sleep(0.5)
    start_worker(spawn, stack["env"])
    assert_exactly_once(clean_env, stack, "e2", 3000)
