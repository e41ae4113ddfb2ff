"""The campaign API in-process against real Redis and the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from campaign_helpers import entries_of, read_stream, rules_over
from fastapi.testclient import TestClient

from libs.common.testing.pytest_plugin import CleanEnv

pytestmark = pytest.mark.integration


def create(api: TestClient, **overrides: Any) -> Any:
    body = {
        "name": "Big spenders",
        "segmentRules": rules_over(10000),
        "message": "Hi {firstName}, 20% off in {city}!",
        **overrides,
    }
    return api.post("/api/campaigns", json=body)


def test_create_launches_with_normalised_rules_on_the_segment_stream(
    api: TestClient, clean_env: CleanEnv
) -> None:
    response = create(api, tags=["Winback", "winback "], channel="sms")
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert campaign["id"].startswith("cmp_")
    assert campaign["status"] == "launching"
    assert campaign["tags"] == ["winback"]
    assert campaign["sent"] == 0 and campaign["pending"] == 0
    launched = entries_of(clean_env.redis, "segment", "campaign.launched.v1")
    assert len(launched) == 1
    event = launched[0]
    assert event.campaign_id == campaign["id"]  # type: ignore[attr-defined]
    assert event.rules == {  # type: ignore[attr-defined]
        "operator": "AND",
        "conditions": [{"field": "totalSpends", "operator": ">", "value": 10000}],
    }
    assert event.fields == ["firstName", "city"]  # type: ignore[attr-defined]
    assert event.channel == "sms"  # type: ignore[attr-defined]
    created = entries_of(clean_env.redis, "campaign_events", "campaign.created.v1")
    assert [e.campaign_id for e in created] == [campaign["id"]]  # type: ignore[attr-defined]
    assert api.get(f"/api/campaigns/{campaign['id']}").json()["status"] == "launching"


def test_unknown_placeholder_is_a_422_naming_it(api: TestClient) -> None:
    response = create(api, message="Hello {nickname}!")
    assert response.status_code == 422
    error = response.json()["error"]
    assert "nickname" in error["message"]
    assert error["details"]["placeholder"] == "nickname"


@pytest.mark.parametrize(
    "message", ["Hi {name.__class__}", "Hi {0}", "Hi {name!r}", "Hi {name:>10}", "Hi {", "{}"]
)
def test_format_tricks_are_refused_at_create(
    api: TestClient, clean_env: CleanEnv, message: str
) -> None:
    response = create(api, message=message)
    assert response.status_code == 422, response.text
    assert read_stream(clean_env.redis, "segment") == []


@pytest.mark.parametrize(
    "rules",
    [
        {"operator": "AND", "conditions": [{"field": "$where", "operator": "=", "value": "1"}]},
        {
            "operator": "AND",
            "conditions": [{"field": "totalSpends", "operator": ">", "value": {"$gt": ""}}],
        },
        {"operator": "AND", "conditions": [{"field": "name", "operator": "$regex", "value": ".*"}]},
        {"operator": "XOR", "conditions": []},
        {"$where": "sleep(1000)"},
    ],
)
def test_bad_or_injected_rules_are_a_422_with_details(api: TestClient, rules: Any) -> None:
    response = create(api, segmentRules=rules)
    assert response.status_code == 422
    assert response.json()["error"]["details"]


def test_exactly_one_of_rules_or_segment_is_required(api: TestClient) -> None:
    assert create(api, segmentId="seg_x").status_code == 422
    both = api.post("/api/campaigns", json={"name": "x", "message": "Hi"})
    assert both.status_code == 422


def test_campaign_from_a_saved_segment_uses_its_rules(api: TestClient, clean_env: CleanEnv) -> None:
    segment = api.post("/api/segments", json={"name": "VIP", "rules": rules_over(5000)}).json()
    response = api.post(
        "/api/campaigns", json={"name": "VIP", "segmentId": segment["id"], "message": "Hi"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["segmentId"] == segment["id"]
    (event,) = entries_of(clean_env.redis, "segment", "campaign.launched.v1")
    assert event.rules == segment["rules"]  # type: ignore[attr-defined]
    missing = api.post(
        "/api/campaigns", json={"name": "VIP", "segmentId": "seg_nope", "message": "Hi"}
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "segmentId"


def test_a_local_send_time_travels_with_the_launch_and_a_bad_one_is_a_422(
    api: TestClient, clean_env: CleanEnv
) -> None:
    response = create(api, sendAtLocalTime="20:00")
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert campaign["sendAtLocalTime"] == "20:00"
    (event,) = entries_of(clean_env.redis, "segment", "campaign.launched.v1")
    local = event.local_send  # type: ignore[attr-defined]
    assert local.at == "20:00"
    created = datetime.fromisoformat(campaign["createdAt"].replace("Z", "+00:00"))
    assert abs((local.after - created).total_seconds()) < 1  # the launch: fixed for replays
    for bad in ("8pm", "24:00", "20:60", ""):
        refused = create(api, sendAtLocalTime=bad)
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["details"][0]["field"].endswith("sendAtLocalTime")
    assert len(entries_of(clean_env.redis, "segment", "campaign.launched.v1")) == 1


def test_future_schedule_publishes_created_but_does_not_launch(
    api: TestClient, clean_env: CleanEnv
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    campaign = create(api, scheduledAt=later).json()
    assert campaign["status"] == "scheduled"
    assert campaign["scheduledAt"]
    assert read_stream(clean_env.redis, "segment") == []
    assert len(entries_of(clean_env.redis, "campaign_events", "campaign.created.v1")) == 1


@pytest.mark.parametrize(
    ("scheduled_at", "code"),
    [
        (timedelta(minutes=-1), "schedule_in_past"),
        ("0001-01-01T00:00:00Z", "schedule_in_past"),
        (timedelta(days=366), "schedule_too_far"),
    ],
    # the same ids in every collection: pytest-xdist's workers must collect alike
    ids=["a_minute_ago", "year_one", "366_days_ahead"],
)
def test_a_schedule_in_the_past_or_over_a_year_ahead_is_a_422_and_sends_nothing(
    api: TestClient, clean_env: CleanEnv, scheduled_at: timedelta | str, code: str
) -> None:
    if isinstance(scheduled_at, timedelta):
        scheduled_at = (datetime.now(UTC) + scheduled_at).isoformat()
    response = create(api, scheduledAt=scheduled_at)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code
    assert error["details"][0]["field"] == "scheduledAt"
    assert read_stream(clean_env.redis, "segment") == []
    assert api.get("/api/campaigns").json()["total"] == 0


def test_a_launch_to_an_empty_audience_is_a_422_empty_audience(
    api: TestClient, clean_env: CleanEnv, ingest_preview: dict[str, Any]
) -> None:
    ingest_preview["count"] = 0
    response = create(api)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "empty_audience"
    assert ingest_preview["asked"] == [
        {
            "operator": "AND",
            "conditions": [{"field": "totalSpends", "operator": ">", "value": 10000}],
        }
    ]
    assert read_stream(clean_env.redis, "segment") == []
    assert api.get("/api/campaigns").json()["total"] == 0


def test_a_launch_goes_ahead_when_ingest_cannot_count_the_audience(
    api: TestClient, ingest_preview: dict[str, Any]
) -> None:
    ingest_preview.update(count=0, status=503)
    assert create(api).status_code == 201


def test_a_scheduled_campaign_is_not_refused_for_todays_empty_audience(
    api: TestClient, ingest_preview: dict[str, Any]
) -> None:
    ingest_preview["count"] = 0
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert create(api, scheduledAt=later).json()["status"] == "scheduled"


def test_requests_not_from_the_gateway_are_refused(api: TestClient) -> None:
    response = api.get("/api/campaigns", headers={"X-Internal-Token": "wrong"})
    assert response.status_code == 403


def test_list_is_newest_first_and_filters_by_status(api: TestClient) -> None:
    first = create(api, name="first").json()
    second = create(api, name="second").json()
    api.post(f"/api/campaigns/{first['id']}/pause")
    listed = api.get("/api/campaigns").json()
    assert [c["id"] for c in listed["items"]] == [second["id"], first["id"]]
    assert listed["total"] == 2
    paused = api.get("/api/campaigns?status=paused").json()
    assert [c["id"] for c in paused["items"]] == [first["id"]]
    assert api.get("/api/campaigns?status=nonsense").status_code == 422
    page = api.get("/api/campaigns?page=2&pageSize=1").json()
    assert [c["id"] for c in page["items"]] == [first["id"]]


def test_unknown_campaign_is_a_404(api: TestClient) -> None:
    assert api.get("/api/campaigns/cmp_nope").status_code == 404
    assert api.get("/api/campaigns/cmp_nope/realtime").status_code == 404
    assert api.post("/api/campaigns/cmp_nope/pause").status_code == 404


def test_state_machine_refuses_invalid_transitions_with_409(
    api: TestClient, clean_env: CleanEnv
) -> None:
    cid = create(api).json()["id"]
    assert api.post(f"/api/campaigns/{cid}/resume").status_code == 409
    paused = api.post(f"/api/campaigns/{cid}/pause")
    assert paused.json()["status"] == "paused"
    assert paused.json()["statusReason"] == "paused by user"
    assert api.post(f"/api/campaigns/{cid}/pause").status_code == 409
    resumed = api.post(f"/api/campaigns/{cid}/resume").json()
    assert resumed["status"] == "launching"  # the audience is not known yet
    assert "statusReason" not in resumed
    assert api.post(f"/api/campaigns/{cid}/cancel").json()["status"] == "cancelled"
    refused = api.post(f"/api/campaigns/{cid}/resume")
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["status"] == "cancelled"
    types = [e.TYPE for e in read_stream(clean_env.redis, "campaign_events")]
    assert types == [
        "campaign.created.v1",
        "campaign.paused.v1",
        "campaign.resumed.v1",
        "campaign.cancelled.v1",
    ]


def test_segments_crud_publishes_saved_and_deleted(api: TestClient, clean_env: CleanEnv) -> None:
    body = {
        "name": "Lapsed",
        "description": "no visit in 90 days",
        "rules": {
            "conditions": [{"field": "lastVisit", "operator": "inactive_days", "value": "90"}]
        },
    }
    created = api.post("/api/segments", json=body)
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["rules"]["operator"] == "AND"
    assert segment["rules"]["conditions"][0]["value"] == 90
    assert api.get(f"/api/segments/{segment['id']}").json() == segment
    assert api.get("/api/segments").json()["items"] == [segment]
    assert api.delete(f"/api/segments/{segment['id']}").status_code == 204
    assert api.get(f"/api/segments/{segment['id']}").status_code == 404
    assert api.delete(f"/api/segments/{segment['id']}").status_code == 404
    assert api.post("/api/segments", json={"name": "bad", "rules": {"x": 1}}).status_code == 422
    events = read_stream(clean_env.redis, "campaign_events")
    assert [e.TYPE for e in events] == ["segment.saved.v1", "segment.deleted.v1"]
    assert events[0].description == "no visit in 90 days"  # type: ignore[attr-defined]
