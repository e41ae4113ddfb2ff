"""The gateway's own pages: stream admin, merged API docs, the web UI."""

from __future__ import annotations

import pytest

from libs.common.testing.servers import free_port

pytestmark = pytest.mark.integration

ORIGIN = "http://testserver"


def test_stream_overview_shows_length_pending_lag_and_dlq(client, sign_in, clean_env):
    redis = clean_env.redis
    redis.xgroup_create("ingest", "ingest", id="0", mkstream=True)
    for i in range(3):
        redis.xadd("ingest", {"type": "t", "data": str(i), "trace": ""})
    redis.xreadgroup("ingest", "host-1", {"ingest": ">"}, count=2)
    redis.xadd("ingest.dlq", {"type": "t", "data": "bad", "trace": "", "error": "boom"})
    sign_in(client)
    overview = client.get("/api/admin/streams")
    assert overview.status_code == 200
    ingest = next(s for s in overview.json()["streams"] if s["stream"] == "ingest")
    assert ingest["length"] == 3 and ingest["dlq"] == {"stream": "ingest.dlq", "length": 1}
    group = ingest["groups"][0]
    assert (group["name"], group["pending"], group["lag"]) == ("ingest", 2, 1)
    assert group["oldestPendingAgeMs"] >= 0
    assert group["consumers"][0]["name"] == "host-1"
    names = [s["stream"] for s in overview.json()["streams"]]
    assert names == ["ingest", "segment", "send", "receipt", "campaign_events", "consent", "pacing"]


def test_dlq_replay_moves_entries_back_for_signed_in_users_only(
    client, sign_in, create_key, clean_env
):
    redis = clean_env.redis
    redis.xadd("send.dlq", {"type": "t", "data": "{}", "trace": "x", "error": "boom"})
    sign_in(client)
    reader = create_key(client, ["read"])
    as_key = {"Authorization": f"Bearer {reader}"}
    cookies = dict(client.cookies)
    client.cookies.clear()
    assert client.get("/api/admin/streams", headers=as_key).status_code == 200
    assert client.post("/api/admin/streams/send/dlq/replay", headers=as_key).status_code == 403
    for name, value in cookies.items():
        client.cookies.set(name, value)

    replay = client.post("/api/admin/streams/send/dlq/replay", headers={"Origin": ORIGIN})
    assert replay.status_code == 200 and replay.json() == {"replayed": 1}
    assert redis.xlen("send.dlq") == 0
    [(_, fields)] = redis.xrange("send")
    assert fields == {b"type": b"t", b"data": b"{}", b"trace": b"x"}
    unknown = client.post("/api/admin/streams/nope/dlq/replay", headers={"Origin": ORIGIN})
    assert unknown.status_code == 404


def test_api_docs_merge_the_services_and_name_the_ones_that_are_down(make_client, sign_in):
    client = make_client(ai_url=f"http://127.0.0.1:{free_port()}")
    assert client.get("/api/openapi.json").status_code == 401
    sign_in(client)
    doc = client.get("/api/openapi.json").json()
    assert "/api/keys" in doc["paths"] and "/auth/user" in doc["paths"]
    assert "/api/campaigns/{cid}/events" in doc["paths"]  # from the (fake) services
    assert "/healthz" not in doc["paths"]
    assert "ai (" in doc["info"]["description"]
    page = client.get("/api/docs")
    assert page.status_code == 200 and "/api/openapi.json" in page.text
    assert "cdn.jsdelivr.net" in page.headers["content-security-policy"]


def test_the_ui_is_served_with_spa_fallback(make_client, tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>mini crm ui</html>")
    (dist / "assets" / "app.js").write_text("console.log('app')")
    client = make_client(frontend_dir=dist)
    assert "mini crm ui" in client.get("/").text
    deep = client.get("/campaigns/c1/report")
    assert deep.status_code == 200 and "mini crm ui" in deep.text
    asset = client.get("/assets/app.js")
    assert asset.text == "console.log('app')" and "immutable" in asset.headers["cache-control"]
    assert client.get("/api/nothing-here").status_code == 401
    assert client.get("/auth/nothing-here").status_code == 404


def test_without_a_build_the_root_says_how_to_build_the_ui(make_client, tmp_path):
    client = make_client(frontend_dir=tmp_path / "missing")
    page = client.get("/")
    assert page.status_code == 200 and "make frontend" in page.text


def test_readiness_checks_redis_and_the_database(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"redis": True, "mongodb": True}
