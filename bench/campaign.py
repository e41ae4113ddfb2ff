"""Campaign throughput: launch to every receipt applied and the stats final."""

from __future__ import annotations

import time
from typing import Any

import httpx

from bench import data
from bench.cpu import PhaseCpu
from bench.ingestion import signed_in
from bench.report import Figure
from tests.support.stack import RunningStack

MESSAGE = "Hi {name}, your {city} store has 10% off for you this week."


POLL_S = 0.1


def run_campaign(stack: RunningStack, size: int, deadline_s: float) -> dict[str, Any]:
    """Create a campaign of ``size`` customers and wait until its stats are final
    (completed, delivered + failed = its audience) and every receipt is applied to
    delivery's rows too (one row per recipient, none of them still ``sent``). The audience
    is the campaign's own ``audienceSize``: customers the vendor refused for good in an
    earlier campaign of the run are suppressed (consent), so it may be below ``size``."""
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
            if doc.get("status") in ("completed", "cancelled"):
                break  # final with fewer finals than recipients: reported, not waited on
            time.sleep(POLL_S)
        stats_s = time.perf_counter() - started
        expected = int(doc.get("audienceSize") or size)
        unapplied = rows = -1
        while time.perf_counter() - started < deadline_s:
            unapplied = _rows(client, campaign_id, "sent")
            rows = _rows(client, campaign_id)
            if unapplied == 0 and rows == expected:
                break
            time.sleep(POLL_S)
        elapsed = time.perf_counter() - started
    finals = int(doc.get("delivered", 0)) + int(doc.get("failed", 0))
    return {
        "id": campaign_id,
        "seconds": elapsed,
        "stats_seconds": stats_s,
        "status": doc.get("status"),
        "audience": doc.get("audienceSize"),
        "delivered": doc.get("delivered"),
        "failed": doc.get("failed"),
        "finals": finals,
        "unapplied": unapplied,
        "rows": rows,
        "complete": doc.get("status") == "completed"
        and finals == expected
        and unapplied == 0
        and rows == expected,
    }


def _rows(client: httpx.Client, campaign_id: str, status: str | None = None) -> int:
    """How many of the campaign's communication rows delivery has (of this status)."""
    params: dict[str, Any] = {"pageSize": 1, **({"status": status} if status else {})}
    page = client.get(f"/api/campaigns/{campaign_id}/communications", params=params).json()
    return int(page.get("total", -1))


def describe(run: dict[str, Any], size: int) -> str:
    if run["complete"]:
        state = "completed"
    else:
        state = (
            f"NOT COMPLETE: status {run['status']}, {run['finals']:,} of {size:,} final, "
            f"{run['rows']:,} delivery rows written, {run['unapplied']:,} of them still sent"
        )
    return (
        f"POST /api/campaigns (gateway) for {size:,} recipients, until status completed and "
        f"delivered+failed = audience ({run['stats_seconds']:.1f} s) and every communication "
        f"row written, none still 'sent' (polled every {POLL_S} s): {run['seconds']:.1f} s, "
        f"audience {run['audience']}, delivered {run['delivered']}, "
        f"failed {run['failed']} ({state})"
    )


def throughput(
    stack: RunningStack, size: int, deadline_s: float, servers: dict[str, int] | None = None
) -> list[Figure]:
    """``servers``: the redis and database servers' pids, accounted for beside the stack's."""
    phase_cpu = PhaseCpu({**{n: p.pid for n, p in stack.procs.items()}, **(servers or {})})
    run = run_campaign(stack, size, deadline_s)
    rate = run["finals"] / run["seconds"] if run["finals"] else None
    method = describe(run, size) + ". " + phase_cpu.describe(top=9)
    return [
        Figure("campaign_1m_messages_per_s", rate, "messages/s", method, ">= 10,000"),
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
