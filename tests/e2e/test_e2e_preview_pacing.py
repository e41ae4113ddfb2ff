"""Issue #24: "campaign previews say how many will be deferred or capped", through the
gateway with every service as a real process. Quiet hours hold now in Tokyo and the
cap is one message a day: after a first campaign, the next campaign's preview counts
the Tokyo members as deferred and the first campaign's recipients as capped, and
launching it gives exactly that many rows the final status ``capped``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from libs.common.testing.pytest_plugin import wait_until
from tests.e2e.test_campaign_flow import all_communications, ingest, launch, wait_for_customers
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

TOKYO, ELSEWHERE, FIRST = 10, 20, 8  # FIRST of ELSEWHERE get the first campaign
EVERYONE = {
    "operator": "AND",
    "conditions": [{"field": "name", "operator": "contains", "value": "Pace"}],
}
FIRST_RULES = {
    "operator": "AND",
    "conditions": [{"field": "name", "operator": "contains", "value": "Pace first"}],
}


@pytest.fixture(scope="module")
def client(stack: RunningStack) -> Iterator[httpx.Client]:
    signed_in = stack.client()
    yield signed_in
    signed_in.put("/api/settings/delivery", json={})
    signed_in.close()


def quiet_now_in(zone_name: str) -> dict[str, str]:
    """Quiet hours holding now in ``zone_name``, not in UTC (9 h behind Tokyo)."""
    local = datetime.now(UTC).astimezone(ZoneInfo(zone_name))
    return {
        "start": (local - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local + timedelta(hours=2)).strftime("%H:%M"),
    }


def people() -> list[dict]:
    tokyo = [
        # two of them match the first campaign too: deferred, so never counted by the cap
        {
            "id": f"pt{i}",
            "name": f"Pace {'first ' if i < 2 else ''}tokyo{i}",
            "timezone": "Asia/Tokyo",
        }
        for i in range(TOKYO)
    ]
    others = [
        {"id": f"pu{i}", "name": f"Pace {'first ' if i < FIRST else ''}utc{i}"}
        for i in range(ELSEWHERE)
    ]
    facts = {"totalSpends": 100, "visits": 1, "lastVisit": "2026-01-15T10:30:00Z"}
    return [{**p, **facts, "email": f"{p['id']}@example.com"} for p in [*tokyo, *others]]


def preview(client: httpx.Client, rules: dict, **extra: str) -> dict:
    answer = client.post("/api/customers/preview", json={"rules": rules, "sampleSize": 0, **extra})
    assert answer.status_code == 200, answer.text
    return answer.json()


def rows_by_status(client: httpx.Client, campaign_id: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in all_communications(client, campaign_id):
        out.setdefault(row["status"], set()).add(row["customerId"])
    return out


def test_the_preview_counts_deferred_and_capped_and_the_launch_agrees(
    client: httpx.Client,
) -> None:
    policy = {
        "quietHours": quiet_now_in("Asia/Tokyo"),
        "frequencyCap": {"messages": 1, "perDays": 1},
    }
    assert client.put("/api/settings/delivery", json=policy).status_code == 200
    time.sleep(2.5)  # delivery reads the policy at most every 2 s
    ingest(client, people())
    wait_for_customers(client, TOKYO + ELSEWHERE, timeout=120)
    # the preview knows the policy as soon as ingest kept it: Tokyo's members wait
    wait_until(lambda: preview(client, EVERYONE)["deferred"] == TOKYO, timeout=60, interval=0.5)
    assert preview(client, EVERYONE)["capped"] == 0

    first = launch(client, "Pace first", FIRST_RULES)
    final = {"delivered", "failed"}

    def first_final() -> set[str] | None:
        rows = rows_by_status(client, first["id"])
        done = {c for s in final for c in rows.get(s, set())}
        return done if len(done) == FIRST else None

    recipients = wait_until(first_final, timeout=120, interval=1)
    assert all(c.startswith("pu") for c in recipients)  # the two in Tokyo wait

    # delivery announced who reached the cap; ingest's read model counts them. The
    # simulated vendor refuses a few addresses for good ("invalid address": suppressed)
    # or answers "unsubscribed" (an opt-out): either way they leave the audience.
    def gone(answer: dict) -> int:
        return int(answer["excluded"]["suppressed"]) + int(answer["excluded"]["unsubscribed"])

    def settled() -> dict | None:
        answer = preview(client, EVERYONE)
        return answer if answer["capped"] + gone(answer) == FIRST else None

    before = wait_until(settled, timeout=60, interval=0.5)
    left = gone(before)
    assert before["count"] == TOKYO + ELSEWHERE - left
    assert (before["deferred"], before["capped"]) == (TOKYO, FIRST - left)
    assert before["capped"] > 0
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    assert preview(client, EVERYONE, sendAt=later)["capped"] == 0  # the caps will have freed

    second = launch(client, "Pace everyone", EVERYONE)

    def second_settled() -> dict[str, set[str]] | None:
        rows = rows_by_status(client, second["id"])
        handled = sum(len(v) for s, v in rows.items() if s in final | {"sent", "capped"})
        return rows if handled == ELSEWHERE - left else None

    rows = wait_until(second_settled, timeout=120, interval=1)
    assert len(rows.get("capped", set())) == before["capped"]
    assert rows["capped"] <= recipients  # the first campaign's recipients, still members
    # the deferred ones have no row yet: they leave when Tokyo's quiet hours end
    assert not any(c.startswith("pt") for v in rows.values() for c in v)
    assert before["count"] - sum(len(v) for v in rows.values()) == before["deferred"]
