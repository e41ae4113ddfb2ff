"""Test, then send the winner: the decision and its durable timer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from campaign_helpers import drain, entries_of, rules_over
from fastapi.testclient import TestClient
from test_experiments import delivered, sent

from libs.common.events import AudienceResolved, Experiment
from libs.common.testing.pytest_plugin import CleanEnv
from services.campaign import experiments
from services.campaign.lift import VariantCounts
from services.campaign.winner import WinnerPicker, decide
from services.campaign.worker import Worker

Publish = Callable[..., list[str]]


@pytest.mark.unit
def test_a_planted_better_variant_wins() -> None:
    counts = [VariantCounts("A", 100, 1000), VariantCounts("B", 180, 1000)]
    decision = decide(counts, "conversionRate", 0.95)
    assert (decision["winner"], decision["send"]) == ("B", "B")
    assert decision["comparisons"]["B"]["low"] > 0
    assert decision["figures"]["B"] == {"recipients": 1000, "successes": 180, "rate": 0.18}
    assert "B beats A" in decision["reason"]


@pytest.mark.unit
def test_equal_variants_have_no_winner_and_send_the_control() -> None:
    counts = [VariantCounts("A", 100, 1000), VariantCounts("B", 104, 1000)]
    decision = decide(counts, "deliveryRate", 0.95)
    assert (decision["winner"], decision["send"]) == (None, "A")
    assert "no variant is better than A" in decision["reason"]


@pytest.mark.unit
def test_a_worse_challenger_never_wins() -> None:
    counts = [VariantCounts("A", 300, 1000), VariantCounts("B", 100, 1000)]
    assert decide(counts, "conversionRate", 0.95)["send"] == "A"


@pytest.mark.unit
def test_a_variant_nobody_got_means_the_control() -> None:
    decision = decide([VariantCounts("A", 5, 10), VariantCounts("B", 0, 0)], "deliveryRate", 0.95)
    assert (decision["winner"], decision["send"]) == (None, "A")


def launch_test(api: TestClient, after_s: int) -> tuple[str, Experiment]:
    body: dict[str, Any] = {
        "name": "winner",
        "segmentRules": rules_over(1),
        "variants": [
            {"id": "A", "message": "Hi A", "share": 50},
            {"id": "B", "message": "Hi B", "share": 50},
        ],
        "winner": {"metric": "deliveryRate", "testShare": 50, "afterSeconds": after_s},
    }
    response = api.post("/api/campaigns", json=body)
    assert response.status_code == 201, response.text
    cid = response.json()["id"]
    doc = api.app.state.service.store.get_campaign(cid)  # type: ignore[attr-defined]
    return cid, experiments.to_event(doc["experiment"])


@pytest.mark.integration
def test_due_test_decides_once_by_the_stored_timer_and_announces_it(
    api: TestClient, worker: Worker, publish: Publish, clean_env: CleanEnv
) -> None:
    cid, setup = launch_test(api, after_s=600)
    customers = [f"k{i:03d}" for i in range(400)]
    test = [c for c in customers if setup.assign(cid, c).in_test]
    b_only = [c for c in test if setup.assign(cid, c).group == "B"]
    started = datetime.now(UTC)
    publish(AudienceResolved(campaign_id=cid, total=400, resolved_at=started))
    publish(sent(cid, test), delivered(cid, b_only))  # B delivers, A does not: planted
    drain(worker)
    assert worker.winner.tick(started + timedelta(seconds=599)) == []
    # a new picker (a restarted worker) reads the same stored timer
    picker = WinnerPicker(worker.store, worker.winner.attribution, worker.winner.producer)
    assert picker.tick(started + timedelta(seconds=601)) == [cid]
    assert picker.tick(started + timedelta(seconds=700)) == []  # decided once
    (chosen,) = entries_of(clean_env.redis, "campaign_events", "campaign.winner_chosen.v1")
    assert (chosen.send, chosen.winner, chosen.message) == ("B", "B", "Hi B")  # type: ignore[attr-defined]
    figures = api.get(f"/api/campaigns/{cid}/results").json()
    assert figures["winner"]["send"] == "B"
    assert figures["winner"]["figures"]["A"]["successes"] == 0
    assert figures["winner"]["reason"].startswith("B beats A")


@pytest.mark.integration
def test_a_campaign_waiting_for_its_winner_does_not_time_out(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    cid, _ = launch_test(api, after_s=3600)
    long_ago = datetime.now(UTC) - timedelta(days=1)
    publish(AudienceResolved(campaign_id=cid, total=10, resolved_at=long_ago))
    drain(worker)
    worker.progress.tick()
    assert api.get(f"/api/campaigns/{cid}").json()["status"] == "running"
