"""How long a pause takes to stop a campaign that is sending: ``campaign_pause_settle_ms``.

A campaign of up to 100,000 recipients is launched; once the vendor has taken a tenth
of it, the campaign is paused through the gateway. From the pause answer, the vendor's
count of accepted messages is read every ``POLL_S`` for ``WATCH_S``: the figure is the
time from the answer to its last increase (0 when nothing left after the answer). The
vendor's own count is what left, without the lag of the campaign's counters. The
campaign is cancelled afterwards, so the stack is idle for the next phase.
"""

from __future__ import annotations

import time

import httpx

from bench import data
from bench.campaign import MESSAGE
from bench.ingestion import signed_in
from bench.report import Figure
from tests.support.stack import RunningStack

SIZE = 100_000
POLL_S = 0.01
WATCH_S = 5.0


def _accepted(vendor: httpx.Client) -> int:
    return int(vendor.get("/vendor/stats").json()["accepted"])


def settle(stack: RunningStack, customers: int, deadline_s: float = 300) -> Figure:
    size = min(SIZE, customers)
    with (
        signed_in(stack) as client,
        httpx.Client(base_url=stack.layout.url("vendor_sim"), timeout=30) as vendor,
    ):
        before = _accepted(vendor)
        answer = client.post(
            "/api/campaigns",
            json={
                "name": f"bench pause {size}",
                "segmentRules": data.campaign_rules(size),
                "message": MESSAGE,
                "channel": "email",
            },
        )
        answer.raise_for_status()
        campaign_id = answer.json()["id"]
        started = time.perf_counter()
        while _accepted(vendor) - before < size // 10:
            if time.perf_counter() - started > deadline_s:
                raise TimeoutError(f"the campaign did not reach {size // 10:,} sent")
            time.sleep(0.05)
        paused = client.post(f"/api/campaigns/{campaign_id}/pause")
        answered = time.perf_counter()
        paused.raise_for_status()
        at_answer = last = _accepted(vendor)
        last_change = answered
        while time.perf_counter() - answered < WATCH_S:
            now = _accepted(vendor)
            if now != last:
                last, last_change = now, time.perf_counter()
            time.sleep(POLL_S)
        client.post(f"/api/campaigns/{campaign_id}/cancel").raise_for_status()
    settle_ms = (last_change - answered) * 1000
    return Figure(
        "campaign_pause_settle_ms",
        settle_ms,
        "ms",
        f"a {size:,}-recipient campaign paused (gateway) once the vendor had taken "
        f"{size // 10:,}: from the pause answer to the vendor's last accepted message "
        f"(its count polled every {POLL_S * 1000:.0f} ms for {WATCH_S:.0f} s); "
        f"{at_answer - before:,} accepted at the answer, {last - at_answer:,} after it",
        "< 1,000",
    )
