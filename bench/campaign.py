"""Campaign throughput: launch to every receipt applied and the stats final."""

from __future__ import annotations

import time
from typing import Any

from bench import data
from bench.ingestion import signed_in
from bench.report import Figure
from tests.support.stack import RunningStack

MESSAGE = "Hi {name}, your {city} store has 10% off for you this week."


def run_campaign(stack: RunningStack, size: int, deadline_s: float) -> dict[str, Any]:
    """Create a campaign of exactly ``size`` recipients and wait for its final stats."""
    with signed_in(stack) as client:
        started = time.perf_counter()
        response = client.post(
            "/api/campaigns",
            json={
                "name": f"bench {size}",
                "segmentRules": data.campaign_rules(size),
                "message": MESSAGE,
                "channel": "email",
            },
        )
        response.raise_for_status()
        campaign_id = response.json()["id"]
        doc: dict[str, Any] = {}
        while time.perf_counter() - started < deadline_s:
            doc = client.get(f"/api/campaigns/{campaign_id}").json()
            finals = int(doc.get("delivered", 0)) + int(doc.get("failed", 0))
            if doc.get("status") in ("completed", "cancelled") and finals >= size:
                break
            if doc.get("status") in ("completed", "cancelled"):
                break  # final with fewer finals than recipients: reported, not waited on
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
    finals = int(doc.get("delivered", 0)) + int(doc.get("failed", 0))
    return {
        "id": campaign_id,
        "seconds": elapsed,
        "status": doc.get("status"),
        "audience": doc.get("audienceSize"),
        "delivered": doc.get("delivered"),
        "failed": doc.get("failed"),
        "finals": finals,
        "complete": doc.get("status") == "completed" and finals == size,
    }


def describe(run: dict[str, Any], size: int) -> str:
    state = (
        "completed"
        if run["complete"]
        else f"NOT COMPLETE: status {run['status']}, {run['finals']:,} of {size:,} final"
    )
    return (
        f"POST /api/campaigns (gateway) for {size:,} recipients, until status completed and "
        f"delivered+failed = audience: {run['seconds']:.1f} s, audience {run['audience']}, "
        f"delivered {run['delivered']}, failed {run['failed']} ({state})"
    )


def throughput(stack: RunningStack, size: int, deadline_s: float) -> list[Figure]:
    run = run_campaign(stack, size, deadline_s)
    rate = run["finals"] / run["seconds"] if run["finals"] else None
    return [
        Figure("campaign_1m_messages_per_s", rate, "messages/s", describe(run, size), ">= 10,000"),
        Figure("campaign_1m_seconds", run["seconds"], "s", "same run", "<= 100"),
    ]


def single_message_requests(stack: RunningStack, size: int, deadline_s: float) -> Figure:
    """The same, with the delivery send worker calling the vendor one message per request."""
    stack.env = {**stack.env, "DELIVERY_VENDOR_BATCH_SIZE": "1"}
    stack.kill("send-worker")  # idle between campaigns: nothing pending is lost
    stack.start("send-worker")
    run = run_campaign(stack, size, deadline_s)
    rate = run["finals"] / run["seconds"] if run["finals"] else None
    return Figure(
        "campaign_100k_single_messages_per_s",
        rate,
        "messages/s",
        "DELIVERY_VENDOR_BATCH_SIZE=1 (send worker restarted): " + describe(run, size),
    )
