"""A campaign that stalls with members waiting is replayed from its stored audience:
the stall rule (pure) and the scheduler publishing the replay once per interval."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from campaign_helpers import drain, entries_of
from fastapi.testclient import TestClient
from test_campaign_worker import campaign, launch, receipts, resolved, sent

from libs.common.events import MessagesDeferred
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.testing.pytest_plugin import CleanEnv
from services.campaign.settings import CampaignSettings
from services.campaign.stall import StallWatch
from services.campaign.worker import Worker, build_worker

Publish = Callable[..., list[str]]


def doc(status: str, audience: int | None, **counts: int) -> dict[str, Any]:
    base: dict[str, Any] = {"_id": "c1", "status": status, "counts": counts}
    if audience is not None:
        base["audience_size"] = audience
    return base


@pytest.mark.unit
def test_a_campaign_is_stalled_only_after_waiting_unchanged_for_the_interval() -> None:
    watch = StallWatch(after_s=10)
    running = doc("running", 3, sent=1, delivered=1)
    assert not watch.stalled(running, 0)
    assert not watch.stalled(running, 9.9)
    assert watch.stalled(running, 10)
    assert not watch.stalled(running, 15)  # reported once per interval
    assert watch.stalled(running, 20)
    moved = doc("running", 3, sent=1, delivered=2)
    assert not watch.stalled(moved, 31)  # progress restarts the clock
    assert not watch.stalled(moved, 40)
    assert watch.stalled(moved, 41)


@pytest.mark.unit
def test_paused_finished_and_unlaunched_campaigns_never_stall() -> None:
    watch = StallWatch(after_s=1)
    for still in (
        doc("paused", 3, sent=1),
        doc("running", 2, delivered=1, failed=1),  # every member final
        doc("scheduled", None),
        doc("completed", 2, delivered=2),
    ):
        assert not watch.stalled(still, 0) and not watch.stalled(still, 100)
    launching = doc("launching", None)  # its launch entry may be the one lost
    assert not watch.stalled(launching, 0) and watch.stalled(launching, 1)


@pytest.fixture
def quick(clean_env: CleanEnv) -> Iterator[Worker]:
    settings = CampaignSettings(recompute_interval_s=0, refresh_interval_s=0.01, replay_after_s=0.3)
    client = make_redis(settings.redis_url, block_ms=200)
    mongo = make_client(settings.mongodb_uri)
    yield build_worker(settings, client, mongo)
    mongo.close()
    client.close()


def replays(clean_env: CleanEnv, cid: str) -> list[Any]:
    launched = entries_of(clean_env.redis, "segment", "campaign.launched.v1")
    return [e for e in launched if e.campaign_id == cid and e.replay]  # type: ignore[attr-defined]


@pytest.mark.integration
def test_a_stalled_running_campaign_is_replayed_once_per_interval_by_any_replica(
    api: TestClient, quick: Worker, publish: Publish, clean_env: CleanEnv
) -> None:
    cid = launch(api)
    publish(resolved(cid, 3), sent(cid, "a", "b"), receipts(cid, ("a", "DELIVERED")))
    drain(quick)
    other = build_worker(quick.progress.settings, clean_env.redis, clean_env.mongo)
    quick.progress.tick()
    other.progress.tick()
    assert replays(clean_env, cid) == []
    time.sleep(0.35)
    quick.progress.tick()
    other.progress.tick()  # stalled too, but the replay of this interval is taken
    [replay] = replays(clean_env, cid)
    assert replay.message == "Hi {name}" and replay.rules == campaign(api, cid)["segmentRules"]
    assert quick.store.campaigns.find_one({"_id": cid})["replays"] == 1  # type: ignore[index]
    # the members' states arrive: it moves, then finishes, and is never replayed again
    publish(sent(cid, "c"), receipts(cid, ("b", "DELIVERED"), ("c", "FAILED")))
    drain(quick)
    time.sleep(0.35)
    quick.progress.tick()
    time.sleep(0.35)
    quick.progress.tick()
    assert campaign(api, cid)["status"] == "completed"
    assert len(replays(clean_env, cid)) == 1


@pytest.mark.integration
def test_a_paused_campaign_is_not_replayed(
    api: TestClient, quick: Worker, publish: Publish, clean_env: CleanEnv
) -> None:
    cid = launch(api)
    publish(resolved(cid, 3), sent(cid, "a"))
    drain(quick)
    assert api.post(f"/api/campaigns/{cid}/pause").status_code == 200
    for _ in range(3):
        quick.progress.tick()
        time.sleep(0.2)
    assert replays(clean_env, cid) == []


@pytest.mark.integration
def test_no_replay_while_the_pipeline_still_holds_work(
    api: TestClient, quick: Worker, publish: Publish, clean_env: CleanEnv
) -> None:
    cid = launch(api)
    publish(resolved(cid, 3), sent(cid, "a"))
    drain(quick)
    client = clean_env.redis
    client.xgroup_create("send", "send", id="$", mkstream=True)
    entry = client.xadd("send", {"type": "send.requested.v1", "data": "{}"})  # unread
    quick.progress.tick()
    time.sleep(0.35)
    quick.progress.tick()
    assert replays(clean_env, cid) == []  # a slow sender is not a loss
    client.xreadgroup("send", "sender", {"send": ">"})
    client.xack("send", "send", entry)
    gone = client.xadd("send", {"type": "send.requested.v1", "data": "{}"})
    client.xdel("send", gone)  # lost: Redis's lag still counts it, nothing can read it
    time.sleep(0.35)
    quick.progress.tick()
    assert len(replays(clean_env, cid)) == 1


@pytest.mark.integration
def test_a_campaign_waiting_for_deferred_messages_is_not_replayed_before_they_are_due(
    api: TestClient, quick: Worker, publish: Publish, clean_env: CleanEnv
) -> None:
    cid = launch(api)
    soon = datetime.now(UTC) + timedelta(seconds=3)
    publish(resolved(cid, 3), sent(cid, "a"))
    publish(MessagesDeferred(campaign_id=cid, customer_ids=["b", "c"], until=soon))
    drain(quick)
    while datetime.now(UTC) < soon - timedelta(seconds=0.5):
        quick.progress.tick()
        time.sleep(0.35)
    assert replays(clean_env, cid) == []  # unchanged for many intervals, but by design
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.35)
    quick.progress.tick()
    assert len(replays(clean_env, cid)) == 1  # due and still nothing: a loss
