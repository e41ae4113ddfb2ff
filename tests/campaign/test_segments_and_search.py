"""Saved segments: one name each (a 409 with the reason), rename/edit in place; campaign search."""

from __future__ import annotations

import pytest
from campaign_helpers import read_stream, rules_over
from fastapi.testclient import TestClient

from libs.common.testing.pytest_plugin import CleanEnv

pytestmark = pytest.mark.integration


def test_a_second_segment_with_the_same_name_is_refused(api: TestClient) -> None:
    first = api.post("/api/segments", json={"name": "Big spenders", "rules": rules_over(5000)})
    assert first.status_code == 201, first.text
    again = api.post("/api/segments", json={"name": " big SPENDERS ", "rules": rules_over(9)})
    assert again.status_code == 409, again.text
    error = again.json()["error"]
    assert "already exists" in error["message"]
    assert error["details"][0]["field"] == "name"
    assert [s["name"] for s in api.get("/api/segments").json()["items"]] == ["Big spenders"]


def test_a_segment_is_renamed_and_edited_in_place(api: TestClient, clean_env: CleanEnv) -> None:
    one = api.post("/api/segments", json={"name": "One", "rules": rules_over(10)}).json()
    api.post("/api/segments", json={"name": "Two", "rules": rules_over(20)})
    body = {"name": "Renamed", "rules": rules_over(30), "description": "edited"}
    edited = api.put(f"/api/segments/{one['id']}", json=body)
    assert edited.status_code == 200, edited.text
    assert edited.json()["name"] == "Renamed"
    assert edited.json()["description"] == "edited"
    assert edited.json()["rules"]["conditions"][0]["value"] == 30
    assert api.get(f"/api/segments/{one['id']}").json() == edited.json()
    # keeping its own name is fine; taking another segment's name is not
    same = api.put(f"/api/segments/{one['id']}", json={**body, "description": None})
    assert same.status_code == 200, same.text
    assert same.json()["description"] is None
    taken = api.put(f"/api/segments/{one['id']}", json={**body, "name": "two"})
    assert taken.status_code == 409
    assert api.put("/api/segments/seg_nope", json=body).status_code == 404
    saved = [
        e for e in read_stream(clean_env.redis, "campaign_events") if e.TYPE == "segment.saved.v1"
    ]
    assert [e.name for e in saved] == ["One", "Two", "Renamed", "Renamed"]  # type: ignore[attr-defined]


def test_campaigns_are_searched_by_name_without_case(api: TestClient) -> None:
    for name in ("Diwali VIP", "Diwali lapsed", "New arrivals (a.k.a. drop)"):
        body = {"name": name, "segmentRules": rules_over(10), "message": "Hi"}
        assert api.post("/api/campaigns", json=body).status_code == 201

    def names(q: str) -> list[str]:
        response = api.get("/api/campaigns", params={"q": q})
        assert response.status_code == 200, response.text
        return sorted(c["name"] for c in response.json()["items"])

    assert names("diwali") == ["Diwali VIP", "Diwali lapsed"]
    assert names("a.k.a.") == ["New arrivals (a.k.a. drop)"]  # a regex character matches itself
    assert names("  ") == ["Diwali VIP", "Diwali lapsed", "New arrivals (a.k.a. drop)"]
    assert names("nothing like it") == []
