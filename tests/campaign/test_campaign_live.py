"""Live figures: server-sent events in-process, and the API and worker as processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from campaign_helpers import drain, entries_of, rules_over
from fastapi.testclient import TestClient

from libs.common.events import (
    AudienceResolved,
    MessagesSent,
    Receipt,
    ReceiptsReceived,
    SentMessage,
    message_id,
)
from libs.common.testing.pytest_plugin import CleanEnv, wait_until
from services.campaign.app import create_app
from services.campaign.settings import CampaignSettings
from services.campaign.worker import Worker

pytestmark = pytest.mark.integration

Publish = Callable[..., list[str]]


def flow(cid: str, customers: list[str]) -> list[object]:
    now = datetime.now(UTC)
    return [
        AudienceResolved(campaign_id=cid, total=len(customers), resolved_at=now),
        MessagesSent(
            messages=[
                SentMessage(
                    message_id=message_id(cid, c),
                    campaign_id=cid,
                    customer_id=c,
                    vendor_message_id=f"v{c}",
                    at=now,
                )
                for c in customers
            ]
        ),
        ReceiptsReceived(
            receipts=[
                Receipt(
                    message_id=message_id(cid, c),
                    campaign_id=cid,
                    customer_id=c,
                    vendor_message_id=f"v{c}",
                    status="DELIVERED",
                    at=now,
                )
                for c in customers
            ]
        ),
    ]


def parse_sse(text: str) -> tuple[list[dict[str, object]], int]:
    events, keepalives = [], 0
    for block in text.split("\n\n"):
        if block.startswith(": keepalive"):
            keepalives += 1
        elif block.startswith("event: stats\ndata: "):
            events.append(orjson.loads(block.split("data: ", 1)[1]))
    return events, keepalives


def test_sse_pushes_changed_figures_and_ends_after_completion(
    settings: CampaignSettings, worker: Worker, publish: Publish
) -> None:
    live = settings.model_copy(update={"sse_poll_interval_s": 0.05, "sse_keepalive_s": 0.3})
    headers = {"X-Internal-Token": settings.internal_token}
    with TestClient(create_app(live), headers=headers) as api:
        body = {"name": "live", "segmentRules": rules_over(1), "message": "Hi {name}"}
        cid = api.post("/api/campaigns", json=body).json()["id"]
        first, rest = flow(cid, ["a", "b"])[:1], flow(cid, ["a", "b"])[1:]
        publish(*first)
        drain(worker)

        def progress_later() -> None:
            time.sleep(1.0)
            publish(*rest)
            drain(worker)

        helper = threading.Thread(target=progress_later)
        helper.start()
        started = time.monotonic()
        response = api.get(f"/api/campaigns/{cid}/events")
        helper.join()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events, keepalives = parse_sse(response.text)
    assert events[0]["status"] == "running" and events[0]["pending"] == 2
    assert events[-1]["status"] == "completed"
    assert (events[-1]["delivered"], events[-1]["pending"]) == (2, 0)
    assert keepalives >= 1  # nothing changed for a second
    assert len(events) <= 2 + (time.monotonic() - started) / 0.05  # only on change
    assert all(a != b for a, b in zip(events, events[1:], strict=False))


def test_sse_of_an_unknown_campaign_is_a_404(api: TestClient) -> None:
    assert api.get("/api/campaigns/cmp_nope/events").status_code == 404


def test_api_and_worker_processes_run_a_campaign_to_completion(
    clean_env: CleanEnv, spawn: Callable[..., object], publish: Publish
) -> None:
    env = clean_env.env(CAMPAIGN_SCHEDULER_INTERVAL_S="0.2")
    api = spawn("campaign-api", env=env, app="services.campaign.app:create_app")
    worker = spawn("campaign-worker", env=env, module="services.campaign.worker")
    headers = {"X-Internal-Token": clean_env.internal_token}
    body = {"name": "proc", "segmentRules": rules_over(1), "message": "Hi {firstName}"}
    created = httpx.post(f"{api.url}/api/campaigns", json=body, headers=headers)  # type: ignore[attr-defined]
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert [
        e.campaign_id
        for e in entries_of(
            clean_env.redis,
            "segment",  # type: ignore[attr-defined]
            "campaign.launched.v1",
        )
    ] == [cid]
    publish(*flow(cid, [f"c{i}" for i in range(50)]))

    def status() -> str | None:
        doc = httpx.get(f"{api.url}/api/campaigns/{cid}", headers=headers).json()  # type: ignore[attr-defined]
        return doc["status"] if doc["status"] == "completed" else None

    wait_until(status, timeout=30)
    doc = httpx.get(f"{api.url}/api/campaigns/{cid}", headers=headers).json()  # type: ignore[attr-defined]
    assert (doc["sent"], doc["delivered"], doc["deliveryRate"]) == (50, 50, 100.0)
    assert len(entries_of(clean_env.redis, "campaign_events", "campaign.completed.v1")) == 1
    assert worker.stop() == 0  # type: ignore[attr-defined]
